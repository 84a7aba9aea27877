// Channel credentials and CA bundles against the real hub and spoke1: a Git repository served by
// the real `git http-backend` and a Helm repository, both over HTTPS with a certificate of a
// private test CA and both answering 401 without HTTP basic auth. Channels name a Secret
// (`user`/`accessToken`, `user`/`password`) and a ConfigMap (`caCerts`) in their namespace;
// subscriptions deliver through the work controller and one tunnel rig. A wrong token and a
// missing Secret give PropagationFailed naming the Secret (never its value). The hub reads the
// Secret only where the ClusterRole of deploy/hub is bound to it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { createCa, generateKeyPair, issueCert } from '../../certs/index.ts';
import { APPS_GROUP, type Subscription } from '../../hub/api/index.ts';
import { createManifestWorkController } from '../../hub/controllers/manifest-work/index.ts';
import {
  CHANNEL_READER_CLUSTER_ROLE,
  createSubscriptionController,
  kubeChannelRefReader,
  SubscriptionError,
} from '../../hub/controllers/subscription/index.ts';
import { describeError } from '../../hub/kube/index.ts';
import { HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import type { TunnelRig } from '../framework/tunnel-rig.ts';
import { controllerRig, grantSpoke, type SpokeGrants } from './controller-rig.ts';
import {
  startGitServer,
  startHelmRepo,
  type GitServer,
  type HelmRepoServer,
} from './subscription-sources.ts';

const hubPlane = inject('hub');
const spoke = inject('spoke1');
const suffix = Date.now().toString(36);
const CLUSTER = `appauth-${suffix}`;
const NS = `appauth-apps-${suffix}`; // subscriptions on the hub, and their namespace on the spoke
const CHANNELS = `appauth-ch-${suffix}`;
const PLACEMENT = 'one';
const USER = 'deployer';
const TOKEN = `tok-${suffix}-secret`;
const HELM_PASSWORD = `pw-${suffix}-secret`;

const hub = new KubeConfig();
hub.loadFromFile(hubPlane.kubeconfigPath);
const objects = hub.makeApiClient(CustomObjectsApi);
const onHub = (args: string[], input?: string) =>
  kubectl(hubPlane.binaries.kubectl, args, {
    kubeconfig: hubPlane.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });
const onSpoke = (args: string[]) =>
  kubectl(spoke.binaries.kubectl, args, { kubeconfig: spoke.kubeconfigPath });
// A private CA, made once for the file: the sources' serving certificate and the channels' caCerts.
const keyPair = generateKeyPair();
const ca = createCa({ commonName: `appauth-ca-${suffix}`, keyPair });
const serving = issueCert(ca, {
  commonName: 'sources',
  ipAddresses: ['127.0.0.1'],
  usage: 'server',
  keyPair,
});
const errors: string[] = [];
const stops: (() => Promise<void> | void)[] = [];
let grants: SpokeGrants | undefined;
let gitServer: GitServer;
let helmRepo: HelmRepoServer;

function onError(what: string | undefined, err: unknown): void {
  const mine = what !== undefined && (what.includes(NS) || what.includes(CLUSTER));
  if (mine && !what.endsWith(' watch')) errors.push(`${what}: ${describeError(err)}`);
  else console.warn(`${what ?? 'watch'}: ${describeError(err)}`);
}

/** For one test: a tunnel rig to the spoke and the work controller on it (stopped when it ends). */
async function startDelivery(): Promise<TunnelRig> {
  const rig = await controllerRig(hubPlane, [
    {
      name: CLUSTER,
      kubeApiserver: new URL(spoke.server).host,
      agentApi: grants?.agentApi ?? { tokenFile: '', kubeApiserverCaPem: '' },
    },
  ]);
  const server = rig.server;
  const work = createManifestWorkController({
    hub,
    server,
    spokeKubeConfig: (name) => server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY),
    onError,
  });
  work.start();
  onTestFinished(() => work.stop());
  return rig;
}

async function apply(yaml: string): Promise<void> {
  const res = await onHub(['apply', '-f', '-'], yaml);
  expect(res.code, res.stderr).toBe(0);
}

