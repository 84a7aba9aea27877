import { stringify } from 'yaml';

import { CertError } from './errors.ts';
import { splitPemBundle } from './pem.ts';
import { assertKeyMatchesCertificate } from './verify.ts';

const SERVER_PROTOCOLS = ['https:', 'http:'];
/** What kubectl (client-go) accepts as proxy-url. */
const PROXY_PROTOCOLS = ['http:', 'https:', 'socks5:'];

/** Options of {@link renderKubeconfig}. One cluster, one user, one context. */
export interface KubeconfigOptions {
  /** `clusters[0].name`. */
  clusterName: string;
  /** API server URL, e.g. `https://127.0.0.1:6443` or a gateway URL `https://hub/clusters/c1`. */
  server: string;
  /** CA bundle that signs the server's certificate; embedded as certificate-authority-data. */
  caPem?: string;
  /** Skip server certificate verification; exclusive with `caPem`, for throwaway setups only. */
  insecureSkipTlsVerify?: boolean;
  /** Name to verify the server certificate against instead of the URL's host (kubeconfig `tls-server-name`), e.g. when the URL names a cluster reached through a proxy. */
  tlsServerName?: string;
  /** HTTP(S) or SOCKS5 proxy for this cluster (kubectl's proxy-url), e.g. the hub's CONNECT frontend. */
  proxyUrl?: string;
  /** `users[0].name`. */
  userName: string;
  /** Client certificate PEM (with `clientKeyPem`); embedded as client-certificate-data. */
  clientCertPem?: string;
  /** Client private key PEM (with `clientCertPem`); embedded as client-key-data. */
  clientKeyPem?: string;
  /** Bearer token. */
  token?: string;
  /** `contexts[0].name` and current-context; default `<userName>@<clusterName>` (kubeadm's style). */
  contextName?: string;
  /** Default namespace of the context. */
  namespace?: string;
}

/**
 * Renders a self-contained kubeconfig (apiVersion v1, kind Config) with all certificate data
 * embedded as base64 and current-context set, ready for kubectl or @kubernetes/client-node's
 * `KubeConfig.loadFromString`. Certificates are checked first (a client certificate must match
 * its key) so that a broken kubeconfig is never written. The result holds credentials: write it
 * with mode 0600 and never log it. Pure; safe to repeat.
 * @throws CertError CERT_ERR_INVALID_OPTIONS, CERT_ERR_INVALID_PEM, CERT_ERR_INVALID_KEY or
 *   CERT_ERR_KEY_MISMATCH.
 */
export function renderKubeconfig(opts: KubeconfigOptions): string {
  if (typeof opts !== 'object' || opts === null) throw invalid('expected an options object');
  const clusterName = requireName(opts.clusterName, 'clusterName');
  const userName = requireName(opts.userName, 'userName');
  const contextName =
    opts.contextName === undefined
      ? `${userName}@${clusterName}`
      : requireName(opts.contextName, 'contextName');
  const server = requireUrl(opts.server, 'server', SERVER_PROTOCOLS);
  if (opts.caPem !== undefined && opts.insecureSkipTlsVerify === true) {
    throw invalid('caPem and insecureSkipTlsVerify cannot be used together');
  }

  const cluster: Record<string, unknown> = { server };
  if (opts.caPem !== undefined)
    cluster['certificate-authority-data'] = base64(splitPemBundle(opts.caPem).join(''));
  if (opts.insecureSkipTlsVerify === true) cluster['insecure-skip-tls-verify'] = true;
  if (opts.tlsServerName !== undefined)
    cluster['tls-server-name'] = requireName(opts.tlsServerName, 'tlsServerName');
  if (opts.proxyUrl !== undefined)
    cluster['proxy-url'] = requireUrl(opts.proxyUrl, 'proxyUrl', PROXY_PROTOCOLS);

  const user: Record<string, unknown> = {};
  if ((opts.clientCertPem === undefined) !== (opts.clientKeyPem === undefined)) {
    throw invalid('clientCertPem and clientKeyPem must be given together');
  }
  if (opts.clientCertPem !== undefined && opts.clientKeyPem !== undefined) {
    assertKeyMatchesCertificate(opts.clientCertPem, opts.clientKeyPem);
    user['client-certificate-data'] = base64(opts.clientCertPem);
    user['client-key-data'] = base64(opts.clientKeyPem);
  }
  if (opts.token !== undefined) {
    if (typeof opts.token !== 'string' || !/^[\x21-\x7e]+$/.test(opts.token)) {
      throw invalid('token must be a non-empty string of printable characters without spaces');
    }
    user['token'] = opts.token;
  }

  const context: Record<string, unknown> = { cluster: clusterName, user: userName };
  if (opts.namespace !== undefined) context['namespace'] = requireName(opts.namespace, 'namespace');

  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster }],
    users: [{ name: userName, user }],
    contexts: [{ name: contextName, context }],
    'current-context': contextName,
  };
  // lineWidth 0: never fold the long base64 scalars.
  return stringify(config, { lineWidth: 0 });
}

function requireName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw invalid(`${field} must be a non-empty string`);
  return value;
}

function requireUrl(value: unknown, field: string, protocols: readonly string[]): string {
  const text = requireName(value, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`${field} is not a valid URL`); // the value may hold proxy credentials: not echoed
  }
  if (!protocols.includes(url.protocol)) {
    throw invalid(
      `${field} must use ${protocols.map((p) => p.slice(0, -1)).join(' or ')}, got ${url.protocol.slice(0, -1)}`,
    );
  }
  return text;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function invalid(detail: string): CertError {
  return new CertError('CERT_ERR_INVALID_OPTIONS', `invalid options: ${detail}`);
}
