/**
 * Minimal peers for proxy-server's tests, built directly from protocol/ (never proxy-agent/):
 * an agent over gRPC or WebSocket whose TunnelSession accepts dials and echoes (or answers as
 * told), and a raw ProxyService frontend that dials through the server.
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream';

import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';

import {
  EXTENSIONS_METADATA_KEY,
  MAX_PACKET_BYTES,
  METADATA_KEYS,
  SUPPORTED_EXTENSIONS,
  TunnelSession,
  formatExtensions,
  grpcCallTransport,
  loadTunnelServices,
  negotiateExtensions,
  parseExtensions,
  webSocketTransport,
} from '../../protocol/index.ts';
import type {
  ExtensionName,
  IncomingDial,
  InboundPacket,
  OutboundPacket,
  PacketTransport,
} from '../../protocol/index.ts';

/** Client certificate material. */
export interface PeerTls {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

/** Options of {@link connectTestAgent}. */
export interface TestAgentOptions {
  readonly transport: 'grpc' | 'websocket';
  /** `host:port` (gRPC) or `wss://host:port/tunnel`. */
  readonly address: string;
  readonly tls: PeerTls;
  readonly agentId: string;
  readonly identifiers?: string;
  /** Announced; default all. */
  readonly extensions?: readonly ExtensionName[];
  /** Default: accept and echo. */
  readonly onDial?: (dial: IncomingDial) => void;
}

/** A connected test agent. */
export interface TestAgent {
  readonly session: TunnelSession;
  /** Server hello. */
  readonly serverId: string;
  readonly serverCount: string;
  readonly serverExtensions: string;
  /** Addresses of every DIAL_REQ received, in order. */
  readonly dials: string[];
  /** Resolves when the tunnel closed, with its error if any. */
  readonly closed: Promise<Error | undefined>;
}

/** Why the server refused a test agent (or frontend). */
export interface Refusal {
  /** gRPC status code, or HTTP status (0 when the TLS handshake failed). */
  readonly code: number;
  readonly message: string;
}

/** Accepts a dial and echoes everything back (half-close aware). */
export function echoDial(dial: IncomingDial): void {
  const stream = dial.accept();
  pipeline(stream, stream, () => {});
}

const AgentClient = grpc.makeGenericClientConstructor(
  loadTunnelServices().agentServiceClient as unknown as grpc.ServiceDefinition,
  'AgentService',
);
const ProxyClient = grpc.makeGenericClientConstructor(
  loadTunnelServices().proxyServiceClient as unknown as grpc.ServiceDefinition,
  'ProxyService',
);

// The server certificate names localhost too; using it as the TLS name avoids Node's warning
// about IP addresses in SNI.
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_PACKET_BYTES,
  'grpc.ssl_target_name_override': 'localhost',
};

type BidiCall = grpc.ClientDuplexStream<OutboundPacket, InboundPacket>;

function grpcCredentials(tls: PeerTls): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(tls.caPem),
    Buffer.from(tls.keyPem),
    Buffer.from(tls.certPem),
  );
}

function startSession(
  transport: PacketTransport,
  options: TestAgentOptions,
  hello: { serverId: string; serverCount: string; serverExtensions: string },
  dials: string[],
): TestAgent {
  const onDial = options.onDial ?? echoDial;
  const session = new TunnelSession({
    transport,
    role: 'acceptor',
    extensions: negotiateExtensions(
      options.extensions ?? SUPPORTED_EXTENSIONS,
      parseExtensions(hello.serverExtensions),
    ),
    onDial: (dial) => {
      dials.push(dial.address);
      onDial(dial);
    },
    label: `test agent ${options.agentId}`,
  });
  const closed = new Promise<Error | undefined>((resolve) => session.once('close', resolve));
  return { session, ...hello, dials, closed };
}

/**
 * Connects a test agent. Resolves once the server hello arrived and the session runs; rejects
 * with a {@link Refusal}-shaped error (`code`, `message`) when the server refuses.
 */
export function connectTestAgent(options: TestAgentOptions): Promise<TestAgent> {
  return options.transport === 'grpc' ? connectGrpc(options) : connectWebSocket(options);
}

function connectGrpc(options: TestAgentOptions): Promise<TestAgent> {
  const client = new AgentClient(options.address, grpcCredentials(options.tls), CHANNEL_OPTIONS);
  const metadata = new grpc.Metadata();
  metadata.set(METADATA_KEYS.agentId, options.agentId);
  if (options.identifiers !== undefined)
    metadata.set(METADATA_KEYS.agentIdentifiers, options.identifiers);
  const announced = formatExtensions(options.extensions ?? SUPPORTED_EXTENSIONS);
  if (announced !== '') metadata.set(EXTENSIONS_METADATA_KEY, announced);
  const call = (client as unknown as { Connect(md: grpc.Metadata): BidiCall }).Connect(metadata);
  return new Promise((resolve, reject) => {
    let agent: TestAgent | undefined;
    const onError = (err: grpc.ServiceError): void => {
      client.close();
      if (agent === undefined) reject(Object.assign(new Error(err.details), { code: err.code }));
    };
    call.on('error', onError);
    call.once('metadata', (md: grpc.Metadata) => {
      const text = (key: string): string => String(md.get(key)[0] ?? '');
      const transport = grpcCallTransport(call);
      call.off('error', onError);
      agent = startSession(
        transport,
        options,
        {
          serverId: text(METADATA_KEYS.serverId),
          serverCount: text(METADATA_KEYS.serverCount),
          serverExtensions: text(EXTENSIONS_METADATA_KEY),
        },
        [],
      );
      void agent.closed.then(() => client.close());
      resolve(agent);
    });
  });
}

