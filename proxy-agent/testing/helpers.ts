/**
 * Small shared helpers for proxy-agent's tests: a test PKI (created once per test file), a TCP
 * echo target, a recording logger and a polling wait.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import { createCa, generateKeyPair, issueCert } from '../../certs/index.ts';
import type { CertificateAuthority, IssuedCert } from '../../certs/index.ts';
import { AGENT_ORGANIZATION, GATEWAY_ORGANIZATION, agentCommonName } from '../../protocol/index.ts';
import type { LogFields, Logger, LogLevel } from '../logger.ts';

export interface TestPki {
  readonly ca: CertificateAuthority;
  /** Serving certificate for 127.0.0.1 / localhost. */
  readonly server: IssuedCert;
  /**
   * Certificate of agent `a0` of cluster `c1`: its tunnel client certificate and the agent
   * API's serving certificate (usage server-client, as the hub issues them).
   */
  readonly agent: IssuedCert;
  /** The hub gateway's client certificate (O `spokelink:gateways`), for the agent API. */
  readonly gateway: IssuedCert;
}

/**
 * Creates a CA and server, agent and gateway certificates (two RSA keys, one for the CA and
 * one shared by the leaves: call once per file).
 */
export function createTestPki(cluster = 'c1', agentName = 'a0'): TestPki {
  const ca = createCa({ commonName: 'spokelink test ca' });
  const keyPair = generateKeyPair();
  return {
    ca,
    server: issueCert(ca, {
      commonName: 'proxy-server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      keyPair,
    }),
    agent: issueCert(ca, {
      commonName: agentCommonName(cluster, agentName),
      organizations: [AGENT_ORGANIZATION],
      usage: 'server-client',
      keyPair,
    }),
    gateway: issueCert(ca, {
      commonName: 'spokelink:gateway:test',
      organizations: [GATEWAY_ORGANIZATION],
      usage: 'client',
      keyPair,
    }),
  };
}

/** A TCP server that echoes every byte and half-closes when the client does. */
export interface EchoServer {
  readonly address: string;
  readonly port: number;
  /** Connections currently open on the server side. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startEchoServer(): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    port,
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port with nothing listening (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One recorded log line. */
export interface LogRecord {
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: LogFields;
}

/** A logger that keeps every line, for assertions. */
export function recordingLogger(): Logger & { readonly records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log =
    (level: LogLevel) =>
    (msg: string, fields: LogFields = {}) => {
      records.push({ level, msg, fields });
    };
  return {
    records,
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
  };
}

/** Polls `probe` every `intervalMs` until it returns a value other than undefined or false. */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Reads a stream to its end. */
export async function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
