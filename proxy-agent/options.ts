/**
 * ProxyAgentOptions, their defaults, and validateOptions(), which turns them into the resolved
 * form the rest of the agent reads (no `?? default` scattered through the code).
 */
import { splitPemBundle } from '../certs/index.ts';
import {
  SUPPORTED_EXTENSIONS,
  agentCommonName,
  agentId,
  formatAgentIdentifiers,
  formatDialAddress,
  parseDialAddress,
} from '../protocol/index.ts';
import type { AgentIdentifiers, DialAddress, ExtensionName } from '../protocol/index.ts';
import { DEFAULT_IDENTITY_PREFIX } from './agent-api/request-policy.ts';
import { resolveBackoffOptions } from './connection/backoff.ts';
import type { BackoffOptions, ResolvedBackoffOptions } from './connection/backoff.ts';
import { AgentError } from './errors.ts';
import { createJsonLogger } from './logger.ts';
import type { Logger } from './logger.ts';

/** Default TCP connect timeout for dial targets, in ms. */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;
/** Default address of /healthz, /readyz and /metrics for the library (main.ts binds 0.0.0.0:8093). */
export const DEFAULT_HEALTH_HOST = '127.0.0.1';
/** Port 0: the OS picks a free port; read it from `ProxyAgent.healthAddress`. */
export const DEFAULT_HEALTH_PORT = 0;
/** The named target that always means this cluster's API server. */
export const KUBE_APISERVER_TARGET = 'kube-apiserver';

/** The two tunnel transports; both carry the same packets. */
export type AgentTransport = 'grpc' | 'websocket';

/** TLS material of the agent's tunnel connections (mTLS). PEM text; never logged. */
export interface AgentTlsOptions {
  /** Client certificate; its CN must be `agentCommonName(clusterName, agentName)`. */
  certPem: string;
  keyPem: string;
  /** CA bundle that verifies the proxy-server's serving certificate. */
  caPem: string;
  /** Name to verify the server certificate against, when it differs from the address host. */
  serverName?: string;
}

/**
 * The agent API (`agent-api` dial target): HTTPS inside the tunnel stream, forwarded to this
 * cluster's API server with the agent's own ServiceAccount token and prefixed impersonation.
 * See README.md "Agent API".
 */
export interface AgentApiOptions {
  /**
   * The agent's spoke ServiceAccount token (e.g. a projected token file). That account needs
   * RBAC `impersonate` on users, groups and serviceaccounts. Read at start (unreadable or empty
   * → `AGENT_ERR_INVALID_OPTIONS`), re-read when the file changes and every 60 s. Never logged.
   */
  tokenFile: string;
  /** CA bundle (PEM) that verifies the API server's serving certificate. */
  kubeApiserverCaPem: string;
  /**
   * Every `Impersonate-User` and `Impersonate-Group` value must start with it (and name
   * something after it). Default `spokelink:hub:`. Must not start with `system:`.
   */
  identityPrefix?: string;
}

/** {@link AgentApiOptions} after validateOptions(). */
export interface ResolvedAgentApiOptions {
  readonly tokenFile: string;
  readonly kubeApiserverCaPem: string;
  readonly identityPrefix: string;
}

/** Options of {@link startProxyAgent}. See README.md for the behaviour behind each field. */
export interface ProxyAgentOptions {
  /** This cluster's name (DNS label). The agentID sent is `agentId(clusterName, agentName)`. */
  clusterName: string;
  /** This agent's name within the cluster (DNS label); several agents per cluster are allowed. */
  agentName: string;
  /**
   * Server addresses: `host:port` for gRPC, `wss://host:port/tunnel` for WebSocket. One
   * load-balanced address is enough; the agent keeps dialling until it holds one tunnel per
   * server replica (serverCount).
   */
  servers: string[];
  transport: AgentTransport;
  tls: AgentTlsOptions;
  /** `host:port` of this cluster's API server: where `<cluster>:*` and `kube-apiserver:*` go. */
  kubeApiserver: string;
  /** Extra dial targets, exact `host:port` (host compared case-insensitively). Deny by default. */
  allow?: string[];
  /**
   * Extra agentIdentifiers for the server's routing; every host must be `<cluster>` or
   * `<cluster>.…`. `host=<cluster>` is always sent.
   */
  identifiers?: Partial<AgentIdentifiers>;
  /** TCP connect timeout for dial targets, in ms. Default {@link DEFAULT_DIAL_TIMEOUT_MS}. */
  dialTimeoutMs?: number;
  /** Reconnect schedule; default 1000 ms initial, 30 000 ms max, ×1.6, ±20 % jitter. */
  backoff?: BackoffOptions;
  /** Extensions to announce; default SUPPORTED_EXTENSIONS. `[]` behaves as a plain ANP agent. */
  extensions?: readonly ExtensionName[];
  /**
   * Serve the `agent-api` target. Without it, dials to `agent-api:*` are refused `not-allowed`.
   * The agent's `tls.certPem` becomes the serving certificate there, so it should be issued
   * with usage `server-client`.
   */
  agentApi?: AgentApiOptions;
  /** /healthz, /readyz, /metrics listener; `false` disables it (and the metrics registry). */
  health?: { host?: string; port?: number } | false;
  /** Default: JSON lines on stderr at level info. */
  logger?: Logger;
}

