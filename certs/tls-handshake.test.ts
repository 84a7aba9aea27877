// Certificates are only useful if real TLS stacks accept them: these tests run mutual-TLS
// handshakes over loopback with node:tls (OpenSSL) using certificates issued by certs/.

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';

import { describe, expect, it, onTestFinished } from 'vitest';

import { type CertUsage, createCa, generateKeyPair, type IssuedCert, issueCert } from './index.ts';

const DAY_MS = 86_400_000;

const caKeys = generateKeyPair();
const otherCaKeys = generateKeyPair();
const serverKeys = generateKeyPair();
const clientKeys = generateKeyPair();

const ca = createCa({ commonName: 'spokelink-hub-ca', keyPair: caKeys });
const otherCa = createCa({ commonName: 'intruder-ca', keyPair: otherCaKeys });
const serverCert = serve(ca, 'server');
const clientCert = issueCert(ca, {
  commonName: 'agent-cluster1',
  organizations: ['spokelink:agents'],
  usage: 'client',
  keyPair: clientKeys,
});

function serve(issuer: typeof ca, usage: CertUsage): IssuedCert {
  return issueCert(issuer, {
    commonName: 'proxy-server',
    dnsNames: ['localhost', 'proxy.spokelink.test'],
    ipAddresses: ['127.0.0.1'],
    usage,
    keyPair: serverKeys,
  });
}

interface HandshakeResult {
  /** Client side: the error that failed the handshake, if any. */
  clientError: NodeJS.ErrnoException | undefined;
  /** Server side: how the client certificate was judged, once the handshake completed. */
  server:
    | { isAuthorized: boolean; authorizationError: string | undefined; peerCn: string | undefined }
    | undefined;
}

/**
 * One mTLS handshake on 127.0.0.1: the server asks for a client certificate and checks it
 * against `serverTrusts` (it records the verdict, then rejects an unauthorized client, as
 * `rejectUnauthorized: true` would); the client verifies the server against `clientTrusts`.
 */
async function handshake(opts: {
  server: IssuedCert;
  client: IssuedCert;
  serverTrusts: string;
  clientTrusts: string;
  servername?: string;
}): Promise<HandshakeResult> {
  const result: HandshakeResult = { clientError: undefined, server: undefined };
  const server = createServer({
    cert: opts.server.certPem,
    key: opts.server.keyPem,
    ca: [opts.serverTrusts],
    requestCert: true,
    rejectUnauthorized: false,
  });
  onTestFinished(() => {
    server.close();
  });
  const serverDone = new Promise<void>((resolve) => {
    server.on('tlsClientError', () => resolve());
    server.on('secureConnection', (socket: TLSSocket) => {
      socket.on('error', () => {});
      const error = socket.authorizationError as unknown as Error | string | null;
      result.server = {
        isAuthorized: socket.authorized,
        authorizationError: error === null ? undefined : String(error),
        peerCn: socket.getPeerCertificate().subject?.CN as string | undefined,
      };
      if (socket.authorized) socket.end('hello');
      else socket.destroy();
      resolve();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const socket = connect({
    host: '127.0.0.1',
    port,
    ca: [opts.clientTrusts],
    cert: opts.client.certPem,
    key: opts.client.keyPem,
    ...(opts.servername === undefined ? {} : { servername: opts.servername }),
  });
  onTestFinished(() => {
    socket.destroy();
  });
  const clientDone = new Promise<void>((resolve) => {
    socket.on('error', (err: NodeJS.ErrnoException) => {
      result.clientError ??= err;
      resolve();
    });
    // With TLS 1.3 the client is done before the server has judged its certificate, so wait
    // for the server's data or for the close that follows a rejection.
    socket.on('data', () => resolve());
    socket.on('close', () => resolve());
  });
  await Promise.all([clientDone, serverDone]);
  return result;
}

describe('TLS handshakes with issued certificates', () => {
  it('completes mutual TLS on 127.0.0.1, each side verifying the other against the CA', async () => {
    const result = await handshake({
      server: serverCert,
      client: clientCert,
      serverTrusts: ca.certPem,
      clientTrusts: ca.certPem,
    });
    expect(result.clientError).toBeUndefined();
    expect(result.server).toEqual({
      isAuthorized: true,
      authorizationError: undefined,
      peerCn: 'agent-cluster1',
    });
  });

  it('matches the server certificate by DNS SAN', async () => {
    const result = await handshake({
      server: serverCert,
      client: clientCert,
      serverTrusts: ca.certPem,
      clientTrusts: ca.certPem,
      servername: 'proxy.spokelink.test',
    });
    expect(result.clientError).toBeUndefined();
    expect(result.server?.isAuthorized).toBe(true);
  });

  it('fails the hostname check for a name not in the SANs', async () => {
    const result = await handshake({
      server: serverCert,
      client: clientCert,
      serverTrusts: ca.certPem,
      clientTrusts: ca.certPem,
      servername: 'elsewhere.example',
    });
    expect(result.clientError?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('rejects a client certificate from another CA', async () => {
    const intruder = issueCert(otherCa, {
      commonName: 'agent-cluster1',
      usage: 'client',
      keyPair: clientKeys,
    });
    const result = await handshake({
      server: serverCert,
      client: intruder,
      serverTrusts: ca.certPem,
      clientTrusts: ca.certPem,
    });
    expect(result.server).toEqual({
      isAuthorized: false,
      authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      peerCn: 'agent-cluster1',
    });
  });

  it('rejects a server certificate from another CA', async () => {
    const result = await handshake({
      server: serve(otherCa, 'server'),
      client: clientCert,
      serverTrusts: ca.certPem,
      clientTrusts: ca.certPem,
    });
    expect(result.clientError?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(result.server).toBeUndefined();
  });

  it('rejects a server certificate issued for client use only', async () => {
    const result = await handshake({
      server: serve(ca, 'client'),
      client: clientCert,
      serverTrusts: ca.certPem,
      clientTrusts: ca.certPem,
    });
    expect(result.clientError?.code).toBe('INVALID_PURPOSE');
    expect(result.server).toBeUndefined();
  });

  it('rejects a client certificate issued for server use only', async () => {
    const serverOnly = issueCert(ca, {
      commonName: 'agent-cluster1',
      usage: 'server',
      keyPair: clientKeys,
    });
    const result = await handshake({
      server: serverCert,
      client: serverOnly,
      serverTrusts: ca.certPem,
      clientTrusts: ca.certPem,
    });
    expect(result.server).toMatchObject({
      isAuthorized: false,
      authorizationError: 'INVALID_PURPOSE',
    });
  });

  it('rejects an expired server certificate', async () => {
    const expired = issueCert(ca, {
      commonName: 'proxy-server',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      now: new Date(Date.now() - 10 * DAY_MS),
      validityDays: 1,
      keyPair: serverKeys,
    });
    const result = await handshake({
      server: expired,
      client: clientCert,
      serverTrusts: ca.certPem,
      clientTrusts: ca.certPem,
    });
    expect(result.clientError?.code).toBe('CERT_HAS_EXPIRED');
  });

  it('accepts a server-client certificate on both sides', async () => {
    const both = serve(ca, 'server-client');
    const result = await handshake({
      server: both,
      client: both,
      serverTrusts: ca.certPem,
      clientTrusts: ca.certPem,
    });
    expect(result.clientError).toBeUndefined();
    expect(result.server).toEqual({
      isAuthorized: true,
      authorizationError: undefined,
      peerCn: 'proxy-server',
    });
  });
});
