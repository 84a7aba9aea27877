/**
 * `ProxyServerOptions.gateway`: the cluster gateway's options, their defaults and their checks.
 * options.ts calls {@link resolveGatewayOptions} from validateOptions(), so a running gateway
 * only ever sees a complete, checked {@link ResolvedGatewayOptions}.
 */
import {
  assertKeyMatchesCertificate,
  parseCertificate,
  splitPemBundle,
} from '../../certs/index.ts';
import { GATEWAY_ORGANIZATION } from '../../protocol/index.ts';

import { ServerError, errorMessage } from '../errors.ts';
import type { ListenOptions, ResolvedListen } from '../options.ts';

/** Prefix of every identity the gateway impersonates on a spoke (the agent's default too). */
export const DEFAULT_GATEWAY_IDENTITY_PREFIX = 'spokelink:hub:';
/** Where the gateway binds by default: loopback, an ephemeral port. */
const DEFAULT_GATEWAY_HOST = '127.0.0.1';

/** How the gateway reaches the hub API server for TokenReview and SubjectAccessReview. */
export interface GatewayHubOptions {
  /** `https://host:port` of the hub API server (a path prefix is kept). */
  server: string;
  /** CA bundle that verifies the hub API server's serving certificate. */
  caPem: string;
  /** Client certificate and key (both or neither), e.g. an admin or a dedicated reviewer. */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Bearer token, used when no client certificate is given. Read once; not refreshed. */
  token?: string;
  /**
   * A file holding the bearer token (e.g. a projected ServiceAccount token, which the kubelet
   * rotates): re-read when it changes, checked at most every 10 s. Exclusive with `token`.
   */
  tokenFile?: string;
}

/**
 * The cluster gateway (`https://host:port/clusters/<cluster>/…`): hub users reach a spoke's
 * API server through the tunnel and the agent API, authenticated and authorized by the hub.
 * It serves HTTPS with the proxy-server's serving certificate (`tls.certPem`/`keyPem`).
 */
export interface GatewayOptions {
  /** Default `{ host: '127.0.0.1', port: 0 }`. Always HTTPS (`tls` may not be set). */
  listen?: ListenOptions;
  /** How the gateway itself reaches the hub API server (it needs `create` on tokenreviews and subjectaccessreviews). */
  hub: GatewayHubOptions;
  /**
   * The hub API server's client CA: callers presenting a client certificate from it are
   * authenticated by the certificate (user = CN, groups = O + `system:authenticated`). Without
   * it, client certificates are not requested and only bearer tokens are accepted.
   */
  clientCaPem?: string;
  /** Prefix of impersonated users and groups on spokes; default {@link DEFAULT_GATEWAY_IDENTITY_PREFIX}. */
  identityPrefix?: string;
  /**
   * The gateway's client certificate for agents' agent API: CN `spokelink:gateway:<serverId>`,
   * O `spokelink:gateways`, issued by the hub CA (`tls.caPem`).
   */
  cert: { certPem: string; keyPem: string };
}

/** Gateway options after {@link resolveGatewayOptions}: complete and checked. */
export interface ResolvedGatewayOptions {
  readonly listen: ResolvedListen;
  readonly hub: {
    readonly server: URL;
    readonly caPem: string;
    readonly clientCertPem: string | undefined;
    readonly clientKeyPem: string | undefined;
    readonly token: string | undefined;
    readonly tokenFile: string | undefined;
  };
  readonly clientCaPem: string | undefined;
  readonly identityPrefix: string;
  readonly cert: { readonly certPem: string; readonly keyPem: string };
}

function invalid(message: string, cause?: unknown): ServerError {
  return new ServerError(
    'SERVER_ERR_INVALID_OPTIONS',
    `invalid options: gateway.${message}`,
    cause === undefined ? {} : { cause },
  );
}

function pem(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalid(`${name} must be a non-empty PEM string`);
  return value;
}

function caBundle(name: string, value: unknown): string {
  const bundle = pem(name, value);
  try {
    const cas = splitPemBundle(bundle);
    if (cas.length === 0) throw new Error('no certificate in the bundle');
    for (const one of cas) {
      if (!parseCertificate(one).isCa) throw new Error('a certificate in the bundle is not a CA');
    }
  } catch (err) {
    throw invalid(`${name}: ${errorMessage(err)}`, err);
  }
  return bundle;
}

