/**
 * What the controller does on one spoke, through the tunnel and the agent API as the hub
 * controllers (the KubeConfig is the proxy-server's `spokeKubeConfig(cluster)`): keep the
 * labelled ServiceAccount in the add-on namespace, request and review its tokens, read the
 * cluster's CA bundle, delete the ServiceAccount. Stateless; safe for concurrent use.
 */
import {
  AuthenticationV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1ServiceAccount,
} from '@kubernetes/client-node';

import { apiStatus, describeError } from '../../kube/index.ts';
import { MsaError } from './errors.ts';
import { MSA_INSTALL_NAMESPACE, MSA_LABEL } from './token-rotation.ts';

/** The ConfigMap kube-controller-manager publishes in every namespace with the cluster's CA. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

/** A freshly issued token: the JWT and its real expiry (TokenRequest `status`). */
export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/** See {@link spokeAccounts}. Every method rejects with {@link MsaError} `HUB_ERR_MSA_SPOKE`. */
export interface SpokeAccounts {
  /** Creates the namespace and the labelled ServiceAccount when missing; `isNew` if it did. */
  ensureServiceAccount(name: string): Promise<{ isNew: boolean }>;
  /** A TokenRequest for `expirationSeconds`, no audiences (the API server's default). */
  requestToken(name: string, expirationSeconds: number): Promise<IssuedToken>;
  /** Whether a TokenReview on the spoke authenticates `token` as `subject`. */
  reviewToken(token: string, subject: string): Promise<boolean>;
  /** Deletes the ServiceAccount if it carries {@link MSA_LABEL}; resolves whether it did. */
  deleteServiceAccount(name: string): Promise<boolean>;
  /** The CA bundle of the spoke API server (PEM), from {@link ROOT_CA_CONFIGMAP}. */
  caBundle(): Promise<string>;
}

function spokeError(cluster: string, what: string, err: unknown): MsaError {
  return new MsaError('HUB_ERR_MSA_SPOKE', `${what} on cluster ${cluster}: ${describeError(err)}`, {
    cause: err,
  });
}

/** The labelled ServiceAccount `name` as the controller creates it. */
export function managedServiceAccountObject(name: string): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace: MSA_INSTALL_NAMESPACE, labels: { [MSA_LABEL]: 'true' } },
  };
}

/** {@link SpokeAccounts} of `cluster` through `kubeConfig`. */
export function spokeAccounts(kubeConfig: KubeConfig, cluster: string): SpokeAccounts {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const auth = kubeConfig.makeApiClient(AuthenticationV1Api);
  const namespace = MSA_INSTALL_NAMESPACE;
  const at = (name: string) => `ServiceAccount ${namespace}/${name}`;

  return {
    async ensureServiceAccount(name) {
      try {
        await core.readNamespacedServiceAccount({ name, namespace });
        return { isNew: false };
      } catch (err: unknown) {
        if (apiStatus(err) !== 404) throw spokeError(cluster, `reading ${at(name)}`, err);
      }
      try {
        await core.createNamespace({ body: { metadata: { name: namespace } } });
      } catch (err: unknown) {
        if (apiStatus(err) !== 409)
          throw spokeError(cluster, `creating namespace ${namespace}`, err);
      }
      try {
        await core.createNamespacedServiceAccount({
          namespace,
          body: managedServiceAccountObject(name),
        });
        return { isNew: true };
      } catch (err: unknown) {
        // Already there (a race, or someone made it): OCM takes that as success.
        if (apiStatus(err) === 409) return { isNew: false };
        throw spokeError(cluster, `creating ${at(name)}`, err);
      }
    },

    async requestToken(name, expirationSeconds) {
      try {
        const answer = await core.createNamespacedServiceAccountToken({
          name,
          namespace,
          body: { spec: { audiences: [], expirationSeconds } },
        });
        const token = answer.status?.token;
        const expiresAt = answer.status?.expirationTimestamp;
        if (token === undefined || token === '' || expiresAt === undefined)
          throw new Error('the TokenRequest answer has no token or expirationTimestamp');
        return { token, expiresAt: new Date(expiresAt) };
      } catch (err: unknown) {
        throw spokeError(cluster, `requesting a token for ${at(name)}`, err);
      }
    },

    async reviewToken(token, subject) {
      try {
        const review = await auth.createTokenReview({ body: { spec: { token } } });
        return review.status?.authenticated === true && review.status.user?.username === subject;
      } catch (err: unknown) {
        throw spokeError(cluster, 'reviewing the stored token', err);
      }
    },

    async deleteServiceAccount(name) {
      let account: V1ServiceAccount;
      try {
        account = await core.readNamespacedServiceAccount({ name, namespace });
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return false;
        throw spokeError(cluster, `reading ${at(name)}`, err);
      }
      // Only ours: a ServiceAccount someone made by hand is never deleted.
      if (account.metadata?.labels?.[MSA_LABEL] !== 'true') return false;
      const uid = account.metadata.uid;
      try {
        await core.deleteNamespacedServiceAccount({
          name,
          namespace,
          ...(uid === undefined ? {} : { body: { preconditions: { uid } } }),
        });
        return true;
      } catch (err: unknown) {
        if (apiStatus(err) === 404 || apiStatus(err) === 409) return false;
        throw spokeError(cluster, `deleting ${at(name)}`, err);
      }
    },

    async caBundle() {
      for (const where of [namespace, 'kube-system']) {
        try {
          const map = await core.readNamespacedConfigMap({
            name: ROOT_CA_CONFIGMAP,
            namespace: where,
          });
          const pem = map.data?.['ca.crt'];
          if (pem !== undefined && pem !== '') return pem;
        } catch (err: unknown) {
          if (apiStatus(err) !== 404)
            throw spokeError(cluster, `reading ConfigMap ${where}/${ROOT_CA_CONFIGMAP}`, err);
        }
      }
      throw spokeError(
        cluster,
        'reading the CA bundle',
        new Error(`no ConfigMap ${ROOT_CA_CONFIGMAP} with ca.crt in ${namespace} or kube-system`),
      );
    },
  };
}