function connectWebSocket(options: TestAgentOptions): Promise<TestAgent> {
  const headers: Record<string, string> = { [METADATA_KEYS.agentId]: options.agentId };
  if (options.identifiers !== undefined)
    headers[METADATA_KEYS.agentIdentifiers] = options.identifiers;
  const announced = formatExtensions(options.extensions ?? SUPPORTED_EXTENSIONS);
  if (announced !== '') headers[EXTENSIONS_METADATA_KEY] = announced;
  const ws = new WebSocket(options.address, {
    ca: options.tls.caPem,
    cert: options.tls.certPem,
    key: options.tls.keyPem,
    headers,
    perMessageDeflate: false,
    maxPayload: MAX_PACKET_BYTES,
  });
  return new Promise((resolve, reject) => {
    let hello = { serverId: '', serverCount: '', serverExtensions: '' };
    const onError = (err: Error): void => reject(Object.assign(err, { code: 0 }));
    ws.on('error', onError);
    ws.once('upgrade', (res: IncomingMessage) => {
      const header = (key: string): string => String(res.headers[key.toLowerCase()] ?? '');
      hello = {
        serverId: header(METADATA_KEYS.serverId),
        serverCount: header(METADATA_KEYS.serverCount),
        serverExtensions: header(EXTENSIONS_METADATA_KEY),
      };
    });
    ws.once('unexpected-response', (req, res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        reject(Object.assign(new Error(body), { code: res.statusCode ?? 0, headers: res.headers }));
        req.destroy();
      });
    });
    ws.once('open', () => {
      const transport = webSocketTransport(ws);
      ws.off('error', onError);
      resolve(startSession(transport, options, hello, []));
    });
  });
}

/** Connects expecting a refusal; resolves with it (fails the test if the agent got in). */
export async function expectRefusal(options: TestAgentOptions): Promise<Refusal> {
  try {
    const agent = await connectTestAgent(options);
    agent.session.destroy();
  } catch (err) {
    const { code, message } = err as { code?: unknown; message: string };
    return { code: typeof code === 'number' ? code : -1, message };
  }
  throw new Error(`agent ${options.agentId} was accepted`);
}

/** Options of {@link openTestFrontend}. */
export interface TestFrontendOptions {
  /** `host:port` of ProxyService. */
  readonly address: string;
  readonly tls: PeerTls;
  /** Announced; default all; [] = a plain ANP (konnectivity) client. */
  readonly extensions?: readonly ExtensionName[];
  /** Explicit cluster metadata (`spokelink-cluster`). */
  readonly cluster?: string;
}

/** A raw ProxyService call with a TunnelSession as dialer. */
export interface TestFrontend {
  readonly session: TunnelSession;
  close(): Promise<void>;
}

/** Opens one ProxyService call; resolves once the server's headers arrived. */
export function openTestFrontend(options: TestFrontendOptions): Promise<TestFrontend> {
  const client = new ProxyClient(options.address, grpcCredentials(options.tls), CHANNEL_OPTIONS);
  const metadata = new grpc.Metadata();
  const announced = formatExtensions(options.extensions ?? SUPPORTED_EXTENSIONS);
  if (announced !== '') metadata.set(EXTENSIONS_METADATA_KEY, announced);
  if (options.cluster !== undefined) metadata.set('spokelink-cluster', options.cluster);
  const call = (client as unknown as { Proxy(md: grpc.Metadata): BidiCall }).Proxy(metadata);
  return new Promise((resolve, reject) => {
    const onError = (err: grpc.ServiceError): void => {
      client.close();
      reject(Object.assign(new Error(err.details), { code: err.code }));
    };
    call.on('error', onError);
    call.once('metadata', (md: grpc.Metadata) => {
      const transport = grpcCallTransport(call);
      call.off('error', onError);
      const session = new TunnelSession({
        transport,
        role: 'dialer',
        extensions: negotiateExtensions(
          options.extensions ?? SUPPORTED_EXTENSIONS,
          parseExtensions(md.get(EXTENSIONS_METADATA_KEY)),
        ),
        label: 'test frontend',
      });
      session.once('close', () => client.close());
      resolve({
        session,
        close: async () => {
          await session.close();
        },
      });
    });
  });
}