const getSub = async (name: string) =>
  (await objects
    .getNamespacedCustomObject({
      group: APPS_GROUP,
      version: 'v1',
      plural: 'subscriptions',
      namespace: NS,
      name,
    })
    .catch(() => undefined)) as Subscription | undefined;

/** Waits for the subscription's phase (and reason); returns the status message. */
async function phaseOf(name: string, phase: string, reason?: string): Promise<string> {
  let last: Subscription['status'];
  const sub = await eventually(
    `${name} ${phase}${reason === undefined ? '' : `/${reason}`}`,
    async () => {
      const s = await getSub(name);
      last = s?.status;
      return s?.status?.phase === phase && (reason === undefined || s.status.reason === reason)
        ? s
        : undefined;
    },
    60_000,
    250,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last status: ${JSON.stringify(last)}`);
  });
  return sub.status?.message ?? '';
}

/** The spoke's ConfigMap `name` in NS, once it exists. */
async function deliveredConfigMap(name: string): Promise<Record<string, string>> {
  return eventually(
    `ConfigMap ${NS}/${name} on the spoke`,
    async () => {
      const res = await onSpoke(['get', 'configmap', name, '-n', NS, '-o', 'json']);
      return res.code === 0
        ? ((JSON.parse(res.stdout) as { data?: Record<string, string> }).data ?? {})
        : undefined;
    },
    60_000,
    250,
  );
}

function secretYaml(name: string, data: Record<string, string>): string {
  const lines = Object.entries(data).map(
    ([k, v]) => `  ${k}: ${Buffer.from(v).toString('base64')}`,
  );
  return `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
  namespace: ${CHANNELS}
type: Opaque
data:
${lines.join('\n')}
`;
}

function channelYaml(name: string, type: string, pathname: string, secret: string): string {
  return `apiVersion: apps.open-cluster-management.io/v1
kind: Channel
metadata:
  name: ${name}
  namespace: ${CHANNELS}
spec:
  type: ${type}
  pathname: ${pathname}
  secretRef:
    name: ${secret}
  configMapRef:
    apiVersion: v1
    kind: ConfigMap
    name: private-ca
`;
}

function subscriptionYaml(name: string, channel: string, extra = ''): string {
  return `apiVersion: apps.open-cluster-management.io/v1
kind: Subscription
metadata:
  name: ${name}
  namespace: ${NS}
  annotations:
    apps.open-cluster-management.io/git-branch: main
spec:
  channel: ${CHANNELS}/${channel}
${extra}  placement:
    placementRef:
      kind: Placement
      name: ${PLACEMENT}
`;
}

beforeAll(async () => {
  const tls = { certPem: serving.certPem, keyPem: serving.keyPem };
  gitServer = await startGitServer(`private-${suffix}`, {
    basicAuth: { user: USER, password: TOKEN },
    tls,
  });
  helmRepo = await startHelmRepo(hubPlane.binaries.helm, [{ name: 'vault', version: '0.3.0' }], {
    basicAuth: { user: USER, password: HELM_PASSWORD },
    tls,
  });
  grants = await grantSpoke(spoke, CLUSTER);
  await apply(`apiVersion: cluster.open-cluster-management.io/v1
kind: ManagedCluster
metadata:
  name: ${CLUSTER}
spec:
  hubAcceptsClient: true
`);
  for (const ns of [CLUSTER, NS, CHANNELS])
    expect((await onHub(['create', 'namespace', ns])).code).toBe(0);
  await apply(`apiVersion: cluster.open-cluster-management.io/v1beta1
kind: PlacementDecision
metadata:
  name: ${PLACEMENT}-decision-1
  namespace: ${NS}
  labels:
    cluster.open-cluster-management.io/placement: ${PLACEMENT}
    cluster.open-cluster-management.io/decision-group-index: "0"
`);
  const patched = await onHub([
    'patch',
    'placementdecision',
    `${PLACEMENT}-decision-1`,
    '-n',
    NS,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { decisions: [{ clusterName: CLUSTER, reason: '' }] } }),
  ]);
  expect(patched.code, patched.stderr).toBe(0);
  await apply(`apiVersion: v1
kind: ConfigMap
metadata:
  name: private-ca
  namespace: ${CHANNELS}
data:
  caCerts: |
${ca.certPem
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`);
  const subscriptions = createSubscriptionController({
    hub,
    tools: { kubectl: hubPlane.binaries.kubectl, helm: hubPlane.binaries.helm },
    failedSourceRetryMs: 2_000,
    installAdmissionPolicy: false,
    onError,
  });
  subscriptions.start();
  stops.push(() => subscriptions.stop());
  await subscriptions.synced;
}, 180_000);

afterAll(async () => {
  await onHub(['delete', 'subscriptions', '--all', '-n', NS, '--wait=false']);
  const left = await onHub(['get', 'manifestworks', '-n', CLUSTER, '-o', 'name']);
  for (const work of left.stdout.split('\n').filter((l) => l !== '')) {
    await onHub([
      'patch',
      work,
      '-n',
      CLUSTER,
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
    await onHub(['delete', work, '-n', CLUSTER, '--ignore-not-found', '--wait=false']);
  }
  for (const stop of stops.reverse()) await stop();
  await grants?.remove();
  await onHub(['delete', 'managedcluster', CLUSTER, '--ignore-not-found', '--wait=false']);
  for (const ns of [CLUSTER, NS, CHANNELS])
    await onHub(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
  await onSpoke(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
  await gitServer?.close();
  await helmRepo?.close();
  expect(errors).toEqual([]);
}, 120_000);

describe('Git channel over HTTPS with basic auth', () => {
  it('answers 401 without credentials: the server really wants them', async () => {
    const dispatcher = new Agent({ connect: { ca: ca.certPem } });
    try {
      const res = await request(`${gitServer.url}/info/refs?service=git-upload-pack`, {
        dispatcher,
      });
      await res.body.dump();
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="e2e"');
    } finally {
      await dispatcher.close();
    }
  });

  it('a wrong token gives PropagationFailed naming the Secret; the right one delivers', async () => {
    await startDelivery();
    gitServer.commit(
      {
        'app/cm.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: from-private-git
data:
  source: private
`,
      },
      'private app',
    );
    await apply(secretYaml('git-creds', { user: USER, accessToken: 'wrong-token' }));
    await apply(channelYaml('git', 'Git', gitServer.url, 'git-creds'));
    await apply(subscriptionYaml('private-git', 'git'));
    const message = await phaseOf('private-git', 'PropagationFailed', 'SourceUnreachable');
    expect(message).toContain(
      `could not fetch branch main of ${gitServer.url} with the credentials of Secret ${CHANNELS}/git-creds: `,
    );
    expect(message).not.toContain('wrong-token');
    // The Secret fixed: the failed read is retried and delivers.
    await apply(secretYaml('git-creds', { user: USER, accessToken: TOKEN }));
    expect(await phaseOf('private-git', 'Propagated')).toMatch(/^commit [0-9a-f]{12} propagated/);
    expect(await deliveredConfigMap('from-private-git')).toEqual({ source: 'private' });
  });

  it('a missing Secret or key gives PropagationFailed naming it', async () => {
    await apply(channelYaml('git-nosecret', 'Git', gitServer.url, 'absent'));
    await apply(subscriptionYaml('no-secret', 'git-nosecret'));
    expect(await phaseOf('no-secret', 'PropagationFailed', 'ChannelCredentialsInvalid')).toBe(
      `Secret ${CHANNELS}/absent (secretRef of channel ${CHANNELS}/git-nosecret) does not exist`,
    );
    await apply(secretYaml('absent', { user: USER }));
    await eventually(
      'the missing key in the status',
      async () =>
        (await getSub('no-secret'))?.status?.message ===
        `Secret ${CHANNELS}/absent has no key accessToken (a Git channel needs user and accessToken)`
          ? true
          : undefined,
      60_000,
      250,
    );
  });
});

