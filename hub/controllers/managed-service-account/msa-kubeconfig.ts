/**
 * The programmatic client's side of managed service accounts: a ready @kubernetes/client-node
 * KubeConfig from an account's hub Secret, pointed at the cluster gateway
 * (`https://<gateway>/clusters/<cluster>`), which passes a spoke token straight through to the
 * spoke API server (proxy-server README "Spoke tokens pass straight through").
 */
import { Buffer } from 'node:buffer';

import { CoreV1Api, KubeConfig, type V1Secret } from '@kubernetes/client-node';

import { gatewayClusterUrl } from '../../../proxy-server/index.ts';
import { apiStatus, describeError } from '../../kube/index.ts';
import { MsaError } from './errors.ts';
import { secretValue } from './hub-accounts.ts';
import { MSA_LABEL } from './token-rotation.ts';

/** Where the KubeConfig points: the gateway and the CA its serving certificate chains to. */
export interface GatewayTarget {
  /** The cluster (the account's namespace on the hub). */
  readonly cluster: string;
  /** The gateway's base URL, e.g. `https://hub.example:8443`. */
  readonly gatewayUrl: string;
  /** PEM of the CA of the gateway's serving certificate (the hub CA). */
  readonly gatewayCaPem: string;
}

/** Options of {@link kubeConfigFromManagedServiceAccount}. */
export interface ManagedServiceAccountKubeConfigOptions extends GatewayTarget {
  /** The hub API server, with the right to read the Secret. */
  readonly hub: KubeConfig;
  /** The ManagedServiceAccount (and Secret) name. */
  readonly name: string;
}

/**
 * A KubeConfig (context `<cluster>/<name>`) that reaches the spoke through the gateway as the
 * account's spoke ServiceAccount, with the token of `secret` (an account's hub Secret: labelled,
 * with `token`). Pure; throws {@link MsaError} `HUB_ERR_MSA_INVALID_SECRET` for any other Secret.
 * The token is read once: after a rotation, build a new one.
 */
export function kubeConfigFromTokenSecret(secret: V1Secret, target: GatewayTarget): KubeConfig {
  const where = `${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`;
  if (secret.metadata?.labels?.[MSA_LABEL] !== 'true')
    throw new MsaError(
      'HUB_ERR_MSA_INVALID_SECRET',
      `Secret ${where} is not a ManagedServiceAccount token Secret (no ${MSA_LABEL}=true)`,
    );
  const token = secretValue(secret, 'token');
  if (token === undefined || token === '')
    throw new MsaError('HUB_ERR_MSA_INVALID_SECRET', `Secret ${where} has no token`);
  const name = `${target.cluster}/${secret.metadata.name ?? ''}`;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: target.cluster,
        server: gatewayClusterUrl(target.gatewayUrl, target.cluster),
        caData: Buffer.from(target.gatewayCaPem).toString('base64'),
        skipTLSVerify: false,
      },
    ],
    users: [{ name, token }],
    contexts: [{ name, cluster: target.cluster, user: name }],
    currentContext: name,
  });
  return config;
}

/**
 * Reads the hub Secret `<cluster>/<name>` of a ManagedServiceAccount and returns
 * {@link kubeConfigFromTokenSecret} of it: one call from an account to a client of its spoke.
 * Rejects with {@link MsaError} `HUB_ERR_MSA_INVALID_SECRET` when there is no such Secret (yet:
 * the account's status says why) or it holds no token, `HUB_ERR_MSA_HUB` when the hub fails.
 */
export async function kubeConfigFromManagedServiceAccount(
  options: ManagedServiceAccountKubeConfigOptions,
): Promise<KubeConfig> {
  let secret: V1Secret;
  try {
    secret = await options.hub
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ namespace: options.cluster, name: options.name });
  } catch (err: unknown) {
    if (apiStatus(err) === 404)
      throw new MsaError(
        'HUB_ERR_MSA_INVALID_SECRET',
        `no token Secret ${options.cluster}/${options.name} on the hub (see the ManagedServiceAccount's status)`,
      );
    throw new MsaError(
      'HUB_ERR_MSA_HUB',
      `reading Secret ${options.cluster}/${options.name} on the hub: ${describeError(err)}`,
      { cause: err },
    );
  }
  return kubeConfigFromTokenSecret(secret, options);
}
