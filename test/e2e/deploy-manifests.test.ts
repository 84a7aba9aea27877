// deploy/hub/ against a real hub API server. It applies (server-side dry run), and its RBAC is
// proven the only way that counts: the hub process runs as ServiceAccount spokelink-hub, with
// the kubeconfig of 30-hub-kubeconfig.yaml and the token kube-controller-manager put in its
// Secret, and registers a cluster end to end (discovery, CSR, accept, approve and sign, renewal,
// cluster namespace and ClusterRole, add-on and status writes, the gateway's TokenReview and
// SubjectAccessReview, leader election); any missing grant fails a step, and the hub meets no
// 403 all along. `kubectl auth can-i --list` then shows it holds nothing more than 20-rbac.yaml
// grants. The agent's manifests: deploy-agent-manifests.test.ts.
import { X509Certificate, createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import {
  CertificatesV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';

import {
  createCsr,
  generateKeyPair,
  parseCertificate,
  verifyCertificate,
} from '../../certs/index.ts';
import { AGENT_ORGANIZATION, agentCommonName } from '../../protocol/index.ts';
import { RegistrationClient, discoverHub } from '../../proxy-agent/index.ts';
import { startHub, type Hub } from '../../hub/hub-process/start-hub.ts';
import { apiStatus, describeError } from '../../hub/kube/index.ts';
import { BootstrapTokens } from '../../hub/registration/bootstrap-tokens.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import {
  HUB_DEPLOY_DIR,
  type Kubectl,
  canI,
  grantsOf,
  hubObject,
  initHub,
  loadKubeConfig,
  spokelink,
  viaGateway,
} from './deploy-kit.ts';

const hubPlane = inject('hub');
const KUBECTL = hubPlane.binaries.kubectl;
const ADMIN: Kubectl = { binary: KUBECTL, kubeconfig: hubPlane.kubeconfigPath };
const hubFile = (name: string) => join(HUB_DEPLOY_DIR, name);

const HUB_NAMESPACE = 'open-cluster-management-hub';
const HUB_SA = `system:serviceaccount:${HUB_NAMESPACE}:spokelink-hub`;
/** An identity with no bindings of its own: what every authenticated caller may do. */
const BASELINE_SA = `system:serviceaccount:${HUB_NAMESPACE}:deploy-manifests-baseline`;
const CLUSTER = 'deploy-c1';
const suffix = Date.now().toString(36);
const GATEWAY_USERS = { denied: `deploy-denied-${suffix}`, allowed: `deploy-allowed-${suffix}` };

interface Kubeconfig {
  clusters: { cluster: Record<string, string> }[];
  users: { user: Record<string, string> }[];
}

describe('deploy/hub', () => {
  const adminKc = loadKubeConfig(hubPlane.kubeconfigPath);
  const core = adminKc.makeApiClient(CoreV1Api);
  const custom = adminKc.makeApiClient(CustomObjectsApi);
  const rbac = adminKc.makeApiClient(RbacAuthorizationV1Api);
  // Two agent keys for the whole file: the registration, then a renewal with a new key.
  const keys = [generateKeyPair(), generateKeyPair()] as const;
  const hubErrors: { what: string; err: unknown }[] = [];
  let scratch = '';
  let env: NodeJS.ProcessEnv;
  let token = '';
  let caHash = '';
  let hub: Hub | undefined;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'spokelink-deploy-'));
    env = { ...process.env, SPOKELINK_HOME: scratch, KUBECONFIG: '' };
    // deploy/README.md: `spokelink init` first, as the hub's admin.
    ({ token, caHash } = await initHub(hubPlane.kubeconfigPath, env));
  }, 180_000);

  afterAll(async () => {
    await hub?.close();
    await custom
      .deleteClusterCustomObject({
        group: 'cluster.open-cluster-management.io',
        version: 'v1',
        plural: 'managedclusters',
        name: CLUSTER,
      })
      .catch(() => undefined);
    await adminKc
      .makeApiClient(CertificatesV1Api)
      .deleteCollectionCertificateSigningRequest({
        labelSelector: `open-cluster-management.io/cluster-name=${CLUSTER}`,
      })
      .catch(() => undefined);
    for (const name of Object.values(GATEWAY_USERS)) {
      await core
        .deleteNamespacedServiceAccount({ name, namespace: 'default' })
        .catch(() => undefined);
    }
    await rbac.deleteClusterRoleBinding({ name: GATEWAY_USERS.allowed }).catch(() => undefined);
    await kubectl(
      KUBECTL,
      [
        'delete',
        '--ignore-not-found',
        '-f',
        hubFile('20-rbac.yaml'),
        '-f',
        hubFile('10-service-account.yaml'),
      ],
      { kubeconfig: hubPlane.kubeconfigPath },
    );
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  it('applies to a real hub API server (server-side dry run)', async () => {
    const run = await kubectl(KUBECTL, ['apply', '--dry-run=server', '-f', HUB_DEPLOY_DIR], {
      kubeconfig: hubPlane.kubeconfigPath,
    });
    expect(run.code, run.stderr).toBe(0);
    const applied = run.stdout
      .trim()
      .split('\n')
      .map((line) => /^(\S+) (?:created|configured|unchanged) \(server dry run\)$/.exec(line)?.[1]);
    expect(applied.sort()).toEqual(
      [
        'namespace/open-cluster-management-hub',
        'serviceaccount/spokelink-hub',
        'secret/spokelink-hub-token',
        'clusterrole.rbac.authorization.k8s.io/spokelink-hub',
        'clusterrole.rbac.authorization.k8s.io/spokelink-hub-managed-serviceaccount',
        'clusterrole.rbac.authorization.k8s.io/spokelink-hub-channel-reader',
        'clusterrolebinding.rbac.authorization.k8s.io/spokelink-hub',
        'role.rbac.authorization.k8s.io/spokelink-hub',
        'rolebinding.rbac.authorization.k8s.io/spokelink-hub',
        'role.rbac.authorization.k8s.io/spokelink-hub-bootstrap-tokens',
        'rolebinding.rbac.authorization.k8s.io/spokelink-hub-bootstrap-tokens',
        'rolebinding.rbac.authorization.k8s.io/spokelink-hub-authentication-reader',
        'configmap/spokelink-hub-kubeconfig',
        'deployment.apps/spokelink-hub',
        'poddisruptionbudget.policy/spokelink-hub',
        'service/spokelink-hub',
      ].sort(),
    );
  });

  it('agrees with itself and with `spokelink hub`', async () => {
    const deployment = hubObject('40-deployment.yaml');
    const service = hubObject('50-service.yaml');
    const configMap = hubObject('30-hub-kubeconfig.yaml');
    const pod = deployment.spec?.template?.spec;
    const container = pod?.containers[0];
    const args = container?.args ?? [];
    expect(args[0]).toBe('hub');
    // Every flag is one `spokelink hub` takes.
    const help = await spokelink(['hub', '--help'], env);
    for (const arg of args.slice(1)) expect(help.stdout).toContain(arg.split('=')[0]);
    // Agents hold a tunnel to each replica.
    expect(args).toContain(`--server-count=${deployment.spec?.replicas}`);
    // The kubeconfig is the ConfigMap's, and it reads the token Secret where it is mounted.
    const mountOf = (volume: string | undefined) =>
      container?.volumeMounts.find((m) => m.name === volume)?.mountPath ?? '';
    const configVolume = pod?.volumes.find((v) => v.configMap?.name === configMap.metadata.name);
    const tokenVolume = pod?.volumes.find((v) => v.secret?.secretName === 'spokelink-hub-token');
    const kubeconfigArg = args.find((a) => a.startsWith('--kubeconfig='))?.slice(13);
    expect(join(mountOf(configVolume?.name), 'kubeconfig')).toBe(kubeconfigArg);
    const kubeconfig = parse(configMap.data?.['kubeconfig'] ?? '') as Kubeconfig;
    const user = kubeconfig.users[0]?.user ?? {};
    expect(user['tokenFile']).toBe(user['token-file']);
    expect(dirname(kubeconfig.users[0]?.user['token-file'] ?? '')).toBe(mountOf(tokenVolume?.name));
    expect(dirname(kubeconfig.clusters[0]?.cluster['certificate-authority'] ?? '')).toBe(
      mountOf(tokenVolume?.name),
    );
    expect(pod?.serviceAccountName).toBe('spokelink-hub');
    // The Service's ports are the container's: agents dial the ports the hub advertises.
    const containerPorts = new Map(container?.ports.map((p) => [p.name, p.containerPort]));
    const ports = service.spec?.ports ?? [];
    for (const port of ports) {
      expect(containerPorts.get(port.targetPort), port.name).toBe(port.port);
    }
    expect(ports.map((p) => p.port).sort()).toEqual([8091, 8098, 8099, 8443]);
  });

  it('runs the hub as ServiceAccount spokelink-hub with the deployed kubeconfig', async () => {
    const apply = await kubectl(
      KUBECTL,
      ['apply', '-f', hubFile('10-service-account.yaml'), '-f', hubFile('20-rbac.yaml')],
      { kubeconfig: hubPlane.kubeconfigPath },
    );
    expect(apply.code, apply.stderr).toBe(0);
    // kube-controller-manager fills the token Secret in.
    const secret = await eventually('the hub token Secret to be filled in', async () => {
      const s = await core.readNamespacedSecret({
        name: 'spokelink-hub-token',
        namespace: HUB_NAMESPACE,
      });
      return s.data?.['token'] !== undefined && s.data['ca.crt'] !== undefined ? s : undefined;
    });
    const tokenDir = join(scratch, 'hub-token');
    mkdirSync(tokenDir, { recursive: true });
    for (const key of ['token', 'ca.crt']) {
      writeFileSync(join(tokenDir, key), Buffer.from(secret.data?.[key] ?? '', 'base64'));
    }
    // The Pod's kubeconfig, with the mount path and the in-cluster address of this machine.
    const configMap = hubObject('30-hub-kubeconfig.yaml');
    const kubeconfigPath = join(scratch, 'hub.kubeconfig');
    writeFileSync(
      kubeconfigPath,
      (configMap.data?.['kubeconfig'] ?? '')
        .replaceAll('/var/run/secrets/spokelink/hub-token', tokenDir)
        .replaceAll('https://kubernetes.default.svc', hubPlane.server),
    );
    // client-go reads it as the same identity.
    const whoami = await kubectl(
      KUBECTL,
      ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'],
      {
        kubeconfig: kubeconfigPath,
      },
    );
    expect(whoami.stdout, whoami.stderr).toBe(HUB_SA);

    hub = await startHub({
      hub: loadKubeConfig(kubeconfigPath),
      listen: {
        agentGrpc: 0,
        agentWebSocket: 0,
        frontendGrpc: 0,
        registration: 0,
        gateway: 0,
        health: 0,
      },
      leaseTimings: { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
      onError: (what, err) => hubErrors.push({ what, err }),
    });
    // It takes the Lease (get, create, update in its namespace).
    const running = hub;
    await eventually('the hub to lead its controllers', async () =>
      running.isLeader() ? true : undefined,
    );
  });

  it('registers, accepts, signs and sets up a cluster, all as the hub ServiceAccount', async () => {
    const running = hub as Hub;
    const hubUrl = running.endpoints.registration ?? '';
    // Discovery reads the token Secret in kube-system.
    const discovery = await discoverHub({ hubUrl, token, caHash });
    const client = new RegistrationClient({ hubUrl, caPem: discovery.caBundle });
    const csr = createCsr({
      commonName: agentCommonName(CLUSTER, 'agent'),
      organizations: [AGENT_ORGANIZATION],
      keyPair: keys[0],
    });
    // Creates the ManagedCluster (not accepted) and the CSR.
    const pending = await client.submit(token, { clusterName: CLUSTER, agentName: 'agent', csr });
    expect(pending.phase).toBe('Pending');

    const accept = await spokelink(
      ['accept', CLUSTER, '--kubeconfig', hubPlane.kubeconfigPath],
      env,
    );
    expect(accept.code, accept.stderr).toBe(0);
    // Approved and signed by the hub's signer; handing the certificate out spends the token.
    const issued = await eventually('the agent certificate', async () => {
      const status = await client.status(pending.name, { token });
      return status.phase === 'Issued' ? status : undefined;
    });
    const certPem = issued.certificate ?? '';
    expect(parseCertificate(certPem).commonName).toBe(agentCommonName(CLUSTER, 'agent'));
    expect(() =>
      verifyCertificate(certPem, running.pki.ca.certPem, { usage: 'client' }),
    ).not.toThrow();
    const spent = (await new BootstrapTokens(adminKc).list()).find((t) =>
      token.startsWith(`${t.id}.`),
    );
    expect(spent?.consumedAt).toBeDefined();

    // The cluster's namespace and gateway ClusterRole.
    await eventually('the cluster namespace', () =>
      core.readNamespace({ name: CLUSTER }).catch(() => undefined),
    );
    const role = await eventually('the cluster-proxy ClusterRole', () =>
      rbac
        .readClusterRole({ name: `open-cluster-management:cluster-proxy:${CLUSTER}` })
        .catch(() => undefined),
    );
    expect(role.rules?.[0]?.resources).toEqual(['managedclusters/proxy']);
    expect(role.rules?.[0]?.resourceNames).toEqual([CLUSTER]);

    // The status and add-on controllers write the ManagedCluster, its label and its add-on.
    await eventually('HubAcceptedManagedCluster and the add-on label', async () => {
      const cluster = (await custom.getClusterCustomObject({
        group: 'cluster.open-cluster-management.io',
        version: 'v1',
        plural: 'managedclusters',
        name: CLUSTER,
      })) as {
        metadata: { labels?: Record<string, string> };
        status?: { conditions?: { type: string; status: string }[] };
      };
      const accepted = cluster.status?.conditions?.find(
        (c) => c.type === 'HubAcceptedManagedCluster',
      );
      const label =
        cluster.metadata.labels?.['feature.open-cluster-management.io/addon-cluster-proxy'];
      return accepted?.status === 'True' && label === 'unreachable' ? true : undefined;
    });
    const addOn = await eventually('the cluster-proxy ManagedClusterAddOn status', async () => {
      const object = (await custom.getNamespacedCustomObject({
        group: 'addon.open-cluster-management.io',
        version: 'v1alpha1',
        plural: 'managedclusteraddons',
        namespace: CLUSTER,
        name: 'cluster-proxy',
      })) as { status?: { conditions?: { type: string; status: string }[] } };
      return object.status?.conditions?.find((c) => c.type === 'Available');
    });
    expect(addOn.status).toBe('Unknown');

    // Rotation: a new key, authenticated by the current certificate, no token.
    const renewal = await client.renew(
      { certPem, keyPem: keys[0].privateKeyPem },
      createCsr({
        commonName: agentCommonName(CLUSTER, 'agent'),
        organizations: [AGENT_ORGANIZATION],
        keyPair: keys[1],
      }),
    );
    const renewed =
      renewal.phase === 'Issued'
        ? renewal
        : await eventually('the renewed certificate', async () => {
            const status = await client.status(renewal.name, {
              clientCert: { certPem, keyPem: keys[0].privateKeyPem },
            });
            return status.phase === 'Issued' ? status : undefined;
          });
    expect(
      new X509Certificate(renewed.certificate ?? '').publicKey.equals(
        createPublicKey(keys[1].publicKeyPem),
      ),
    ).toBe(true);
  });

  it("answers the cluster gateway's TokenReview and SubjectAccessReview as the hub ServiceAccount", async () => {
    const running = hub as Hub;
    const tokens: Record<string, string> = {};
    for (const [kind, name] of Object.entries(GATEWAY_USERS)) {
      await core.createNamespacedServiceAccount({
        namespace: 'default',
        body: { metadata: { name } },
      });
      const answer = await core.createNamespacedServiceAccountToken({
        name,
        namespace: 'default',
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
      tokens[kind] = answer.status?.token ?? '';
    }
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: GATEWAY_USERS.allowed },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: `open-cluster-management:cluster-proxy:${CLUSTER}`,
        },
        subjects: [{ kind: 'ServiceAccount', name: GATEWAY_USERS.allowed, namespace: 'default' }],
      },
    });
    const gateway = running.endpoints.gateway ?? '';
    const caPem = running.pki.ca.certPem;
    const path = `/clusters/${CLUSTER}/api`;
    // Authenticated by TokenReview, refused by the SubjectAccessReview.
    const denied = await viaGateway(gateway, caPem, path, tokens['denied'] ?? '');
    expect(denied.status, denied.message).toBe(403);
    expect(denied.message).toContain(`system:serviceaccount:default:${GATEWAY_USERS.denied}`);
    // Allowed by it: the gateway dials the cluster, which has no agent connected.
    const allowed = await eventually('the new binding to take effect', async () => {
      const answer = await viaGateway(gateway, caPem, path, tokens['allowed'] ?? '');
      return answer.status === 403 ? undefined : answer;
    });
    expect(allowed.status, allowed.message).toBe(503);
    expect(allowed.message).toContain(
      `cannot reach cluster "${CLUSTER}" through the tunnel (no-agent)`,
    );
  });

  it('holds exactly what deploy/hub grants, and no more', async () => {
    // Cluster-wide (seen from a namespace with no Role of ours).
    expect(await grantsOf(ADMIN, HUB_SA, BASELINE_SA, 'default')).toEqual(
      [
        'certificatesigningrequests.certificates.k8s.io|[]|[]|[get list watch create]',
        'channels.apps.open-cluster-management.io|[]|[]|[get list watch]',
        'subscriptions.apps.open-cluster-management.io|[]|[]|[get list watch]',
        'subscriptions.apps.open-cluster-management.io/status|[]|[]|[update]',
        'subscriptionreports.apps.open-cluster-management.io|[]|[]|[get create update]',
        'certificatesigningrequests.certificates.k8s.io/approval|[]|[]|[update]',
        'certificatesigningrequests.certificates.k8s.io/status|[]|[]|[update]',
        'clustermanagementaddons.addon.open-cluster-management.io|[]|[]|[get create]',
        'clusterroles.rbac.authorization.k8s.io|[]|[]|[create]',
        'clusterroles.rbac.authorization.k8s.io|[]|[spokelink-hub-managed-serviceaccount]|[bind]',
        'managedserviceaccounts.authentication.open-cluster-management.io|[]|[]|[get list watch]',
        'managedserviceaccounts.authentication.open-cluster-management.io/status|[]|[]|[update]',
        'rolebindings.rbac.authorization.k8s.io|[]|[]|[create]',
        'managedclusteraddons.addon.open-cluster-management.io|[]|[]|[get list watch create]',
        'managedclusteraddons.addon.open-cluster-management.io/status|[]|[]|[update]',
        'managedclusters.cluster.open-cluster-management.io|[]|[]|[get list watch create patch]',
        'managedclusters.cluster.open-cluster-management.io/proxy|[]|[]|[get list watch create update patch delete]',
        'managedclusters.cluster.open-cluster-management.io/status|[]|[]|[update]',
        'managedclustersetbindings.cluster.open-cluster-management.io|[]|[]|[get list watch]',
        'managedclustersetbindings.cluster.open-cluster-management.io/status|[]|[]|[patch]',
        'managedclustersets.cluster.open-cluster-management.io|[]|[]|[get list watch create update]',
        'managedclustersets.cluster.open-cluster-management.io/status|[]|[]|[patch]',
        'manifestworkreplicasets.work.open-cluster-management.io|[]|[]|[get list watch patch]',
        'manifestworkreplicasets.work.open-cluster-management.io/status|[]|[]|[update]',
        'manifestworks.work.open-cluster-management.io|[]|[]|[get list watch create update patch delete]',
        'manifestworks.work.open-cluster-management.io/status|[]|[]|[update]',
        'namespaces|[]|[]|[create]',
        'placementdecisions.cluster.open-cluster-management.io|[]|[]|[get list watch create patch delete]',
        'placementdecisions.cluster.open-cluster-management.io/status|[]|[]|[patch]',
        'placements.cluster.open-cluster-management.io|[]|[]|[get list watch]',
        'placements.cluster.open-cluster-management.io/status|[]|[]|[patch]',
        'policies.policy.open-cluster-management.io|[]|[]|[get list watch create update delete]',
        'policies.policy.open-cluster-management.io/status|[]|[]|[update]',
        'placementbindings.policy.open-cluster-management.io|[]|[]|[get list watch]',
        'policysets.policy.open-cluster-management.io|[]|[]|[get list watch]',
        'policysets.policy.open-cluster-management.io/status|[]|[]|[update]',
        'events|[]|[]|[create]',
        'configurationpolicies.policy.open-cluster-management.io|[]|[]|[get list watch patch]',
        'configurationpolicies.policy.open-cluster-management.io/status|[]|[]|[patch]',
        'signers.certificates.k8s.io|[]|[spokelink.io/agent]|[approve sign]',
        'subjectaccessreviews.authorization.k8s.io|[]|[]|[create]',
        'tokenreviews.authentication.k8s.io|[]|[]|[create]',
      ].sort(),
    );
    const clusterWide = new Set(await grantsOf(ADMIN, HUB_SA, BASELINE_SA, 'default'));
    const only = async (namespace: string) =>
      (await grantsOf(ADMIN, HUB_SA, BASELINE_SA, namespace)).filter(
        (row) => !clusterWide.has(row),
      );
    expect(await only(HUB_NAMESPACE)).toEqual(
      [
        'leases.coordination.k8s.io|[]|[]|[create]',
        'leases.coordination.k8s.io|[]|[spokelink-hub-controllers]|[get update]',
        'secrets|[]|[spokelink-gateway]|[get]',
        'secrets|[]|[spokelink-hub-ca]|[get]',
        'secrets|[]|[spokelink-proxy-server]|[get]',
      ].sort(),
    );
    expect(await only('kube-system')).toEqual(
      [
        'configmaps|[]|[extension-apiserver-authentication]|[get list watch]',
        'secrets|[]|[]|[get update]',
      ].sort(),
    );
    // What that means, spelled out.
    expect(await canI(ADMIN, HUB_SA, 'get', 'secrets', '--all-namespaces')).toBe(false);
    expect(await canI(ADMIN, HUB_SA, 'get', 'secrets', '-n', 'default')).toBe(false);
    expect(await canI(ADMIN, HUB_SA, 'list', 'secrets', '-n', 'kube-system')).toBe(false);
    expect(await canI(ADMIN, HUB_SA, 'get', 'secrets/spokelink-hub-ca', '-n', HUB_NAMESPACE)).toBe(
      true,
    );
    expect(
      await canI(ADMIN, HUB_SA, 'get', 'secrets/spokelink-hub-token', '-n', HUB_NAMESPACE),
    ).toBe(false);
    expect(
      await canI(ADMIN, HUB_SA, 'update', 'secrets/spokelink-hub-ca', '-n', HUB_NAMESPACE),
    ).toBe(false);
    expect(await canI(ADMIN, HUB_SA, 'escalate', 'clusterroles')).toBe(false);
    expect(await canI(ADMIN, HUB_SA, 'update', 'clusterroles')).toBe(false);
    expect(await canI(ADMIN, HUB_SA, 'create', 'clusterrolebindings')).toBe(false);
    expect(await canI(ADMIN, HUB_SA, 'impersonate', 'users')).toBe(false);
    expect(await canI(ADMIN, HUB_SA, 'delete', 'managedclusters')).toBe(false);
    expect(await canI(ADMIN, HUB_SA, 'sign', 'signers/kubernetes.io/kube-apiserver-client')).toBe(
      false,
    );
  });

  it('met no refusal from the hub API server all along', () => {
    // Authorization refusals only. The hub API server is shared with other test files: a
    // Placement in a namespace one of them is deleting gets its PlacementDecision write refused
    // by admission (NamespaceLifecycle, also a 403), which the controller retries until the
    // Placement is gone, as OCM's does; that is not a permission deploy/hub lacks.
    const refusals = hubErrors.filter(
      ({ err }) => apiStatus(err) === 403 && !isNamespaceTerminating(err),
    );
    expect(refusals.map(({ what, err }) => `${what}: ${describeError(err)}`)).toEqual([]);
  });
});

/** A 403 from admission for a write into a namespace being deleted (cause NamespaceTerminating). */
function isNamespaceTerminating(err: unknown): boolean {
  const body = (err as { body?: unknown } | null)?.body;
  let status: unknown = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return false;
    }
  }
  const causes = (status as { details?: { causes?: unknown } } | null)?.details?.causes;
  return (
    Array.isArray(causes) &&
    causes.some((c) => (c as { type?: unknown } | null)?.type === 'NamespaceTerminating')
  );
}