describe('HelmRepo channel over HTTPS with basic auth', () => {
  it('delivers the chart with user and password; a wrong password names the Secret', async () => {
    await startDelivery();
    await apply(secretYaml('helm-creds', { user: USER, password: 'wrong' }));
    await apply(channelYaml('helm', 'HelmRepo', helmRepo.url, 'helm-creds'));
    await apply(
      subscriptionYaml(
        'private-helm',
        'helm',
        `  name: vault
  packageOverrides:
    - packageName: vault
      packageAlias: private
`,
      ),
    );
    const message = await phaseOf('private-helm', 'PropagationFailed', 'SourceUnreachable');
    expect(message).toBe(
      `GET ${helmRepo.url}/index.yaml (with the credentials of Secret ${CHANNELS}/helm-creds): answered HTTP 401`,
    );
    await apply(secretYaml('helm-creds', { user: USER, password: HELM_PASSWORD }));
    expect(await phaseOf('private-helm', 'Propagated')).toMatch(/^chart vault-0\.3\.0 propagated/);
    expect(await deliveredConfigMap('private-vault')).toEqual({
      chartVersion: '0.3.0',
      greeting: 'hello',
    });
  });
});

describe("the hub's permission to read channel Secrets", () => {
  it('is refused with the missing permission named, until the shipped ClusterRole is bound', async () => {
    const core = hub.makeApiClient(CoreV1Api);
    const rbac = hub.makeApiClient(RbacAuthorizationV1Api);
    const account = 'hub-reader';
    await core.createNamespacedServiceAccount({
      namespace: CHANNELS,
      body: { metadata: { name: account } },
    });
    const token = await core.createNamespacedServiceAccountToken({
      name: account,
      namespace: CHANNELS,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const asHub = new KubeConfig();
    asHub.loadFromOptions({
      clusters: [
        {
          name: 'hub',
          server: hubPlane.server,
          caData: Buffer.from(hubPlane.servingCaPem).toString('base64'),
        },
      ],
      users: [{ name: account, token: token.status?.token ?? '' }],
      contexts: [{ name: 'hub', cluster: 'hub', user: account }],
      currentContext: 'hub',
    });
    const read = kubeChannelRefReader(asHub);
    const err = await read('Secret', CHANNELS, 'git-creds').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubscriptionError);
    expect(err).toMatchObject({
      code: 'HUB_ERR_SUB_CHANNEL_CREDENTIALS',
      message: `the hub may not read Secret ${CHANNELS}/git-creds (it needs "get" on secrets in namespace ${CHANNELS}): bind the ClusterRole ${CHANNEL_READER_CLUSTER_ROLE} to the hub there with a RoleBinding`,
    });
    // The rules deploy/hub ships under that name, bound in the channel namespace only.
    const shipped = parseAllDocuments(
      readFileSync(join(import.meta.dirname, '../../deploy/hub/20-rbac.yaml'), 'utf8'),
    )
      .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; rules?: unknown[] })
      .find((d) => d.kind === 'ClusterRole' && d.metadata?.name === CHANNEL_READER_CLUSTER_ROLE);
    expect(shipped).toBeDefined();
    const role = `${CHANNEL_READER_CLUSTER_ROLE}-${suffix}`;
    await rbac.createClusterRole({
      body: { metadata: { name: role }, rules: shipped?.rules as never },
    });
    try {
      await rbac.createNamespacedRoleBinding({
        namespace: CHANNELS,
        body: {
          metadata: { name: CHANNEL_READER_CLUSTER_ROLE },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
          subjects: [{ kind: 'ServiceAccount', name: account, namespace: CHANNELS }],
        },
      });
      const data = await eventually(
        'the bound reader to get the Secret',
        () => read('Secret', CHANNELS, 'git-creds').catch(() => undefined),
        30_000,
        250,
      );
      expect(data).toEqual({ user: USER, accessToken: TOKEN });
      expect(await read('ConfigMap', CHANNELS, 'private-ca')).toEqual({
        caCerts: `${ca.certPem.trim()}\n`,
      });
      // Nowhere else.
      const elsewhere = await read('Secret', NS, 'anything').catch((e: unknown) => e);
      expect(elsewhere).toMatchObject({ code: 'HUB_ERR_SUB_CHANNEL_CREDENTIALS' });
    } finally {
      await rbac.deleteClusterRole({ name: role }).catch(() => undefined);
    }
  });
});