function resolveListen(value: ListenOptions | undefined): ResolvedListen {
  if (value !== undefined && (typeof value !== 'object' || value === null))
    throw invalid('listen must be an object');
  if (value?.tls !== undefined) throw invalid('listen.tls: the gateway always serves HTTPS');
  const host = value?.host ?? DEFAULT_GATEWAY_HOST;
  const port = value?.port ?? 0;
  if (typeof host !== 'string' || host.length === 0 || /[\s/]/.test(host))
    throw invalid(`listen.host must be a host name or IP address, got ${JSON.stringify(host)}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw invalid(`listen.port must be an integer in 0..65535, got ${port}`);
  return { host, port, tls: true };
}

function resolveHub(hub: GatewayHubOptions | undefined): ResolvedGatewayOptions['hub'] {
  if (typeof hub !== 'object' || hub === null)
    throw invalid('hub { server, caPem, clientCertPem/clientKeyPem or token } is required');
  let server: URL;
  try {
    server = new URL(hub.server);
  } catch (err) {
    throw invalid(`hub.server must be an https:// URL, got ${JSON.stringify(hub.server)}`, err);
  }
  if (server.protocol !== 'https:' || server.search !== '' || server.hash !== '')
    throw invalid(`hub.server must be an https:// URL, got ${JSON.stringify(hub.server)}`);
  const caPem = caBundle('hub.caPem', hub.caPem);
  const hasCert = hub.clientCertPem !== undefined || hub.clientKeyPem !== undefined;
  if (hasCert) {
    const certPem = pem('hub.clientCertPem', hub.clientCertPem);
    const keyPem = pem('hub.clientKeyPem', hub.clientKeyPem);
    try {
      assertKeyMatchesCertificate(certPem, keyPem);
    } catch (err) {
      throw invalid(`hub.clientCertPem/clientKeyPem: ${errorMessage(err)}`, err);
    }
  }
  if (
    hub.token !== undefined &&
    (typeof hub.token !== 'string' || !/^[\x21-\x7e]+$/.test(hub.token))
  )
    throw invalid('hub.token must be a non-empty printable ASCII string');
  if (hub.tokenFile !== undefined) {
    if (typeof hub.tokenFile !== 'string' || hub.tokenFile === '')
      throw invalid('hub.tokenFile must be a non-empty path');
    if (hub.token !== undefined) throw invalid('hub.token and hub.tokenFile are exclusive');
  }
  if (!hasCert && hub.token === undefined && hub.tokenFile === undefined)
    throw invalid('hub needs clientCertPem and clientKeyPem, a token or a tokenFile');
  return {
    server,
    caPem,
    clientCertPem: hub.clientCertPem,
    clientKeyPem: hub.clientKeyPem,
    token: hub.token,
    tokenFile: hub.tokenFile,
  };
}

function resolveCert(cert: GatewayOptions['cert'] | undefined): ResolvedGatewayOptions['cert'] {
  if (typeof cert !== 'object' || cert === null)
    throw invalid('cert { certPem, keyPem } is required (the gateway certificate for agent-api)');
  const certPem = pem('cert.certPem', cert.certPem);
  const keyPem = pem('cert.keyPem', cert.keyPem);
  try {
    assertKeyMatchesCertificate(certPem, keyPem);
  } catch (err) {
    throw invalid(`cert.certPem/keyPem: ${errorMessage(err)}`, err);
  }
  // Agents refuse any other certificate: fail at start, not on every request.
  const info = parseCertificate(certPem);
  if (!info.organizations.includes(GATEWAY_ORGANIZATION))
    throw invalid(
      `cert.certPem must carry Organization ${JSON.stringify(GATEWAY_ORGANIZATION)} (agents refuse other callers), got ${JSON.stringify(info.organizations)}`,
    );
  if (info.extKeyUsage.length > 0 && !info.extKeyUsage.includes('clientAuth'))
    throw invalid('cert.certPem is not valid for client authentication (extKeyUsage)');
  return { certPem, keyPem };
}

/**
 * Fills in the gateway's defaults and checks every field; undefined (no gateway) stays
 * undefined. Pure. Throws ServerError `SERVER_ERR_INVALID_OPTIONS` naming the bad field.
 */
export function resolveGatewayOptions(
  gateway: GatewayOptions | undefined,
): ResolvedGatewayOptions | undefined {
  if (gateway === undefined) return undefined;
  if (typeof gateway !== 'object' || gateway === null) throw invalid('must be an object');
  const identityPrefix = gateway.identityPrefix ?? DEFAULT_GATEWAY_IDENTITY_PREFIX;
  if (
    typeof identityPrefix !== 'string' ||
    identityPrefix.length === 0 ||
    identityPrefix.startsWith('system:') ||
    !/^[\x21-\x7e]+$/.test(identityPrefix)
  ) {
    throw invalid(
      `identityPrefix must be printable ASCII, not empty and not starting with "system:", got ${JSON.stringify(identityPrefix)}`,
    );
  }
  return {
    listen: resolveListen(gateway.listen),
    hub: resolveHub(gateway.hub),
    clientCaPem:
      gateway.clientCaPem === undefined ? undefined : caBundle('clientCaPem', gateway.clientCaPem),
    identityPrefix,
    cert: resolveCert(gateway.cert),
  };
}
