/**
 * The hub's PKI, kept as Secrets in the hub namespace so every hub replica (and every restart)
 * uses the same CA: the hub CA (signs agent client certificates, the proxy-server's serving
 * certificate and the gateway's client certificate), the proxy-server's serving certificate,
 * and the gateway's client certificate. `init` creates them; `spokelink hub` loads them.
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';

import {
  type CertificateAuthority,
  type IssuedCert,
  createCa,
  issueCert,
  parseCertificate,
} from '../../certs/index.ts';
import { GATEWAY_ORGANIZATION } from '../../protocol/index.ts';
import { apiStatus } from '../kube/index.ts';
import { GATEWAY_SECRET, HUB_CA_SECRET, HUB_NAMESPACE, PROXY_SERVER_SECRET } from './constants.ts';

/** The hub's certificates, PEM. Never log the keys. */
export interface HubPki {
  readonly ca: CertificateAuthority;
  readonly serving: IssuedCert;
  readonly gateway: IssuedCert;
}

/** Options of {@link ensureHubPki}. */
export interface EnsureHubPkiOptions {
  /** Names agents and clients dial the proxy-server by (DNS names or IP addresses). */
  readonly serverNames: readonly string[];
  /** Only read: fail when something is missing instead of creating it (`spokelink hub`). */
  readonly readOnly?: boolean;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

function tlsSecret(name: string, cert: IssuedCert, caPem?: string): V1Secret {
  return {
    metadata: {
      name,
      namespace: HUB_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'spokelink' },
    },
    type: 'kubernetes.io/tls',
    stringData: {
      'tls.crt': cert.certPem,
      'tls.key': cert.keyPem,
      ...(caPem === undefined ? {} : { 'ca.crt': caPem }),
    },
  };
}

function readTls(secret: V1Secret): IssuedCert {
  const data = secret.data ?? {};
  const cert = data['tls.crt'];
  const key = data['tls.key'];
  if (cert === undefined || key === undefined) {
    throw new Error(
      `Secret ${HUB_NAMESPACE}/${secret.metadata?.name ?? '?'} lacks tls.crt/tls.key`,
    );
  }
  return {
    certPem: Buffer.from(cert, 'base64').toString('utf8'),
    keyPem: Buffer.from(key, 'base64').toString('utf8'),
  };
}

async function readSecret(core: CoreV1Api, name: string): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ name, namespace: HUB_NAMESPACE });
  } catch (err: unknown) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

/** Creates the hub namespace when absent. */
export async function ensureHubNamespace(kubeConfig: KubeConfig): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  try {
    await core.createNamespace({ body: { metadata: { name: HUB_NAMESPACE } } });
  } catch (err: unknown) {
    if (apiStatus(err) !== 409) throw err;
  }
}

function coversNames(certPem: string, names: readonly string[]): boolean {
  const info = parseCertificate(certPem);
  return names.every((n) => (IP.test(n) ? info.ipAddresses : info.dnsNames).includes(n));
}

/**
 * Loads the hub's PKI from its Secrets, creating what is missing (unless `readOnly`): a new CA
 * only when there is none, a new serving certificate when the existing one does not name every
 * `serverNames` entry. Safe to repeat and to race: a creation that loses (409) reloads.
 */
export async function ensureHubPki(
  kubeConfig: KubeConfig,
  options: EnsureHubPkiOptions,
): Promise<HubPki> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const put = async (secret: V1Secret, replace: boolean): Promise<void> => {
    const name = secret.metadata?.name ?? '';
    if (replace)
      await core.replaceNamespacedSecret({ name, namespace: HUB_NAMESPACE, body: secret });
    else await core.createNamespacedSecret({ namespace: HUB_NAMESPACE, body: secret });
  };
  const missing = (what: string): Error =>
    new Error(
      `the hub has no ${what} (Secret ${HUB_NAMESPACE}/${what}); run \`spokelink init\` first`,
    );

  let caSecret = await readSecret(core, HUB_CA_SECRET);
  if (caSecret === undefined) {
    if (options.readOnly === true) throw missing(HUB_CA_SECRET);
    const ca = createCa({ commonName: 'spokelink-hub-ca' });
    try {
      await put(tlsSecret(HUB_CA_SECRET, ca), false);
    } catch (err: unknown) {
      if (apiStatus(err) !== 409) throw err;
    }
    caSecret = await readSecret(core, HUB_CA_SECRET);
    if (caSecret === undefined) throw missing(HUB_CA_SECRET);
  }
  const ca = readTls(caSecret);

  const names = [...new Set(['localhost', '127.0.0.1', ...options.serverNames])];
  const servingSecret = await readSecret(core, PROXY_SERVER_SECRET);
  let serving = servingSecret === undefined ? undefined : readTls(servingSecret);
  if (serving === undefined || !coversNames(serving.certPem, names)) {
    if (options.readOnly === true && serving === undefined) throw missing(PROXY_SERVER_SECRET);
    if (options.readOnly !== true) {
      serving = issueCert(ca, {
        commonName: 'spokelink-proxy-server',
        dnsNames: names.filter((n) => !IP.test(n)),
        ipAddresses: names.filter((n) => IP.test(n)),
        usage: 'server',
      });
      await put(tlsSecret(PROXY_SERVER_SECRET, serving, ca.certPem), servingSecret !== undefined);
    }
  }
  if (serving === undefined) throw missing(PROXY_SERVER_SECRET);

  const gatewaySecret = await readSecret(core, GATEWAY_SECRET);
  let gateway = gatewaySecret === undefined ? undefined : readTls(gatewaySecret);
  if (gateway === undefined) {
    if (options.readOnly === true) throw missing(GATEWAY_SECRET);
    gateway = issueCert(ca, {
      commonName: 'spokelink:gateway:hub',
      organizations: [GATEWAY_ORGANIZATION],
      usage: 'client',
    });
    await put(tlsSecret(GATEWAY_SECRET, gateway), false);
  }
  return { ca, serving, gateway };
}
