/**
 * The hub's {@link RegistrationBackend}: what the proxy-server's registration API decides.
 *
 * - discovery: the hub CA and tunnel endpoints, HMAC-signed with the bootstrap token's secret.
 * - submit (bootstrap token): checks the token (unexpired, ours, single-use: bound to the first
 *   cluster/agent/key it registers), checks the CSR's subject, creates the ManagedCluster when
 *   absent (`hubAcceptsClient` = auto-accept), and creates a CertificateSigningRequest named
 *   after cluster, agent and key — so a retry finds the same one. The registration controller
 *   approves it once the cluster is accepted and signs it.
 * - status: the CSR's phase; with the certificate once signed (the token is then spent).
 * - renew (mTLS with the agent's current certificate): a new CSR for the same subject, approved
 *   at once while the cluster stays accepted — certificates rotate without a new token.
 */
import { createHash } from 'node:crypto';

import {
  CertificatesV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CertificateSigningRequest,
} from '@kubernetes/client-node';

import { parseCsr } from '../../certs/index.ts';
import {
  AGENT_ORGANIZATION,
  type DiscoveryAnswer,
  type RegistrationStatus,
  type TunnelEndpoints,
  agentCommonName,
  parseAgentCommonName,
  signDiscovery,
} from '../../protocol/index.ts';
import {
  type RegistrationBackend,
  type RegistrationCaller,
  RegistrationError,
} from '../../proxy-server/index.ts';
import { CLUSTER_GROUP, type ManagedCluster } from '../api/index.ts';
import { apiStatus } from '../kube/index.ts';
import { BootstrapTokens, type CheckedToken } from './bootstrap-tokens.ts';
import {
  AGENT_NAME_LABEL,
  AGENT_SIGNER_NAME,
  CLUSTER_NAME_LABEL,
  DEFAULT_AGENT_CERT_SECONDS,
  REQUEST_KIND_LABEL,
  TOKEN_ID_ANNOTATION,
} from './constants.ts';

/** Options of {@link createRegistrationService}. */
export interface RegistrationServiceOptions {
  readonly hub: KubeConfig;
  /** The hub CA bundle (PEM) agents verify the proxy-server with. */
  readonly caBundle: string;
  /** Where agents reach the tunnel (advertised at discovery); a function when known late. */
  readonly tunnel: TunnelEndpoints | (() => TunnelEndpoints);
  /** New clusters are created accepted (`hubAcceptsClient: true`); default false. */
  readonly autoAccept?: boolean;
  /** Lifetime asked for agent certificates, seconds; default 30 days. */
  readonly certSeconds?: number;
  /** The ManagedCluster cache. */
  readonly clusterOf: (cluster: string) => ManagedCluster | undefined;
  /** Called after a CSR is created (the controller, when this replica leads, acts at once). */
  readonly onCsrCreated?: (name: string) => void;
  /** How long submit and renew wait for the certificate before answering Pending; default 5 s. */
  readonly waitMs?: number;
  readonly tokens?: BootstrapTokens;
}

type Csr = V1CertificateSigningRequest;

function keyHash(publicKeyPem: string): string {
  return createHash('sha256').update(publicKeyPem).digest('hex').slice(0, 16);
}

function csrName(cluster: string, agent: string, hash: string): string {
  return `${cluster}-${agent}-${hash.slice(0, 10)}`;
}

