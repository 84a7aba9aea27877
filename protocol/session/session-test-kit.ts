// Test helpers for the session tests (not exported from protocol/): real loopback transports,
// session pairs, echo acceptors and polling. Imported only by *.test.ts files here.
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import {
  Server,
  ServerCredentials,
  credentials,
  makeGenericClientConstructor,
  type ClientDuplexStream,
  type ServerDuplexStream,
  type handleBidiStreamingCall,
} from '@grpc/grpc-js';
import { afterEach } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';

import { SUPPORTED_EXTENSIONS, type ExtensionName } from '../extensions.ts';
import { loadTunnelServices, type InboundPacket, type OutboundPacket } from '../grpc-services.ts';
import { MAX_PACKET_BYTES } from '../constants.ts';
import { grpcCallTransport } from './grpc-call-transport.ts';
import { TunnelSession } from './tunnel-session.ts';
import type { IncomingDial, PacketTransport, SessionStats, TunnelSessionOptions } from './types.ts';
import { webSocketTransport, type WebSocketTransportOptions } from './web-socket-transport.ts';

export type TransportKind = 'grpc' | 'ws';
export const TRANSPORT_KINDS: readonly TransportKind[] = ['grpc', 'ws'];
export const FULL_EXTENSIONS: ReadonlySet<ExtensionName> = new Set(SUPPORTED_EXTENSIONS);
export const NO_EXTENSIONS: ReadonlySet<ExtensionName> = new Set();

/** Two connected transports: `server` is the listening end, `client` the dialing end. */
export interface TransportPair {
  readonly server: PacketTransport;
  readonly client: PacketTransport;
  /** Force-closes everything (idempotent). */
  readonly dispose: () => Promise<void>;
  /** The underlying WebSockets (ws pairs only), to send what our adapter never would. */
  readonly webSockets?: { readonly client: WebSocket; readonly server: WebSocket };
}

/** A gRPC AgentService.Connect call over insecure loopback, as proxy-server and agent use it. */
async function grpcPair(): Promise<TransportPair> {
  const services = loadTunnelServices();
  const server = new Server({ 'grpc.max_receive_message_length': MAX_PACKET_BYTES });
  let onCall: (call: ServerDuplexStream<InboundPacket, OutboundPacket>) => void = () => {};
  const serverCall = new Promise<ServerDuplexStream<InboundPacket, OutboundPacket>>((resolve) => {
    onCall = resolve;
  });
  server.addService(services.agentServiceServer, {
    Connect: ((call: ServerDuplexStream<InboundPacket, OutboundPacket>) =>
      onCall(call)) as handleBidiStreamingCall<InboundPacket, OutboundPacket>,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err === null ? resolve(p) : reject(err),
    ),
  );
  const Client = makeGenericClientConstructor(services.agentServiceClient, 'AgentService');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_PACKET_BYTES,
    'grpc-node.flow_control_window': 4 * 1024 * 1024,
  });
  const call = (
    client as unknown as { Connect: () => ClientDuplexStream<OutboundPacket, InboundPacket> }
  ).Connect();
  const clientTransport = grpcCallTransport(call);
  const serverTransport = grpcCallTransport(await serverCall);
  return {
    server: serverTransport,
    client: clientTransport,
    dispose: async () => {
      clientTransport.destroy();
      serverTransport.destroy();
      client.close();
      server.forceShutdown();
    },
  };
}

/** A WebSocket over plain ws:// on 127.0.0.1:0. */
/** Transport tuning for tests. */
export interface TransportPairOptions {
  readonly ws?: WebSocketTransportOptions;
}

