// What the cluster gateway e2e files share: admin clients of the real hub and spoke1,
// ServiceAccount tokens, hub users of whom alice may use managedclusters/proxy, the agent's own
// identity on the spoke (it may only impersonate), a tunnel rig whose proxy-server serves the
// gateway for spoke1, a plain request to the gateway, and the clean-up.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, inject } from 'vitest';

import type { AgentApiOptions } from '../../proxy-agent/index.ts';
import { testPki } from '../framework/pki.ts';
import { startTunnelRig, type TunnelRig } from '../framework/tunnel-rig.ts';

/** The cluster the gateway files reach: spoke1, with one agent in the rig. */
export const CLUSTER = 'spoke1';

/** The hub user who may use managedclusters/proxy. */
const PROXY_USER = 'alice';

export interface AdminClients {
  readonly core: CoreV1Api;
  readonly rbac: RbacAuthorizationV1Api;
}

function adminClients(kubeconfigPath: string): AdminClients {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return {
    core: config.makeApiClient(CoreV1Api),
    rbac: config.makeApiClient(RbacAuthorizationV1Api),
  };
}

/** A token of the ServiceAccount `namespace`/`name`, valid for an hour. */
export async function serviceAccountToken(core: CoreV1Api, namespace: string, name: string) {
  const answer = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return answer.status?.token ?? '';
}

async function createNamespace(core: CoreV1Api, prefix: string): Promise<string> {
  const created = await core.createNamespace({ body: { metadata: { generateName: prefix } } });
  return created.metadata?.name ?? '';
}

/** What a gateway file names: its prefix, its hub users and what alice may do. */
export interface GatewayScenarioOptions<User extends string> {
  /** Starts the names of the namespaces, roles and the scratch folder, e.g. `gateway`. */
  readonly prefix: string;
  /** ServiceAccounts on the hub, each with a token; only alice may use the gateway. */
  readonly hubUsers: readonly User[];
  /** The verbs alice holds on managedclusters/proxy. */
  readonly proxyVerbs: readonly string[];
}

/** A GET's answer, as the gateway sent it. */
export interface PlainAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * Registers the file's `beforeAll` (on the hub: a namespace with the users and their tokens,
 * alice's role; on the spoke: a namespace with the agent's ServiceAccount, its right to
 * impersonate and its token in the scratch folder) and `afterAll` (all of it). A file's own
 * hooks registered after this call run after this set-up. Call once at module level.
 */
