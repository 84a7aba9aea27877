/**
 * The hub's registration controller (runs on the leader only): approves and signs agent
 * CertificateSigningRequests (signerName `spokelink.io/agent`) and sets up accepted clusters.
 *
 * - Approve: a pending CSR of an accepted cluster (ManagedCluster `spec.hubAcceptsClient`) is
 *   approved with OCM's reason `AutoApprovedByHubCSRApprovingController`. A CSR of a cluster
 *   not (yet) accepted waits; `spokelink accept` makes it approvable, `spokelink deny` denies.
 * - Sign: an approved CSR without a certificate is checked again (its subject must be
 *   `spokelink:agent:<cluster>:<agent>` / `spokelink:agents` for the cluster and agent in its
 *   labels, SANs at most `agent-api`) and signed by the hub CA for `spec.expirationSeconds`
 *   (default 30 days, at least 60 s); a CSR that fails the checks gets a `Failed` condition.
 * - Set up: for every accepted cluster, its namespace (named after it) and the ClusterRole
 *   `open-cluster-management:cluster-proxy:<cluster>` (managedclusters/proxy on that cluster,
 *   what the cluster gateway checks), both owned by the ManagedCluster so the garbage collector
 *   removes them with it.
 *
 * Event driven (a CSR watch, plus `clusterChanged` from the ManagedCluster cache) with a
 * periodic resync. Work for one object never overlaps itself; failures are retried on resync.
 */
import {
  CertificatesV1Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesListObject,
  RbacAuthorizationV1Api,
  type V1CertificateSigningRequest,
  type V1OwnerReference,
} from '@kubernetes/client-node';

import { type CertificateAuthority, parseCsr, signCsr } from '../../certs/index.ts';
import { AGENT_ORGANIZATION, agentCommonName } from '../../protocol/index.ts';
import { CLUSTER_GROUP, type ManagedCluster } from '../api/index.ts';
import { apiStatus } from '../kube/index.ts';
import {
  AGENT_NAME_LABEL,
  AGENT_SIGNER_NAME,
  APPROVED_REASON,
  CLUSTER_NAME_LABEL,
  DEFAULT_AGENT_CERT_SECONDS,
  MIN_AGENT_CERT_SECONDS,
} from './constants.ts';
import { type RunningInformer, startInformer } from '../kube/index.ts';

/** The ClusterRole that grants the cluster gateway's `managedclusters/proxy` on one cluster. */
export function clusterProxyRoleName(cluster: string): string {
  return `open-cluster-management:cluster-proxy:${cluster}`;
}

const MAX_AGENT_CERT_SECONDS = 366 * 24 * 3600;
const ALLOWED_DNS_NAMES = new Set(['agent-api']);

/** Options of {@link startRegistrationController}. */
export interface RegistrationControllerOptions {
  readonly hub: KubeConfig;
  readonly ca: CertificateAuthority;
  /** Whether a cluster is accepted now (the ManagedCluster cache). */
  readonly clusterOf: (cluster: string) => ManagedCluster | undefined;
  readonly clusters: () => ManagedCluster[];
  /** Longest lifetime the signer issues, seconds; default 30 days (less if a CSR asks less). */
  readonly certSeconds?: number;
  /** Full resync period; default 30 s. */
  readonly resyncMs?: number;
  readonly onError?: (what: string, err: unknown) => void;
  readonly now?: () => Date;
}

/** A running controller. */
export interface RegistrationController {
  /** Tell the controller a ManagedCluster changed (from the ManagedCluster cache). */
  clusterChanged(cluster: string): void;
  /** Process one CSR now (e.g. right after the registration service created it). */
  csrChanged(name: string): Promise<void>;
  stop(): Promise<void>;
}

type Csr = V1CertificateSigningRequest;

