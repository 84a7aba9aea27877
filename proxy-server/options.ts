/**
 * ProxyServerOptions, their defaults and validateOptions(). Everything the server reads from
 * its options goes through {@link validateOptions} first, so the rest of the folder works on a
 * complete, checked {@link ResolvedOptions}.
 */
import { randomUUID } from 'node:crypto';

import { assertKeyMatchesCertificate, parseCertificate, splitPemBundle } from '../certs/index.ts';
import { SUPPORTED_EXTENSIONS } from '../protocol/index.ts';
import type { ExtensionName } from '../protocol/index.ts';

import {
  DEFAULT_AGENT_ADMISSION_BURST,
  DEFAULT_AGENT_ADMISSION_RATE,
} from './agent-listener/admission-rate-limiter.ts';
import type { AgentAdmissionRate } from './agent-listener/admission-rate-limiter.ts';
import { DEFAULT_MAX_PENDING_HANDSHAKES } from './agent-listener/handshake-guard.ts';
import { ServerError, errorMessage } from './errors.ts';
import { resolveGatewayOptions } from './gateway/gateway-options.ts';
import type { GatewayOptions, ResolvedGatewayOptions } from './gateway/gateway-options.ts';
import { createJsonLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import type { RegistrationBackend } from './registration/index.ts';
import type { AgentIdentity } from './sessions/index.ts';

/** Default DIAL_RSP wait for a dial sent to an agent, in ms (konnectivity-client's backstop). */
export const DEFAULT_AGENT_DIAL_TIMEOUT_MS = 30_000;
/** Default time close() lets streams finish before it destroys what is left, in ms. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 15_000;
/** Default bind address of every listener: loopback, so nothing is exposed by accident. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';
/** Largest header block of a CONNECT request, in bytes (Node's maxHeaderSize). */
export const MAX_CONNECT_HEADER_BYTES = 16 * 1024;
/** Largest serverCount accepted; matches protocol's parseServerCount. */
export const MAX_SERVER_COUNT = 10_000;

const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_SERVER_ID_LENGTH = 256;

/** Where one listener binds. */
export interface ListenOptions {
  /** Bind address; default {@link DEFAULT_LISTEN_HOST}. */
  host?: string;
  /** TCP port; default 0 (an ephemeral port, read it back from `ProxyServer.addresses`). */
  port?: number;
  /** `connect` only: serve HTTP CONNECT over TLS (server certificate only, no client cert). */
  tls?: boolean;
}

/** Options of `startProxyServer`. Only `tls` is required. */
export interface ProxyServerOptions {
  /** This replica's id, sent to agents as `serverID`; default a random UUID. */
  serverId?: string;
  /** Number of replicas, sent to agents as `serverCount`; default 1. */
  serverCount?: number;
  /**
   * The serving certificate (its SANs must name the addresses agents and frontends dial), its
   * key, and the CA that signs agent and frontend client certificates. PEM.
   */
  tls: { certPem: string; keyPem: string; caPem: string };
  /** Each listener defaults to `{ host: '127.0.0.1', port: 0 }`; `false` disables it. */
  listen?: {
    /** AgentService.Connect over gRPC, mTLS. */
    agentGrpc?: ListenOptions | false;
    /** `wss://host:port/tunnel`, mTLS, one packet per binary message. */
    agentWebSocket?: ListenOptions | false;
    /** ProxyService.Proxy over gRPC, mTLS with a client certificate from the CA. */
    frontendGrpc?: ListenOptions | false;
    /**
     * `wss://host:port/frontend`, mTLS as frontendGrpc: one WebSocket per client carries many
     * streams for many clusters (dial addresses `<cluster>_<host>:<port>`).
     */
    frontendWebSocket?: ListenOptions | false;
    /** HTTP CONNECT; plain HTTP/1.1 unless `tls: true`. Unauthenticated: keep it on loopback. */
    connect?: ListenOptions | false;
    /** Plain HTTP: /healthz, /readyz, /metrics. */
    health?: ListenOptions | false;
  };
  /** Server→agent DIAL_RSP wait, ms; default {@link DEFAULT_AGENT_DIAL_TIMEOUT_MS}. */
  agentDialTimeoutMs?: number;
  /** Extensions announced to agents and frontends; default SUPPORTED_EXTENSIONS ([] = plain ANP). */
  extensions?: readonly ExtensionName[];
  /** close(): how long streams may take to finish before they are destroyed; default 15 s. */
  shutdownTimeoutMs?: number;
  /** Default: JSON lines on stderr at level info. */
  logger?: Logger;
  /**
   * The cluster gateway (`https://host:port/clusters/<cluster>/…`, served with `tls.certPem`):
   * off unless set. See gateway/gateway-options.ts and README "Cluster gateway".
   */
  gateway?: GatewayOptions;
  /**
   * The registration API (`https://host:port/registration/v1/…`, served with `tls.certPem`;
   * protocol/registration.ts): off unless set. The backend (the hub) decides everything.
   */
  registration?: RegistrationOptions;
  /**
   * Admission of authenticated agents, before their tunnel is accepted: return normally to
   * admit, throw (any error) to refuse — the agent gets `SERVER_ERR_AGENT_NOT_ADMITTED`
   * (PERMISSION_DENIED / 403) with the error's message. Synchronous: decide from a cache
   * (the hub keeps one of its ManagedClusters). Default: admit every authenticated agent.
   */
  admitAgent?: (identity: AgentIdentity) => void;
  /**
   * Handshake admission rate limiting: a token bucket on new agent tunnels (both transports),
   * checked before authentication. An agent that finds it empty is refused with gRPC
   * RESOURCE_EXHAUSTED or HTTP 503 + `Retry-After` naming a retry slot. In front of TLS, at
   * most `maxPendingHandshakes` handshakes run at once per listener; connections beyond are
   * closed unanswered. Default `{ perSecond: DEFAULT_AGENT_ADMISSION_RATE, burst:
   * DEFAULT_AGENT_ADMISSION_BURST, maxPendingHandshakes: DEFAULT_MAX_PENDING_HANDSHAKES }`;
   * `false` turns both off.
   */
  agentAdmissionRate?: AgentAdmissionRate | false;
}

/** `ProxyServerOptions.registration`. */
export interface RegistrationOptions {
  /** Default `{ host: '127.0.0.1', port: 0 }`. Always HTTPS (`tls` may not be set). */
  listen?: ListenOptions;
  backend: RegistrationBackend;
}

/** Names of the listeners, as in `ProxyServerOptions.listen`. */
export type ListenerName =
  'agentGrpc' | 'agentWebSocket' | 'frontendGrpc' | 'frontendWebSocket' | 'connect' | 'health';

/** A listener's checked bind address. */
export interface ResolvedListen {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

/** Options after {@link validateOptions}: complete and checked. */
export interface ResolvedOptions {
  readonly serverId: string;
  readonly serverCount: number;
  readonly tls: { readonly certPem: string; readonly keyPem: string; readonly caPem: string };
  readonly listen: Readonly<Record<ListenerName, ResolvedListen | false>>;
  readonly agentDialTimeoutMs: number;
  readonly extensions: readonly ExtensionName[];
  readonly shutdownTimeoutMs: number;
  readonly logger: Logger;
  /** Undefined when the gateway is off. */
  readonly gateway: ResolvedGatewayOptions | undefined;
  /** Undefined when the registration API is off. */
  readonly registration:
    { readonly listen: ResolvedListen; readonly backend: RegistrationBackend } | undefined;
  readonly admitAgent: ((identity: AgentIdentity) => void) | undefined;
  /** Undefined when agent admission is not rate limited. */
  readonly agentAdmissionRate: Readonly<Required<AgentAdmissionRate>> | undefined;
}

const LISTENER_NAMES: readonly ListenerName[] = [
  'agentGrpc',
  'agentWebSocket',
  'frontendGrpc',
  'frontendWebSocket',
  'connect',
  'health',
];

function invalid(message: string, cause?: unknown): ServerError {
  return new ServerError(
    'SERVER_ERR_INVALID_OPTIONS',
    `invalid options: ${message}`,
    cause === undefined ? {} : { cause },
  );
}

function positiveMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw invalid(`${name} must be an integer number of ms in 1..${MAX_TIMER_MS}, got ${value}`);
  }
  return value;
}