/** The options after validateOptions(): every default applied, every address parsed. */
export interface ResolvedAgentOptions {
  readonly clusterName: string;
  readonly agentName: string;
  /** `<cluster>/<agentName>`, sent as metadata `agentID`. */
  readonly agentId: string;
  /** The CN the client certificate should carry. */
  readonly commonName: string;
  readonly servers: readonly string[];
  readonly transport: AgentTransport;
  readonly tls: Readonly<AgentTlsOptions>;
  readonly kubeApiserver: DialAddress;
  /** Normalized `host:port` (lowercase host, IPv6 bracketed). */
  readonly allow: ReadonlySet<string>;
  readonly identifiers: AgentIdentifiers;
  /** `formatAgentIdentifiers(identifiers)`, the metadata value. */
  readonly identifiersValue: string;
  readonly dialTimeoutMs: number;
  readonly backoff: ResolvedBackoffOptions;
  readonly extensions: readonly ExtensionName[];
  /** Undefined when the agent API is off. */
  readonly agentApi: ResolvedAgentApiOptions | undefined;
  readonly health: { readonly host: string; readonly port: number } | false;
  readonly logger: Logger;
}

function invalid(message: string, cause?: unknown): AgentError {
  return new AgentError(
    'AGENT_ERR_INVALID_OPTIONS',
    `invalid options: ${message}`,
    cause === undefined ? {} : { cause },
  );
}

function nonEmptyText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw invalid(`${field} must be a non-empty string`);
  }
  return value;
}

/** `host:port` with a lowercase host, the form allow-list entries and dial addresses are compared in. */
export function normalizeAddress(address: DialAddress): string {
  return formatDialAddress(address.host.toLowerCase(), address.port);
}

function parseAddress(value: unknown, field: string): DialAddress {
  try {
    return parseDialAddress(nonEmptyText(value, field));
  } catch (err: unknown) {
    if (err instanceof AgentError) throw err;
    throw invalid(`${field} ${JSON.stringify(value)} is not host:port`, err);
  }
}

function parseServer(value: unknown, transport: AgentTransport, index: number): string {
  const field = `servers[${index}]`;
  const text = nonEmptyText(value, field);
  if (transport === 'grpc') {
    parseAddress(text, field);
    return text;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch (err: unknown) {
    throw invalid(`${field} ${JSON.stringify(text)} is not a URL`, err);
  }
  if (url.protocol !== 'wss:') {
    throw invalid(`${field} ${JSON.stringify(text)} must be a wss:// URL (TLS is required)`);
  }
  return text;
}

function resolveIdentifiers(
  cluster: string,
  extra: Partial<AgentIdentifiers> | undefined,
): AgentIdentifiers {
  const hosts = [cluster];
  for (const host of extra?.host ?? []) {
    const lower = typeof host === 'string' ? host.toLowerCase() : '';
    if (lower !== cluster && !lower.startsWith(`${cluster}.`)) {
      throw invalid(
        `identifiers.host ${JSON.stringify(host)} must be "${cluster}" or start with "${cluster}."`,
      );
    }
    if (!hosts.includes(lower)) hosts.push(lower);
  }
  return {
    host: hosts,
    ipv4: [...(extra?.ipv4 ?? [])],
    ipv6: [...(extra?.ipv6 ?? [])],
    cidr: [...(extra?.cidr ?? [])],
    defaultRoute: extra?.defaultRoute ?? false,
  };
}

function resolveHealth(
  health: ProxyAgentOptions['health'],
): { host: string; port: number } | false {
  if (health === false) return false;
  const host = health?.host ?? DEFAULT_HEALTH_HOST;
  const port = health?.port ?? DEFAULT_HEALTH_PORT;
  nonEmptyText(host, 'health.host');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalid('health.port must be an integer in [0, 65535]');
  }
  return { host, port };
}