export function gatewayScenario<User extends string>(options: GatewayScenarioOptions<User>) {
  const hub = inject('hub');
  const spoke = inject('spoke1');
  const suffix = Date.now().toString(36);
  const proxyRole = `spokelink-${options.prefix}-proxy-${suffix}`;
  const agentRole = `spokelink-${options.prefix}-agent-${suffix}`;
  const onHub = adminClients(hub.kubeconfigPath);
  const onSpoke = adminClients(spoke.kubeconfigPath);
  const hubTokens = Object.fromEntries(options.hubUsers.map((user) => [user, ''])) as Record<
    User,
    string
  >;
  let hubNamespace = '';
  let spokeNamespace = '';
  let scratch = '';
  let agentApi: AgentApiOptions | undefined;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), `spokelink-${options.prefix}-`));
    // The hub: alice may use managedclusters/proxy (no CRD is needed for a subresource rule).
    hubNamespace = await createNamespace(onHub.core, `${options.prefix}-`);
    for (const name of options.hubUsers) {
      await onHub.core.createNamespacedServiceAccount({
        namespace: hubNamespace,
        body: { metadata: { name } },
      });
      hubTokens[name] = await serviceAccountToken(onHub.core, hubNamespace, name);
    }
    await onHub.rbac.createClusterRole({
      body: {
        metadata: { name: proxyRole },
        rules: [
          {
            apiGroups: ['cluster.open-cluster-management.io'],
            resources: ['managedclusters/proxy'],
            verbs: [...options.proxyVerbs],
          },
        ],
      },
    });
    await onHub.rbac.createClusterRoleBinding({
      body: {
        metadata: { name: proxyRole },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: proxyRole },
        subjects: [{ kind: 'ServiceAccount', name: PROXY_USER, namespace: hubNamespace }],
      },
    });

    // The spoke: the agent's own identity may impersonate, and nothing else.
    spokeNamespace = await createNamespace(onSpoke.core, `${options.prefix}-`);
    await onSpoke.core.createNamespacedServiceAccount({
      namespace: spokeNamespace,
      body: { metadata: { name: 'spokelink-agent' } },
    });
    await onSpoke.rbac.createClusterRole({
      body: {
        metadata: { name: agentRole },
        rules: [
          {
            apiGroups: [''],
            resources: ['users', 'groups', 'serviceaccounts'],
            verbs: ['impersonate'],
          },
        ],
      },
    });
    await onSpoke.rbac.createClusterRoleBinding({
      body: {
        metadata: { name: agentRole },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: agentRole },
        subjects: [{ kind: 'ServiceAccount', name: 'spokelink-agent', namespace: spokeNamespace }],
      },
    });
    const tokenFile = join(scratch, 'agent-token');
    writeFileSync(
      tokenFile,
      await serviceAccountToken(onSpoke.core, spokeNamespace, 'spokelink-agent'),
      { mode: 0o600 },
    );
    agentApi = { tokenFile, kubeApiserverCaPem: spoke.servingCaPem };
  });

  afterAll(async () => {
    await onHub.rbac.deleteClusterRoleBinding({ name: proxyRole }).catch(() => undefined);
    await onHub.rbac.deleteClusterRole({ name: proxyRole }).catch(() => undefined);
    await onSpoke.rbac.deleteClusterRoleBinding({ name: agentRole }).catch(() => undefined);
    await onSpoke.rbac.deleteClusterRole({ name: agentRole }).catch(() => undefined);
    if (hubNamespace)
      await onHub.core.deleteNamespace({ name: hubNamespace }).catch(() => undefined);
    if (spokeNamespace)
      await onSpoke.core.deleteNamespace({ name: spokeNamespace }).catch(() => undefined);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  return {
    hub,
    spoke,
    /** Ends the names of what a file makes for itself. */
    suffix,
    onHub,
    onSpoke,
    /** Each hub user's token, once `beforeAll` ran. */
    hubTokens,
    get hubNamespace() {
      return hubNamespace;
    },
    get spokeNamespace() {
      return spokeNamespace;
    },
    /** A temporary folder for token and kubeconfig files, removed after the file. */
    get scratch() {
      return scratch;
    },

    /** A rig whose proxy-server serves the gateway (test CA certificate) and an agent for spoke1. */
    rig(): Promise<TunnelRig> {
      if (agentApi === undefined) throw new Error('beforeAll did not prepare the spoke');
      const pki = testPki();
      return startTunnelRig({
        transport: 'grpc',
        clusters: [{ name: CLUSTER, kubeApiserver: new URL(spoke.server).host, agentApi }],
        gateway: {
          hub: {
            server: hub.server,
            caPem: hub.servingCaPem,
            clientCertPem: hub.admin.certPem,
            clientKeyPem: hub.admin.keyPem,
          },
          clientCaPem: hub.clientCa.certPem,
          cert: { certPem: pki.gateway.certPem, keyPem: pki.gateway.keyPem },
        },
      });
    },
  };
}

/**
 * GET `/clusters/spoke1/api` from the rig's gateway with node's https client, trusting the test
 * CA: what a client without kubectl sees.
 */
export function getClusterApi(
  r: TunnelRig,
  options: Pick<RequestOptions, 'headers'> = {},
): Promise<PlainAnswer> {
  const url = new URL(`/clusters/${CLUSTER}/api`, r.server.addresses.gateway);
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: testPki().ca.certPem, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