function conditionOf(csr: Csr, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** Starts the controller; resolves once its CSR cache is filled and a first pass ran. */
export async function startRegistrationController(
  options: RegistrationControllerOptions,
): Promise<RegistrationController> {
  const certificates = options.hub.makeApiClient(CertificatesV1Api);
  const core = options.hub.makeApiClient(CoreV1Api);
  const rbac = options.hub.makeApiClient(RbacAuthorizationV1Api);
  const onError = options.onError ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const setUp = new Set<string>();
  let isStopped = false;

  /** Serializes work per key: a request during a run runs once after it. */
  const serial = (key: string, work: () => Promise<void>): Promise<void> => {
    const current = running.get(key);
    if (current !== undefined) {
      again.add(key);
      return current;
    }
    // Registered before the first pass starts: a pass that asks for the same key
    // synchronously (before its first await) then queues behind it, never beside it.
    let resolve: () => void = () => undefined;
    let reject: (err: unknown) => void = () => undefined;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    running.set(key, promise);
    (async () => {
      try {
        do {
          again.delete(key);
          if (isStopped) return;
          try {
            await work();
          } catch (err: unknown) {
            onError(key, err);
          }
        } while (again.has(key));
      } finally {
        running.delete(key);
      }
    })().then(resolve, reject);
    return promise;
  };

  const csrs: RunningInformer<Csr> = startInformer<Csr>({
    kubeConfig: options.hub,
    path: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
    list: async () =>
      (await certificates.listCertificateSigningRequest({
        labelSelector: AGENT_NAME_LABEL,
      })) as KubernetesListObject<Csr>,
    labelSelector: AGENT_NAME_LABEL,
    onChange: (csr, isDeleted) => {
      if (!isDeleted && csr.metadata?.name !== undefined) void processCsr(csr.metadata.name);
    },
    onError: (err) => onError('csr watch', err),
  });
  await csrs.synced;

  async function processCsr(name: string): Promise<void> {
    return serial(`csr/${name}`, async () => {
      let csr: Csr;
      try {
        csr = await certificates.readCertificateSigningRequest({ name });
      } catch (err: unknown) {
        if (apiStatus(err) === 404) return;
        throw err;
      }
      if (csr.spec.signerName !== AGENT_SIGNER_NAME) return;
      if (conditionOf(csr, 'Denied') || conditionOf(csr, 'Failed')) return;
      if (csr.status?.certificate !== undefined && csr.status.certificate !== '') return;
      const cluster = csr.metadata?.labels?.[CLUSTER_NAME_LABEL] ?? '';
      if (!conditionOf(csr, 'Approved')) {
        if (options.clusterOf(cluster)?.spec?.hubAcceptsClient !== true) return;
        const conditions = [...(csr.status?.conditions ?? [])];
        conditions.push({
          type: 'Approved',
          status: 'True',
          reason: APPROVED_REASON,
          message: `Auto approving the agent certificate of accepted cluster ${cluster}.`,
          lastUpdateTime: now(),
        });
        csr = await certificates.replaceCertificateSigningRequestApproval({
          name,
          body: { ...csr, status: { ...csr.status, conditions } },
        });
      }
      await sign(csr);
    });
  }

  async function sign(csr: Csr): Promise<void> {
    const name = csr.metadata?.name ?? '';
    const cluster = csr.metadata?.labels?.[CLUSTER_NAME_LABEL] ?? '';
    const agent = csr.metadata?.labels?.[AGENT_NAME_LABEL] ?? '';
    const requestPem = Buffer.from(csr.spec.request, 'base64').toString('utf8');
    let problem: string | undefined;
    let expected = '';
    try {
      expected = agentCommonName(cluster, agent);
    } catch (err: unknown) {
      problem = `its labels name no valid cluster/agent: ${(err as Error).message}`;
    }
    if (problem === undefined) {
      try {
        const info = parseCsr(requestPem);
        if (info.commonName !== expected) {
          problem = `its CN "${info.commonName}" is not "${expected}"`;
        } else if (
          info.organizations.length !== 1 ||
          info.organizations[0] !== AGENT_ORGANIZATION
        ) {
          problem = `its organizations must be exactly ["${AGENT_ORGANIZATION}"]`;
        } else if (
          info.ipAddresses.length > 0 ||
          info.dnsNames.some((n) => !ALLOWED_DNS_NAMES.has(n))
        ) {
          problem = 'it asks for subject alternative names other than agent-api';
        }
      } catch (err: unknown) {
        problem = `it is not a valid PKCS#10 request: ${(err as Error).message}`;
      }
    }
    const status = { ...csr.status };
    if (problem !== undefined) {
      status.conditions = [
        ...(status.conditions ?? []),
        {
          type: 'Failed',
          status: 'True',
          reason: 'SignerValidationFailure',
          message: `The hub will not sign this request: ${problem}.`,
          lastUpdateTime: now(),
        },
      ];
    } else {
      const requested = Math.min(
        csr.spec.expirationSeconds ?? DEFAULT_AGENT_CERT_SECONDS,
        options.certSeconds ?? DEFAULT_AGENT_CERT_SECONDS,
      );
      const seconds = Math.min(MAX_AGENT_CERT_SECONDS, Math.max(MIN_AGENT_CERT_SECONDS, requested));
      const certPem = signCsr(options.ca, requestPem, {
        usage: 'server-client',
        validityDays: seconds / 86_400,
        now: now(),
      });
      status.certificate = Buffer.from(certPem, 'utf8').toString('base64');
    }
    await certificates.replaceCertificateSigningRequestStatus({
      name,
      body: { ...csr, status },
    });
  }

  async function setUpCluster(cluster: ManagedCluster): Promise<void> {
    const name = cluster.metadata?.name ?? '';
    const uid = cluster.metadata?.uid;
    if (uid === undefined) return;
    const owner: V1OwnerReference = {
      apiVersion: `${CLUSTER_GROUP}/v1`,
      kind: 'ManagedCluster',
      name,
      uid,
    };
    try {
      await core.createNamespace({
        body: {
          metadata: {
            name,
            labels: { [CLUSTER_NAME_LABEL]: name },
            ownerReferences: [owner],
          },
        },
      });
    } catch (err: unknown) {
      if (apiStatus(err) !== 409) throw err;
    }
    const role = clusterProxyRoleName(name);
    try {
      await rbac.createClusterRole({
        body: {
          metadata: {
            name: role,
            labels: { [CLUSTER_NAME_LABEL]: name },
            ownerReferences: [owner],
          },
          rules: [
            {
              apiGroups: [CLUSTER_GROUP],
              resources: ['managedclusters/proxy'],
              resourceNames: [name],
              verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
            },
            {
              apiGroups: [CLUSTER_GROUP],
              resources: ['managedclusters'],
              resourceNames: [name],
              verbs: ['get'],
            },
          ],
        },
      });
    } catch (err: unknown) {
      if (apiStatus(err) !== 409) throw err;
    }
  }

  function clusterChanged(name: string): void {
    const cluster = options.clusterOf(name);
    if (cluster?.spec?.hubAcceptsClient !== true) {
      setUp.delete(name);
      return;
    }
    if (!setUp.has(name)) {
      void serial(`cluster/${name}`, async () => {
        const current = options.clusterOf(name);
        if (current === undefined || current.spec?.hubAcceptsClient !== true) return;
        await setUpCluster(current);
        setUp.add(name);
      });
    }
    for (const csr of csrs.list()) {
      if (csr.metadata?.labels?.[CLUSTER_NAME_LABEL] === name && csr.metadata.name !== undefined) {
        void processCsr(csr.metadata.name);
      }
    }
  }

  const resync = (): void => {
    for (const cluster of options.clusters()) {
      if (cluster.metadata?.name !== undefined) clusterChanged(cluster.metadata.name);
    }
    for (const csr of csrs.list()) {
      if (csr.metadata?.name !== undefined) void processCsr(csr.metadata.name);
    }
  };
  const timer = setInterval(resync, options.resyncMs ?? 30_000);
  timer.unref();
  resync();

  return {
    clusterChanged,
    csrChanged: (name) => processCsr(name),
    async stop() {
      if (isStopped) return;
      isStopped = true;
      clearInterval(timer);
      await csrs.stop();
      await Promise.allSettled([...running.values()]);
    },
  };
}