function condition(csr: Csr, type: string) {
  return (csr.status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates the backend. Stateless apart from API clients; safe for concurrent calls. */
export function createRegistrationService(
  options: RegistrationServiceOptions,
): RegistrationBackend {
  const certificates = options.hub.makeApiClient(CertificatesV1Api);
  const custom = options.hub.makeApiClient(CustomObjectsApi);
  const tokens = options.tokens ?? new BootstrapTokens(options.hub);
  const waitMs = options.waitMs ?? 5_000;

  function checkCsr(csrPem: string, expectedCn: string): { publicKeyPem: string } {
    let info;
    try {
      info = parseCsr(csrPem);
    } catch (err: unknown) {
      throw new RegistrationError(
        'REG_ERR_INVALID_CSR',
        `the CSR is not a valid PKCS#10 request: ${(err as Error).message}`,
      );
    }
    if (info.commonName !== expectedCn) {
      throw new RegistrationError(
        'REG_ERR_INVALID_CSR',
        `the CSR's CN "${info.commonName.slice(0, 128)}" is not "${expectedCn}"`,
      );
    }
    if (info.organizations.length !== 1 || info.organizations[0] !== AGENT_ORGANIZATION) {
      throw new RegistrationError(
        'REG_ERR_INVALID_CSR',
        `the CSR's organizations must be exactly ["${AGENT_ORGANIZATION}"]`,
      );
    }
    if (info.ipAddresses.length > 0 || info.dnsNames.some((n) => n !== 'agent-api')) {
      throw new RegistrationError(
        'REG_ERR_INVALID_CSR',
        'the CSR may name no subject alternative name other than agent-api',
      );
    }
    return { publicKeyPem: info.publicKeyPem };
  }

  async function readCsr(name: string): Promise<Csr | undefined> {
    try {
      return await certificates.readCertificateSigningRequest({ name });
    } catch (err: unknown) {
      if (apiStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async function ensureCsr(
    name: string,
    labels: Record<string, string>,
    annotations: Record<string, string>,
    csrPem: string,
  ): Promise<Csr> {
    try {
      const created = await certificates.createCertificateSigningRequest({
        body: {
          metadata: { name, labels, annotations },
          spec: {
            request: Buffer.from(csrPem, 'utf8').toString('base64'),
            signerName: AGENT_SIGNER_NAME,
            // The API's floor is 10 minutes; the hub's signer may issue shorter lives than
            // this (its own certSeconds), never longer.
            expirationSeconds: Math.max(600, options.certSeconds ?? DEFAULT_AGENT_CERT_SECONDS),
            usages: ['digital signature', 'key encipherment', 'client auth', 'server auth'],
          },
        },
      });
      options.onCsrCreated?.(name);
      return created;
    } catch (err: unknown) {
      if (apiStatus(err) !== 409) throw err;
      const existing = await readCsr(name);
      if (existing === undefined) throw err;
      return existing;
    }
  }

  async function waitForCertificate(csr: Csr): Promise<Csr> {
    const name = csr.metadata?.name ?? '';
    const deadline = Date.now() + waitMs;
    let current = csr;
    while (
      (current.status?.certificate ?? '') === '' &&
      condition(current, 'Denied') === undefined &&
      condition(current, 'Failed') === undefined &&
      Date.now() < deadline
    ) {
      await sleep(200);
      current = (await readCsr(name)) ?? current;
    }
    return current;
  }

  function statusOf(csr: Csr): RegistrationStatus {
    const clusterName = csr.metadata?.labels?.[CLUSTER_NAME_LABEL] ?? '';
    const base = {
      name: csr.metadata?.name ?? '',
      clusterName,
      agentName: csr.metadata?.labels?.[AGENT_NAME_LABEL] ?? '',
      caBundle: options.caBundle,
    };
    const certificate = csr.status?.certificate ?? '';
    if (certificate !== '') {
      return {
        ...base,
        phase: 'Issued',
        certificate: Buffer.from(certificate, 'base64').toString('utf8'),
      };
    }
    const refusal = condition(csr, 'Denied') ?? condition(csr, 'Failed');
    if (refusal !== undefined) {
      return {
        ...base,
        phase: 'Denied',
        message: `${refusal.type}: ${refusal.reason ?? ''} ${refusal.message ?? ''}`.trim(),
      };
    }
    const accepted = options.clusterOf(clusterName)?.spec?.hubAcceptsClient === true;
    return {
      ...base,
      phase: 'Pending',
      message: accepted
        ? 'approved; waiting for the hub signer'
        : `waiting for the hub to accept cluster ${clusterName} (\`spokelink accept ${clusterName}\`)`,
    };
  }

  async function ensureManagedCluster(cluster: string, tokenId: string): Promise<void> {
    try {
      await custom.createClusterCustomObject({
        group: CLUSTER_GROUP,
        version: 'v1',
        plural: 'managedclusters',
        body: {
          apiVersion: `${CLUSTER_GROUP}/v1`,
          kind: 'ManagedCluster',
          metadata: {
            name: cluster,
            annotations: { [TOKEN_ID_ANNOTATION]: tokenId },
          },
          spec: { hubAcceptsClient: options.autoAccept === true, leaseDurationSeconds: 60 },
        },
      });
    } catch (err: unknown) {
      if (apiStatus(err) !== 409) throw err;
    }
  }

  function bindingOf(cluster: string, agent: string, publicKeyPem: string): string {
    return `${cluster}/${agent}/${keyHash(publicKeyPem)}`;
  }

  async function answer(csr: Csr, token: CheckedToken | undefined): Promise<RegistrationStatus> {
    const status = statusOf(csr);
    if (status.phase === 'Issued' && token !== undefined) await tokens.consume(token);
    return status;
  }

  return {
    async discovery(tokenId) {
      const secret = await tokens.secretOf(tokenId);
      const tunnel = typeof options.tunnel === 'function' ? options.tunnel() : options.tunnel;
      const payload = JSON.stringify({ caBundle: options.caBundle, tunnel });
      const result: DiscoveryAnswer = { payload, signature: signDiscovery(payload, secret) };
      return result;
    },

    async submit(body, caller) {
      const token = await tokens.check(caller.token);
      let expectedCn: string;
      try {
        expectedCn = agentCommonName(body.clusterName, body.agentName);
      } catch (err: unknown) {
        throw new RegistrationError('REG_ERR_INVALID_REQUEST', (err as Error).message);
      }
      const { publicKeyPem } = checkCsr(body.csr, expectedCn);
      await tokens.bind(token, bindingOf(body.clusterName, body.agentName, publicKeyPem));
      await ensureManagedCluster(body.clusterName, token.id);
      const csr = await ensureCsr(
        csrName(body.clusterName, body.agentName, keyHash(publicKeyPem)),
        {
          [CLUSTER_NAME_LABEL]: body.clusterName,
          [AGENT_NAME_LABEL]: body.agentName,
          [REQUEST_KIND_LABEL]: 'registration',
        },
        { [TOKEN_ID_ANNOTATION]: token.id },
        body.csr,
      );
      return answer(await waitForCertificate(csr), await tokens.check(caller.token));
    },

    async renew(body, caller) {
      const identity = agentOf(caller);
      if (options.clusterOf(identity.cluster)?.spec?.hubAcceptsClient !== true) {
        throw new RegistrationError(
          'REG_ERR_CLUSTER_DENIED',
          `cluster "${identity.cluster}" is not accepted by the hub; no certificate renewal`,
        );
      }
      const { publicKeyPem } = checkCsr(body.csr, caller.certificate?.commonName ?? '');
      const csr = await ensureCsr(
        csrName(identity.cluster, identity.agentName, keyHash(publicKeyPem)),
        {
          [CLUSTER_NAME_LABEL]: identity.cluster,
          [AGENT_NAME_LABEL]: identity.agentName,
          [REQUEST_KIND_LABEL]: 'renewal',
        },
        {},
        body.csr,
      );
      return statusOf(await waitForCertificate(csr));
    },

    async status(name, caller) {
      const csr = await readCsr(name);
      const cluster = csr?.metadata?.labels?.[CLUSTER_NAME_LABEL];
      const agent = csr?.metadata?.labels?.[AGENT_NAME_LABEL];
      if (
        csr === undefined ||
        csr.spec.signerName !== AGENT_SIGNER_NAME ||
        cluster === undefined ||
        agent === undefined
      ) {
        throw new RegistrationError('REG_ERR_NOT_FOUND', `no registration request "${name}"`);
      }
      if (caller.certificate !== undefined) {
        const identity = agentOf(caller);
        if (identity.cluster !== cluster) {
          throw new RegistrationError(
            'REG_ERR_FORBIDDEN',
            `request "${name}" belongs to cluster "${cluster}", not "${identity.cluster}"`,
          );
        }
        return statusOf(csr);
      }
      const token = await tokens.check(caller.token);
      const requestPem = Buffer.from(csr.spec.request, 'base64').toString('utf8');
      const binding = bindingOf(cluster, agent, parseCsr(requestPem).publicKeyPem);
      if (token.boundTo !== binding) {
        throw new RegistrationError(
          'REG_ERR_FORBIDDEN',
          `bootstrap token ${token.id} was not used for request "${name}"`,
        );
      }
      return answer(csr, token);
    },
  };
}

function agentOf(caller: RegistrationCaller): { cluster: string; agentName: string } {
  const cn = caller.certificate?.commonName;
  const identity = cn === undefined ? undefined : parseAgentCommonName(cn);
  if (identity === undefined) {
    throw new RegistrationError(
      'REG_ERR_FORBIDDEN',
      cn === undefined
        ? 'this endpoint needs the agent certificate the hub issued (mTLS)'
        : `client certificate CN "${cn.slice(0, 128)}" is not an agent certificate`,
    );
  }
  return identity;
}
