/**
 * Test helpers playing the hub's cluster gateway against an agent's `agent-api` target: dial
 * through a tunnel session, TLS with a client certificate (verifying the agent's certificate
 * against the CA and its CN), then HTTP/1.1 through an `http.Agent` with keep-alive.
 */
import { Agent, request } from 'node:http';
import type { ClientRequestArgs, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect } from 'node:tls';
import type { PeerCertificate, TLSSocket } from 'node:tls';

import type { TunnelSessionApi } from '../../protocol/index.ts';

export interface GatewayTls {
  /** CA that must have issued the agent's certificate. */
  readonly caPem: string;
  /** The gateway's client certificate; omit to connect without one. */
  readonly certPem?: string;
  readonly keyPem?: string;
  /** The CN the agent's certificate must carry. */
  readonly agentCommonName: string;
}

/** Dials `agent-api:443` on `session` and completes TLS; rejects on a handshake failure. */
export async function connectAgentApi(
  session: TunnelSessionApi,
  tls: GatewayTls,
): Promise<TLSSocket> {
  const stream = await session.dial('agent-api:443');
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = connect({
      socket: stream,
      ca: tls.caPem,
      ...(tls.certPem === undefined ? {} : { cert: tls.certPem }),
      ...(tls.keyPem === undefined ? {} : { key: tls.keyPem }),
      ALPNProtocols: ['http/1.1'],
      // The agent's certificate names the agent, not a host: check the CN instead.
      checkServerIdentity: (_host: string, cert: PeerCertificate) =>
        cert.subject.CN === tls.agentCommonName
          ? undefined
          : new Error(`unexpected agent certificate CN ${cert.subject.CN}`),
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

/** An http.Agent (keep-alive, one connection) whose connections are agent-api TLS sockets. */
export class GatewayAgent extends Agent {
  readonly #connect: () => Promise<Duplex>;
  /** Connections opened so far. */
  connectionsOpened = 0;

  constructor(connectAgentApiSocket: () => Promise<Duplex>) {
    super({ keepAlive: true, maxSockets: 1 });
    this.#connect = connectAgentApiSocket;
  }

  override createConnection(
    _options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    this.connectionsOpened += 1;
    this.#connect().then(
      (socket) => callback?.(null, socket),
      (err: unknown) =>
        callback?.(err instanceof Error ? err : new Error(String(err)), undefined as never),
    );
    return undefined;
  }
}

export interface GatewayResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request through `agent`; resolves with the whole response. */
export function gatewayRequest(
  agent: Agent,
  options: { method?: string; path: string; headers?: OutgoingHttpHeaders; body?: Buffer },
): Promise<GatewayResponse> {
  return new Promise((resolve, reject) => {
    const req = request({
      agent,
      host: 'agent-api',
      method: options.method ?? 'GET',
      path: options.path,
      headers: options.headers ?? {},
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.end(options.body);
  });
}

/** Reads from `socket` until a full HTTP head (`\r\n\r\n`) has arrived; returns it and the rest. */
export function readHead(socket: Duplex): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      cleanup();
      socket.pause();
      resolve({
        head: buffered.subarray(0, end).toString(),
        rest: buffered.subarray(end + 4),
      });
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`connection ended before a full head: ${buffered.toString()}`));
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', reject);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', reject);
  });
}
