/**
 * A Channel's credentials and trust, read on the hub: `spec.secretRef` (a Secret in the
 * Channel's namespace) and `spec.configMapRef` (a ConfigMap there), with OCM's keys:
 * - Git: `user` + `accessToken`, sent as HTTP basic auth (git-credentials.ts). OCM's `sshKey`
 *   and `clientKey`/`clientCert` are refused with a message saying so (channels are read over
 *   http(s) without client certificates here).
 * - HelmRepo: `authHeader` (the whole `Authorization` value), else `user` + `password` (basic).
 * - ConfigMap: `caCerts`, a PEM bundle trusted for the channel's HTTPS in addition to the
 *   bundled roots; `insecureSkipVerify: "true"` (HelmRepo, as OCM's helm client) skips
 *   verification like the Channel's own `spec.insecureSkipVerify`.
 *
 * Values are read when a source is read (no watch: the hub needs `get` only, see the README's
 * RBAC section) and never appear in messages, logs or argv: messages name the object and the key.
 * Stateless; safe to call concurrently.
 */
import { X509Certificate } from 'node:crypto';

import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

import type { Channel, ObjectReference } from '../../api/index.ts';
import { apiStatus } from '../../kube/index.ts';
import { SubscriptionError } from './errors.ts';

/**
 * The ClusterRole (deploy/hub/20-rbac.yaml) a namespace's admin binds to the hub in a Channel
 * namespace so that the hub may read the channels' Secrets and ConfigMaps there.
 */
export const CHANNEL_READER_CLUSTER_ROLE = 'spokelink-hub-channel-reader';

/** What a channel's source is read with. */
export interface ChannelAccess {
  readonly insecureSkipVerify: boolean;
  /** PEM bundle (`caCerts`) trusted besides the bundled roots. */
  readonly caPem?: string;
  /** HTTP basic auth (Git `user`/`accessToken`, HelmRepo `user`/`password`). */
  readonly basicAuth?: { readonly user: string; readonly password: string };
  /** HelmRepo `authHeader`: the `Authorization` header's whole value. */
  readonly authHeader?: string;
  /** `Secret <namespace>/<name>` when credentials came from one; for failure messages. */
  readonly credentialsFrom?: string;
}

/**
 * Reads a Secret's or ConfigMap's data (Secret values decoded). Resolves undefined when the
 * object does not exist; rejects with `HUB_ERR_SUB_CHANNEL_CREDENTIALS` when the hub may not
 * read it (the message names the permission); other API failures reject as they are (the
 * controller retries them with backoff).
 */
export type ChannelRefReader = (
  kind: 'Secret' | 'ConfigMap',
  namespace: string,
  name: string,
) => Promise<Record<string, string> | undefined>;

/** {@link ChannelRefReader} on the hub API server of `hub` (`get` only). */
export function kubeChannelRefReader(hub: KubeConfig): ChannelRefReader {
  const core = hub.makeApiClient(CoreV1Api);
  return async (kind, namespace, name) => {
    try {
      if (kind === 'Secret') {
        const secret = await core.readNamespacedSecret({ name, namespace });
        const data: Record<string, string> = {};
        for (const [k, v] of Object.entries(secret.data ?? {}))
          data[k] = Buffer.from(v, 'base64').toString('utf8');
        return data;
      }
      return { ...(await core.readNamespacedConfigMap({ name, namespace })).data };
    } catch (err: unknown) {
      const status = apiStatus(err);
      if (status === 404) return undefined;
      if (status === 403) {
        const resource = kind === 'Secret' ? 'secrets' : 'configmaps';
        throw new SubscriptionError(
          'HUB_ERR_SUB_CHANNEL_CREDENTIALS',
          `the hub may not read ${kind} ${namespace}/${name} (it needs "get" on ${resource} in namespace ${namespace}): bind the ClusterRole ${CHANNEL_READER_CLUSTER_ROLE} to the hub there with a RoleBinding`,
          { cause: err },
        );
      }
      throw err;
    }
  };
}

const invalid = (message: string) =>
  new SubscriptionError('HUB_ERR_SUB_CHANNEL_CREDENTIALS', message);

/** The name a ref points at, in the channel's namespace (other namespaces are refused). */
function refName(channel: Channel, ref: ObjectReference, field: string): string {
  const namespace = channel.metadata?.namespace ?? '';
  const name = ref.name?.trim() ?? '';
  if (name === '')
    throw invalid(`channel ${namespace}/${channel.metadata?.name ?? ''}: ${field} has no name`);
  if (ref.namespace !== undefined && ref.namespace !== '' && ref.namespace !== namespace) {
    throw invalid(
      `channel ${namespace}/${channel.metadata?.name ?? ''}: ${field} names namespace ${ref.namespace}; it must be in the channel's namespace ${namespace}`,
    );
  }
  return name;
}