function resolveListen(
  name: ListenerName | 'registration',
  value: ListenOptions | false | undefined,
): ResolvedListen | false {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw invalid(`listen.${name} must be an object or false`);
  }
  const host = value?.host ?? DEFAULT_LISTEN_HOST;
  const port = value?.port ?? 0;
  const tls = value?.tls ?? false;
  if (typeof host !== 'string' || host.length === 0 || /[\s/]/.test(host)) {
    throw invalid(
      `listen.${name}.host must be a host name or IP address, got ${JSON.stringify(host)}`,
    );
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalid(`listen.${name}.port must be an integer in 0..65535, got ${port}`);
  }
  if (typeof tls !== 'boolean') throw invalid(`listen.${name}.tls must be a boolean`);
  if (tls && name !== 'connect') {
    throw invalid(
      `listen.${name}.tls: only the connect listener has a TLS switch (agent and frontend listeners always use mTLS, health never does)`,
    );
  }
  return { host, port, tls };
}

function checkTls(tls: ProxyServerOptions['tls'] | undefined): ResolvedOptions['tls'] {
  if (typeof tls !== 'object' || tls === null)
    throw invalid('tls { certPem, keyPem, caPem } is required');
  const { certPem, keyPem, caPem } = tls;
  for (const [name, pem] of [
    ['certPem', certPem],
    ['keyPem', keyPem],
    ['caPem', caPem],
  ] as const) {
    if (typeof pem !== 'string' || pem.length === 0)
      throw invalid(`tls.${name} must be a non-empty PEM string`);
  }
  try {
    assertKeyMatchesCertificate(certPem, keyPem);
  } catch (err) {
    throw invalid(`tls.certPem/keyPem: ${errorMessage(err)}`, err);
  }
  try {
    const cas = splitPemBundle(caPem);
    if (cas.length === 0) throw new Error('no certificate in the bundle');
    for (const pem of cas) {
      if (!parseCertificate(pem).isCa) throw new Error('a certificate in the bundle is not a CA');
    }
  } catch (err) {
    throw invalid(`tls.caPem: ${errorMessage(err)}`, err);
  }
  return { certPem, keyPem, caPem };
}