function resolveAgentApi(
  agentApi: AgentApiOptions | undefined,
): ResolvedAgentApiOptions | undefined {
  if (agentApi === undefined) return undefined;
  if (typeof agentApi !== 'object' || agentApi === null) {
    throw invalid('agentApi must be an object');
  }
  const tokenFile = nonEmptyText(agentApi.tokenFile, 'agentApi.tokenFile');
  const kubeApiserverCaPem = nonEmptyText(
    agentApi.kubeApiserverCaPem,
    'agentApi.kubeApiserverCaPem',
  );
  try {
    splitPemBundle(kubeApiserverCaPem);
  } catch (err: unknown) {
    throw invalid('agentApi.kubeApiserverCaPem is not a PEM certificate bundle', err);
  }
  const identityPrefix = nonEmptyText(
    agentApi.identityPrefix ?? DEFAULT_IDENTITY_PREFIX,
    'agentApi.identityPrefix',
  );
  if (identityPrefix.startsWith('system:')) {
    // Kubernetes reserves system: names (system:masters, system:serviceaccount:…).
    throw invalid('agentApi.identityPrefix must not start with "system:"');
  }
  return { tokenFile, kubeApiserverCaPem, identityPrefix };
}

/**
 * Checks `options` and applies defaults. Pure apart from creating the default logger.
 * Throws AgentError `AGENT_ERR_INVALID_OPTIONS` naming the first bad field (the underlying
 * error, if any, in `cause`). Does not read files or touch the network.
 */
export function validateOptions(options: ProxyAgentOptions): ResolvedAgentOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  const clusterName = nonEmptyText(options.clusterName, 'clusterName');
  const agentName = nonEmptyText(options.agentName, 'agentName');
  let commonName: string;
  try {
    commonName = agentCommonName(clusterName, agentName);
  } catch (err: unknown) {
    throw invalid(err instanceof Error ? err.message : String(err), err);
  }
  if (options.transport !== 'grpc' && options.transport !== 'websocket') {
    throw invalid(
      `transport must be "grpc" or "websocket", got ${JSON.stringify(options.transport)}`,
    );
  }
  const transport = options.transport;
  if (!Array.isArray(options.servers) || options.servers.length === 0) {
    throw invalid('servers must list at least one address');
  }
  const servers = options.servers.map((s, i) => parseServer(s, transport, i));
  if (typeof options.tls !== 'object' || options.tls === null) throw invalid('tls is required');
  const tls: AgentTlsOptions = {
    certPem: nonEmptyText(options.tls.certPem, 'tls.certPem'),
    keyPem: nonEmptyText(options.tls.keyPem, 'tls.keyPem'),
    caPem: nonEmptyText(options.tls.caPem, 'tls.caPem'),
  };
  if (options.tls.serverName !== undefined) {
    tls.serverName = nonEmptyText(options.tls.serverName, 'tls.serverName');
  }
  const kubeApiserver = parseAddress(options.kubeApiserver, 'kubeApiserver');
  const allow = new Set<string>();
  (options.allow ?? []).forEach((entry, i) => {
    allow.add(normalizeAddress(parseAddress(entry, `allow[${i}]`)));
  });
  const dialTimeoutMs = options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  if (!Number.isFinite(dialTimeoutMs) || dialTimeoutMs <= 0) {
    throw invalid('dialTimeoutMs must be a number > 0');
  }
  const extensions = options.extensions ?? SUPPORTED_EXTENSIONS;
  for (const name of extensions) {
    if (!SUPPORTED_EXTENSIONS.includes(name)) {
      throw invalid(`extensions: unknown extension ${JSON.stringify(name)}`);
    }
  }
  const identifiers = resolveIdentifiers(clusterName, options.identifiers);
  let identifiersValue: string;
  try {
    identifiersValue = formatAgentIdentifiers(identifiers);
  } catch (err: unknown) {
    throw invalid('identifiers cannot be encoded', err);
  }
  return {
    clusterName,
    agentName,
    agentId: agentId(clusterName, agentName),
    commonName,
    servers,
    transport,
    tls,
    kubeApiserver,
    allow,
    identifiers,
    identifiersValue,
    dialTimeoutMs,
    backoff: resolveBackoffOptions(options.backoff),
    extensions: [...extensions],
    agentApi: resolveAgentApi(options.agentApi),
    health: resolveHealth(options.health),
    logger: options.logger ?? createJsonLogger(),
  };
}
