/**
 * gRPC service definitions for ProxyService.Proxy and AgentService.Connect, loaded with
 * @grpc/proto-loader from proto/*.proto (so paths and streaming flags come from the same files
 * as the codec's schema) and wired to this folder's codec instead of protobufjs objects.
 */
import { Buffer } from 'node:buffer';
import { fileURLToPath } from 'node:url';

import type { MethodDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

import { encodePacket, tryDecodePacket } from './codec.ts';
import { ProtocolError } from './errors.ts';
import type { DecodedPacket, Packet } from './packet.ts';

/** Absolute path of the folder holding client.proto and agent.proto (the include dir). */
export const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));

/** gRPC full method path of the frontend service; equal to ANP's (no proto package). */
export const PROXY_METHOD_PATH = '/ProxyService/Proxy';

/** gRPC full method path of the agent service; equal to ANP's (no proto package). */
export const CONNECT_METHOD_PATH = '/AgentService/Connect';

/**
 * What the deserializer yields for each received message: the decoded packet, or the
 * ProtocolError explaining why it is invalid. Errors are delivered, not thrown, so the session
 * decides whether to reset one stream (`error.streamId`) or close the tunnel, instead of
 * grpc-js failing the whole call.
 */
export type InboundPacket = DecodedPacket | ProtocolError;

/**
 * What may be written to a call: a packet (encoded on write) or bytes already produced by
 * {@link encodePacket} (written as they are, e.g. when the caller encoded to count bytes).
 */
export type OutboundPacket = Packet | Uint8Array;

// Type aliases, not interfaces: grpc-js's ServiceDefinition has an index signature, which only
// object type aliases satisfy implicitly.

/** ProxyService definition; `Read`/`Write` are what the holder reads and writes. */
export type ProxyServiceDefinition<Read, Write> = {
  readonly Proxy: MethodDefinition<Read, Write>;
};

/** AgentService definition; `Read`/`Write` are what the holder reads and writes. */
export type AgentServiceDefinition<Read, Write> = {
  readonly Connect: MethodDefinition<Read, Write>;
};

/**
 * The two services, typed for each side. Server views go to `server.addService(def, impl)`;
 * client views to `makeGenericClientConstructor(def, name)`. Both use the same functions: the
 * views differ only in their TypeScript types.
 */
export interface TunnelServices {
  /** For the proxy-server's frontend listener: the handler reads InboundPacket, writes Packet. */
  readonly proxyServiceServer: ProxyServiceDefinition<InboundPacket, OutboundPacket>;
  /** For frontends (hub clients): the call writes Packet, reads InboundPacket. */
  readonly proxyServiceClient: ProxyServiceDefinition<OutboundPacket, InboundPacket>;
  /** For the proxy-server's agent listener. */
  readonly agentServiceServer: AgentServiceDefinition<InboundPacket, OutboundPacket>;
  /** For the agent, which is the gRPC client of Connect. */
  readonly agentServiceClient: AgentServiceDefinition<OutboundPacket, InboundPacket>;
}

function serialize(value: OutboundPacket | InboundPacket): Buffer {
  if (value instanceof ProtocolError) {
    throw new ProtocolError('PROTO_ERR_INVALID_FIELD', 'cannot send a ProtocolError as a packet');
  }
  if (value instanceof Uint8Array) {
    return Buffer.isBuffer(value)
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.length);
  }
  return encodePacket(value as Packet); // rejects UnknownPacket (type 'UNKNOWN')
}

function deserialize(bytes: Buffer): InboundPacket {
  return tryDecodePacket(bytes);
}

interface LoadedMethod {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly originalName?: string;
}

function method<Read, Write>(
  loaded: LoadedMethod,
  expectedPath: string,
): MethodDefinition<Read, Write> {
  if (loaded.path !== expectedPath || !loaded.requestStream || !loaded.responseStream) {
    throw new ProtocolError(
      'PROTO_ERR_MALFORMED',
      `proto files define ${loaded.path} (bidi ${loaded.requestStream}/${loaded.responseStream}), expected bidi ${expectedPath}`,
    );
  }
  return {
    path: loaded.path,
    requestStream: true,
    responseStream: true,
    originalName: loaded.originalName ?? '',
    requestSerialize: serialize,
    requestDeserialize: deserialize as (bytes: Buffer) => Read,
    responseSerialize: serialize,
    responseDeserialize: deserialize as (bytes: Buffer) => Write,
  } as MethodDefinition<Read, Write>;
}

let cached: TunnelServices | undefined;

/**
 * Loads proto/client.proto and proto/agent.proto once (synchronously, first call only) and
 * returns the service definitions wired to {@link encodePacket} / {@link tryDecodePacket}.
 * Checks that the method paths equal ANP's. Safe to call repeatedly; returns the same object.
 */
export function loadTunnelServices(): TunnelServices {
  if (cached !== undefined) return cached;
  const pkg = loadSync(['client.proto', 'agent.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
  });
  const proxy = pkg['ProxyService'] as unknown as Record<string, LoadedMethod> | undefined;
  const agent = pkg['AgentService'] as unknown as Record<string, LoadedMethod> | undefined;
  if (proxy?.['Proxy'] === undefined || agent?.['Connect'] === undefined) {
    throw new ProtocolError(
      'PROTO_ERR_MALFORMED',
      `proto files in ${PROTO_DIR} do not define ProxyService.Proxy and AgentService.Connect`,
    );
  }
  cached = {
    proxyServiceServer: { Proxy: method(proxy['Proxy'], PROXY_METHOD_PATH) },
    proxyServiceClient: { Proxy: method(proxy['Proxy'], PROXY_METHOD_PATH) },
    agentServiceServer: { Connect: method(agent['Connect'], CONNECT_METHOD_PATH) },
    agentServiceClient: { Connect: method(agent['Connect'], CONNECT_METHOD_PATH) },
  };
  return cached;
}