/**
 * Fills in defaults and checks every option; pure apart from generating a random serverId and
 * the default logger. Throws ServerError `SERVER_ERR_INVALID_OPTIONS` naming the bad option
 * (with the certs/ error in `cause` for unusable PEMs).
 */
export function validateOptions(options: ProxyServerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  const serverId = options.serverId ?? randomUUID();
  if (
    typeof serverId !== 'string' ||
    serverId.length === 0 ||
    serverId.length > MAX_SERVER_ID_LENGTH ||
    !/^[\x21-\x7e]+$/.test(serverId)
  ) {
    throw invalid(
      `serverId must be 1..${MAX_SERVER_ID_LENGTH} printable ASCII characters without spaces`,
    );
  }
  const serverCount = options.serverCount ?? 1;
  if (!Number.isInteger(serverCount) || serverCount < 1 || serverCount > MAX_SERVER_COUNT) {
    throw invalid(`serverCount must be an integer in 1..${MAX_SERVER_COUNT}, got ${serverCount}`);
  }
  const extensions = options.extensions ?? SUPPORTED_EXTENSIONS;
  if (!Array.isArray(extensions)) throw invalid('extensions must be an array');
  for (const name of extensions) {
    if (!SUPPORTED_EXTENSIONS.includes(name)) {
      throw invalid(
        `unknown extension ${JSON.stringify(name)}; known: ${SUPPORTED_EXTENSIONS.join(', ')}`,
      );
    }
  }
  const logger = options.logger ?? createJsonLogger();
  for (const level of ['error', 'warn', 'info', 'debug'] as const) {
    if (typeof logger[level] !== 'function') throw invalid(`logger.${level} must be a function`);
  }
  const listen = Object.fromEntries(
    LISTENER_NAMES.map((name) => [name, resolveListen(name, options.listen?.[name])]),
  ) as Record<ListenerName, ResolvedListen | false>;
  return {
    serverId,
    serverCount,
    tls: checkTls(options.tls),
    listen,
    agentDialTimeoutMs: positiveMs(
      'agentDialTimeoutMs',
      options.agentDialTimeoutMs,
      DEFAULT_AGENT_DIAL_TIMEOUT_MS,
    ),
    extensions: [...new Set(extensions)],
    shutdownTimeoutMs: positiveMs(
      'shutdownTimeoutMs',
      options.shutdownTimeoutMs,
      DEFAULT_SHUTDOWN_TIMEOUT_MS,
    ),
    logger,
    gateway: resolveGatewayOptions(options.gateway),
    registration: resolveRegistration(options.registration),
    admitAgent: resolveAdmitAgent(options.admitAgent),
    agentAdmissionRate: resolveAdmissionRate(options.agentAdmissionRate),
  };
}

