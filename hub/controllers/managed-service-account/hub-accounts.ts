/**
 * What the controller reads and writes on the hub API server: the ManagedServiceAccount and its
 * status, the token Secret beside it (OCM's shape, A4), the ManagedCluster of the namespace, and
 * (optionally) the RoleBinding that lets the hub itself keep Secrets in that cluster namespace.
 * Stateless apart from the hub identity, read once; safe for concurrent use.
 */
import { Buffer } from 'node:buffer';

import {
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  RbacAuthorizationV1Api,
  type RbacV1Subject,
  type V1Secret,
} from '@kubernetes/client-node';

import {
  AUTHENTICATION_GROUP,
  CLUSTER_GROUP,
  type ManagedServiceAccount,
} from '../../api/index.ts';
import { apiStatus, describeError } from '../../kube/index.ts';
import { MsaError } from './errors.ts';
import { MSA_LABEL } from './token-rotation.ts';

/** The stored version, which status writes and owner references use. */
export const MSA_VERSION = 'v1beta1';
/** deploy/hub's ClusterRole granting the hub Secrets, bound per cluster namespace. */
export const MSA_SECRETS_CLUSTER_ROLE = 'spokelink-hub-managed-serviceaccount';
/** The RoleBinding that grants the hub its Secret access in a cluster namespace. */
export const SECRET_ACCESS_BINDING = 'spokelink-hub-managed-serviceaccount';
const MSA = { group: AUTHENTICATION_GROUP, version: MSA_VERSION, plural: 'managedserviceaccounts' };

/** The hub Secret of `msa`: token, CA bundle, OCM's label, an owner reference to the account. */
export function tokenSecret(msa: ManagedServiceAccount, token: string, caPem: string): V1Secret {
  const { name, namespace, uid } = msa.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      ...(name === undefined ? {} : { name }),
      ...(namespace === undefined ? {} : { namespace }),
      labels: { [MSA_LABEL]: 'true' },
      ownerReferences:
        uid === undefined || name === undefined
          ? []
          : [
              {
                apiVersion: `${AUTHENTICATION_GROUP}/${MSA_VERSION}`,
                kind: 'ManagedServiceAccount',
                name,
                uid,
              },
            ],
    },
    data: {
      'ca.crt': Buffer.from(caPem).toString('base64'),
      token: Buffer.from(token).toString('base64'),
    },
  };
}

/** `key` of a Secret's data, decoded; undefined when absent. */
export function secretValue(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/** The RBAC subject of a username: a ServiceAccount for `system:serviceaccount:<ns>:<name>`. */
export function subjectOf(username: string): RbacV1Subject {
  const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  return match === null
    ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: username }
    : { kind: 'ServiceAccount', namespace: match[1] as string, name: match[2] as string };
}

/** See {@link kubeHubAccounts}. Rejections are {@link MsaError} `HUB_ERR_MSA_HUB`. */
export interface HubAccounts {
  getAccount(namespace: string, name: string): Promise<ManagedServiceAccount | undefined>;
  /** Replaces the status at the account's resourceVersion; false on a write conflict. */
  replaceStatus(msa: ManagedServiceAccount): Promise<boolean>;
  clusterExists(name: string): Promise<boolean>;
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  /**
   * Creates the Secret, or overwrites `existing`'s labels, owner and data (at its
   * resourceVersion); false when someone else wrote first (409: read again and retry).
   */
  writeSecret(secret: V1Secret, existing: V1Secret | undefined): Promise<boolean>;
  /** Deletes the Secret if it carries {@link MSA_LABEL}. */
  deleteSecret(namespace: string, name: string): Promise<void>;
  /** Makes sure the hub may keep Secrets in `namespace` (a no-op without `secretAccess`). */
  ensureSecretAccess(namespace: string): Promise<void>;
}

function hubError(what: string, err: unknown): MsaError {
  return new MsaError('HUB_ERR_MSA_HUB', `${what} on the hub: ${describeError(err)}`, {
    cause: err,
  });
}

/**
 * {@link HubAccounts} on the hub of `hub`. With `secretAccessClusterRole`, the first Secret
 * access in a namespace binds that ClusterRole there to the hub's own identity (asked once with
 * a SelfSubjectReview): deploy/hub grants the hub Secrets only through that binding, in cluster
 * namespaces, never cluster-wide. An existing binding of that name is left as it is.
 */