async function wsPair(options: TransportPairOptions): Promise<TransportPair> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX_PACKET_BYTES });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, {
    maxPayload: MAX_PACKET_BYTES,
    perMessageDeflate: false,
  });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const serverWs = await serverSide;
  const clientTransport = webSocketTransport(ws, options.ws);
  const serverTransport = webSocketTransport(serverWs, options.ws);
  return {
    server: serverTransport,
    client: clientTransport,
    webSockets: { client: ws, server: serverWs },
    dispose: async () => {
      clientTransport.destroy();
      serverTransport.destroy();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export function connectTransports(
  kind: TransportKind,
  options: TransportPairOptions = {},
): Promise<TransportPair> {
  return kind === 'grpc' ? grpcPair() : wsPair(options);
}

/** A dialer session on the server end and an acceptor on the client end (AgentService roles). */
export interface SessionPair {
  readonly dialer: TunnelSession;
  readonly acceptor: TunnelSession;
  readonly transports: TransportPair;
  readonly dispose: () => Promise<void>;
}

export interface SessionPairOptions {
  readonly extensions?: ReadonlySet<ExtensionName>;
  readonly onDial?: (dial: IncomingDial) => void;
  readonly transport?: TransportPairOptions;
  /** Per-side overrides (an `extensions` here beats the shared one: for asymmetric tests). */
  readonly dialer?: Partial<Omit<TunnelSessionOptions, 'transport' | 'role'>>;
  readonly acceptor?: Partial<Omit<TunnelSessionOptions, 'transport' | 'role'>>;
}

export async function sessionPair(
  kind: TransportKind,
  options: SessionPairOptions = {},
): Promise<SessionPair> {
  const transports = await connectTransports(kind, options.transport);
  const extensions = options.extensions ?? FULL_EXTENSIONS;
  const dialer = new TunnelSession({
    transport: transports.server,
    role: 'dialer',
    extensions,
    label: `${kind} dialer`,
    ...options.dialer,
  });
  const acceptor = new TunnelSession({
    transport: transports.client,
    role: 'acceptor',
    extensions,
    label: `${kind} acceptor`,
    ...(options.onDial === undefined ? {} : { onDial: options.onDial }),
    ...options.acceptor,
  });
  return {
    dialer,
    acceptor,
    transports,
    dispose: async () => {
      dialer.destroy();
      acceptor.destroy();
      await transports.dispose();
    },
  };
}

/**
 * For a test file: returns a `sessionPair` whose pairs are disposed after each test (registers
 * the `afterEach` hook; call it once, at the top level of the file).
 */
export function disposedAfterEach(): (
  ...args: Parameters<typeof sessionPair>
) => Promise<SessionPair> {
  let pairs: SessionPair[] = [];
  afterEach(async () => {
    await Promise.all(pairs.map((p) => p.dispose()));
    pairs = [];
  });
  return async (...args) => {
    const p = await sessionPair(...args);
    pairs.push(p);
    return p;
  };
}

/** onDial that accepts and echoes every byte back (ending when the peer ends). */
export function echoAcceptor(dial: IncomingDial): void {
  const stream = dial.accept();
  stream.on('error', () => {});
  stream.pipe(stream);
}

/** Reads a stream to its end; rejects on 'error'. */
export function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Reads exactly `n` bytes (more is an error), leaving the stream open. */
export function readBytes(stream: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      got += chunk.length;
      if (got < n) return;
      stream.off('data', onData);
      stream.off('error', reject);
      stream.pause();
      if (got > n) reject(new Error(`read ${got} bytes, expected ${n}`));
      else resolve(Buffer.concat(chunks));
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}

/** Reads a stream to its end and returns the byte count and SHA-256 (no concatenation). */
export function hashAll(stream: Duplex): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    stream.once('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    stream.once('error', reject);
  });
}

/** Writes `data` in `chunk`-byte pieces, honouring backpressure, then ends the stream. */
export function writeAllThenEnd(stream: Duplex, data: Buffer, chunk = 64 * 1024): void {
  let offset = 0;
  const pump = (): void => {
    while (offset < data.length) {
      const ok = stream.write(data.subarray(offset, offset + chunk));
      offset += chunk;
      if (!ok) return;
    }
    stream.end();
  };
  stream.on('drain', pump);
  pump();
}

/** What {@link hashAll} resolves with for `data`. */
export function digestOf(data: Buffer): { bytes: number; sha256: string } {
  return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Polls `check` every few ms until it returns true; throws with `what` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean,
  what: string | (() => string),
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** True when nothing is left in a session: no streams, no dials, no buffered bytes. */
export function isIdle(stats: SessionStats): boolean {
  return stats.openStreams === 0 && stats.pendingDials === 0 && stats.bufferedBytes === 0;
}

/** Waits until both sessions of a pair are idle (see {@link isIdle}). */
export function waitIdle(pair: SessionPair, timeoutMs = 5_000): Promise<void> {
  return waitFor(
    () => isIdle(pair.dialer.stats()) && isIdle(pair.acceptor.stats()),
    () =>
      `idle sessions: dialer ${JSON.stringify(pair.dialer.stats())}, acceptor ${JSON.stringify(pair.acceptor.stats())}`,
    timeoutMs,
  );
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