function resolveAdmissionRate(
  value: ProxyServerOptions['agentAdmissionRate'],
): ResolvedOptions['agentAdmissionRate'] {
  if (value === false) return undefined;
  if (value === undefined) {
    return {
      perSecond: DEFAULT_AGENT_ADMISSION_RATE,
      burst: DEFAULT_AGENT_ADMISSION_BURST,
      maxPendingHandshakes: DEFAULT_MAX_PENDING_HANDSHAKES,
    };
  }
  if (typeof value !== 'object' || value === null) {
    throw invalid(
      'agentAdmissionRate must be { perSecond, burst?, maxPendingHandshakes? } or false',
    );
  }
  const { perSecond } = value;
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0) {
    throw invalid(`agentAdmissionRate.perSecond must be a number > 0, got ${String(perSecond)}`);
  }
  const burst = value.burst ?? Math.ceil(perSecond);
  if (!Number.isInteger(burst) || burst < 1) {
    throw invalid(`agentAdmissionRate.burst must be an integer ≥ 1, got ${String(burst)}`);
  }
  const maxPendingHandshakes = value.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES;
  if (!Number.isInteger(maxPendingHandshakes) || maxPendingHandshakes < 1) {
    throw invalid(
      `agentAdmissionRate.maxPendingHandshakes must be an integer ≥ 1, got ${String(maxPendingHandshakes)}`,
    );
  }
  return { perSecond, burst, maxPendingHandshakes };
}

function resolveRegistration(
  value: RegistrationOptions | undefined,
): ResolvedOptions['registration'] {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) throw invalid('registration must be an object');
  const { backend } = value;
  for (const method of ['discovery', 'submit', 'renew', 'status'] as const) {
    if (typeof backend?.[method] !== 'function') {
      throw invalid(`registration.backend.${method} must be a function`);
    }
  }
  const listen = resolveListen('registration', value.listen ?? {});
  if (listen === false) throw invalid('registration.listen must be an object');
  return { listen, backend };
}

function resolveAdmitAgent(value: ProxyServerOptions['admitAgent']): ResolvedOptions['admitAgent'] {
  if (value !== undefined && typeof value !== 'function') {
    throw invalid('admitAgent must be a function');
  }
  return value;
}