/** A credential value: trimmed (a trailing newline of `echo … | base64` is common), one line. */
function value(data: Record<string, string>, key: string, shown: string): string | undefined {
  const raw = data[key];
  if (raw === undefined) return undefined;
  const v = raw.trim();
  if (v === '') throw invalid(`key ${key} of ${shown} is empty`);
  // git's credential protocol and HTTP headers are line-based: a line break would inject fields.
  if (/[\r\n\0]/.test(v)) throw invalid(`key ${key} of ${shown} holds a line break`);
  return v;
}

function required(data: Record<string, string>, key: string, shown: string, why: string): string {
  const v = value(data, key, shown);
  if (v === undefined) throw invalid(`${shown} has no key ${key} (${why})`);
  return v;
}

/** Checks that `pem` holds at least one certificate and nothing unreadable. */
function checkCaBundle(pem: string, shown: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw invalid(`key caCerts of ${shown} holds no PEM certificate`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err: unknown) {
      throw new SubscriptionError(
        'HUB_ERR_SUB_CHANNEL_CREDENTIALS',
        `key caCerts of ${shown}: certificate ${i + 1} cannot be parsed`,
        { cause: err },
      );
    }
  });
  return `${blocks.join('\n')}\n`;
}

/**
 * The {@link ChannelAccess} of a Git or HelmRepo channel. Rejects with
 * `HUB_ERR_SUB_CHANNEL_CREDENTIALS` naming the Secret or ConfigMap and the key (never a value)
 * when one is missing, unreadable by the hub, lacks a key or holds a bad value.
 */
export async function channelAccess(
  read: ChannelRefReader,
  channel: Channel,
  kind: 'git' | 'helmrepo',
): Promise<ChannelAccess> {
  const namespace = channel.metadata?.namespace ?? '';
  const channelName = `channel ${namespace}/${channel.metadata?.name ?? ''}`;
  let insecureSkipVerify = channel.spec.insecureSkipVerify === true;
  let caPem: string | undefined;
  const { configMapRef, secretRef } = channel.spec;
  if (configMapRef !== undefined) {
    const name = refName(channel, configMapRef, 'configMapRef');
    const shown = `ConfigMap ${namespace}/${name}`;
    const data = await read('ConfigMap', namespace, name);
    if (data === undefined)
      throw invalid(`${shown} (configMapRef of ${channelName}) does not exist`);
    const ca = data['caCerts'];
    if (ca !== undefined && ca.trim() !== '') caPem = checkCaBundle(ca, shown);
    if (kind === 'helmrepo' && data['insecureSkipVerify']?.trim().toLowerCase() === 'true')
      insecureSkipVerify = true;
  }
  const base = { insecureSkipVerify, ...(caPem === undefined ? {} : { caPem }) };
  if (secretRef === undefined) return base;
  const name = refName(channel, secretRef, 'secretRef');
  const shown = `Secret ${namespace}/${name}`;
  const data = await read('Secret', namespace, name);
  if (data === undefined) throw invalid(`${shown} (secretRef of ${channelName}) does not exist`);
  const credentialsFrom = shown;
  if (kind === 'helmrepo') {
    const authHeader = value(data, 'authHeader', shown);
    if (authHeader !== undefined) return { ...base, authHeader, credentialsFrom };
    const why = 'a HelmRepo channel needs authHeader, or user and password';
    const user = required(data, 'user', shown, why);
    const password = required(data, 'password', shown, why);
    return { ...base, basicAuth: { user, password }, credentialsFrom };
  }
  if (data['user'] === undefined && data['accessToken'] === undefined) {
    if (data['sshKey'] !== undefined)
      throw invalid(
        `${shown} holds an sshKey: Git channels are read over http(s) only, with user and accessToken`,
      );
    if (data['clientCert'] !== undefined || data['clientKey'] !== undefined)
      throw invalid(
        `${shown} holds clientCert/clientKey: client certificates are not supported; use user and accessToken`,
      );
  }
  const why = 'a Git channel needs user and accessToken';
  const user = required(data, 'user', shown, why);
  const password = required(data, 'accessToken', shown, why);
  return { ...base, basicAuth: { user, password }, credentialsFrom };
}