export function kubeHubAccounts(
  hub: KubeConfig,
  options: { secretAccessClusterRole?: string } = {},
): HubAccounts {
  const objects = hub.makeApiClient(CustomObjectsApi);
  const core = hub.makeApiClient(CoreV1Api);
  const bound = new Set<string>();
  let identity: Promise<string> | undefined;

  const whoAmI = (): Promise<string> => {
    identity ??= hub
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      })
      .then((review) => {
        const username = review.status?.userInfo?.username;
        if (username === undefined) throw new Error('the SelfSubjectReview names no user');
        return username;
      })
      .catch((err: unknown) => {
        identity = undefined;
        throw err;
      });
    return identity;
  };

  return {
    async getAccount(namespace, name) {
      try {
        return (await objects.getNamespacedCustomObject({
          ...MSA,
          namespace,
          name,
        })) as ManagedServiceAccount;
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return undefined;
        throw hubError(`reading ManagedServiceAccount ${namespace}/${name}`, err);
      }
    },

    async replaceStatus(msa) {
      const { namespace = '', name = '' } = msa.metadata ?? {};
      try {
        await objects.replaceNamespacedCustomObjectStatus({ ...MSA, namespace, name, body: msa });
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 409) return false;
        if (apiStatus(err) === 404) return true;
        throw hubError(`writing the status of ManagedServiceAccount ${namespace}/${name}`, err);
      }
    },

    async clusterExists(name) {
      try {
        await objects.getClusterCustomObject({
          group: CLUSTER_GROUP,
          version: 'v1',
          plural: 'managedclusters',
          name,
        });
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return false;
        throw hubError(`reading ManagedCluster ${name}`, err);
      }
    },

    async getSecret(namespace, name) {
      try {
        return await core.readNamespacedSecret({ namespace, name });
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return undefined;
        throw hubError(`reading Secret ${namespace}/${name}`, err);
      }
    },

    async writeSecret(secret, existing) {
      const namespace = secret.metadata?.namespace ?? '';
      const name = secret.metadata?.name ?? '';
      try {
        if (existing === undefined) {
          await core.createNamespacedSecret({ namespace, body: secret });
          return true;
        }
        await core.replaceNamespacedSecret({
          namespace,
          name,
          body: {
            ...existing,
            type: existing.type ?? 'Opaque',
            metadata: {
              ...existing.metadata,
              labels: { ...existing.metadata?.labels, ...secret.metadata?.labels },
              ownerReferences: secret.metadata?.ownerReferences ?? [],
            },
            // The whole data, as OCM does: no key of an earlier token is left behind.
            data: secret.data ?? {},
          },
        });
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 409 || apiStatus(err) === 404) return false;
        throw hubError(`writing Secret ${namespace}/${name}`, err);
      }
    },

    async deleteSecret(namespace, name) {
      const secret = await this.getSecret(namespace, name);
      if (secret?.metadata?.labels?.[MSA_LABEL] !== 'true') return;
      const uid = secret.metadata.uid;
      try {
        await core.deleteNamespacedSecret({
          namespace,
          name,
          ...(uid === undefined ? {} : { body: { preconditions: { uid } } }),
        });
      } catch (err: unknown) {
        if (apiStatus(err) === 404 || apiStatus(err) === 409) return;
        throw hubError(`deleting Secret ${namespace}/${name}`, err);
      }
    },

    async ensureSecretAccess(namespace) {
      const clusterRole = options.secretAccessClusterRole;
      if (clusterRole === undefined || bound.has(namespace)) return;
      try {
        await hub.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
          namespace,
          body: {
            metadata: { name: SECRET_ACCESS_BINDING, namespace },
            roleRef: {
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'ClusterRole',
              name: clusterRole,
            },
            subjects: [subjectOf(await whoAmI())],
          },
        });
      } catch (err: unknown) {
        if (apiStatus(err) !== 409)
          throw hubError(`binding ClusterRole ${clusterRole} in namespace ${namespace}`, err);
      }
      bound.add(namespace);
    },
  };
}
