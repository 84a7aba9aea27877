// Application subscriptions against the real hub, spoke1 and spoke2: OCM-shaped Channel,
// Subscription and PlacementDecision YAML applied with the real kubectl on the hub; the
// subscription controller reading a real Git repository (served by `git http-backend` on
// loopback) and a real Helm repository (charts packaged by `helm package`), rendering with the
// real `kubectl kustomize` and `helm template`; the ManifestWork controller delivering to both
// spokes through one tunnel rig. A new commit updates the clusters, a deleted file is pruned,
// bad channels and refused paths give a clear status, cluster-scoped objects need a privileged
// subscription that only a cluster-admin may create.
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';

import {
  APPS_GROUP,
  WORK_GROUP,
  type ManagedClusterAddOn,
  type ManifestWork,
  type Subscription,
  type SubscriptionReport,
} from '../../hub/api/index.ts';
import { createManifestWorkController } from '../../hub/controllers/manifest-work/index.ts';
import {
  APPLICATION_ADDON_NAME,
  createApplicationAddOnController,
  createSubscriptionController,
  NAMESPACE_CHANNEL_MESSAGE,
  PRIVILEGE_REFUSED_MESSAGE,
  SUBSCRIPTION_POLICY_NAME,
} from '../../hub/controllers/subscription/index.ts';
import { describeError } from '../../hub/kube/index.ts';
import { HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually, kubectl } from '../framework/kubectl.ts';
import type { SharedControlPlane } from '../framework/shared-control-plane.ts';
import type { TunnelRig } from '../framework/tunnel-rig.ts';
import { controllerRig, grantSpoke, type SpokeGrants } from './controller-rig.ts';
import {
  startGitServer,
  startHelmRepo,
  type GitServer,
  type HelmRepoServer,
} from './subscription-sources.ts';

const hubPlane = inject('hub');
const spokes = [inject('spoke1'), inject('spoke2')] as const;
const suffix = Date.now().toString(36);
const CLUSTERS = [`appsub1-${suffix}`, `appsub2-${suffix}`] as const;
const NS = `apps-${suffix}`; // subscriptions on the hub, and their namespace on the spokes
const CHANNELS = `apps-ch-${suffix}`; // channels on the hub
const PLACEMENT = 'both';
const ONLY_FIRST = 'first';

const hub = new KubeConfig();
hub.loadFromFile(hubPlane.kubeconfigPath);
const objects = hub.makeApiClient(CustomObjectsApi);
const onHub = (args: string[], input?: string) =>
  kubectl(hubPlane.binaries.kubectl, args, {
    kubeconfig: hubPlane.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });
const on = (plane: SharedControlPlane) => (args: string[]) =>
  kubectl(plane.binaries.kubectl, args, { kubeconfig: plane.kubeconfigPath });
const errors: string[] = [];
const stops: (() => Promise<void> | void)[] = [];
const grants: SpokeGrants[] = [];
let gitServer: GitServer;
let helmRepo: HelmRepoServer;

function onError(what: string | undefined, err: unknown): void {
  const mine = what !== undefined && (what.includes(NS) || CLUSTERS.some((c) => what.includes(c)));
  if (mine && !what.endsWith(' watch')) errors.push(`${what}: ${describeError(err)}`);
  else console.warn(`${what ?? 'watch'}: ${describeError(err)}`);
}

/**
 * For one test: a tunnel rig to both spokes, the work controller and the application add-on on
 * it (all stopped when the test ends; the subscription controller runs for the whole file).
 */
async function startDelivery(): Promise<TunnelRig> {
  const rig = await controllerRig(
    hubPlane,
    CLUSTERS.map((name, i) => ({
      name,
      kubeApiserver: new URL(spokes[i]?.server ?? '').host,
      agentApi: grants[i]?.agentApi ?? { tokenFile: '', kubeApiserverCaPem: '' },
    })),
  );
  const spokeKubeConfig = (name: string) =>
    rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY);
  const work = createManifestWorkController({ hub, server: rig.server, spokeKubeConfig, onError });
  const addon = createApplicationAddOnController({
    hub,
    server: rig.server,
    spokeKubeConfig,
    onError: (cluster, err) => onError(cluster ?? 'addon', err),
  });
  work.start();
  addon.start();
  onTestFinished(() => work.stop());
  onTestFinished(() => addon.stop());
  return rig;
}

async function apply(yaml: string): Promise<void> {
  const res = await onHub(['apply', '-f', '-'], yaml);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
}

async function until<T>(
  what: string,
  read: () => Promise<T | undefined>,
  check: (value: T) => boolean,
  timeoutMs = 45_000,
): Promise<T> {
  let last: T | undefined;
  return eventually(
    what,
    async () => {
      last = await read();
      return last !== undefined && check(last) ? last : undefined;
    },
    timeoutMs,
    200,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last: ${JSON.stringify(last)}`);
  });
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
const getReport = async (namespace: string, name: string) =>
  (await objects
    .getNamespacedCustomObject({
      group: APPS_GROUP,
      version: 'v1alpha1',
      plural: 'subscriptionreports',
      namespace,
      name,
    })
    .catch(() => undefined)) as SubscriptionReport | undefined;
const getWork = async (cluster: string, name: string) =>
  (await objects
    .getNamespacedCustomObject({
      group: WORK_GROUP,
      version: 'v1',
      plural: 'manifestworks',
      namespace: cluster,
      name,
    })
    .catch(() => undefined)) as ManifestWork | undefined;

/** The spoke's ConfigMap `name` in the subscription namespace, or undefined. */
async function spokeConfigMap(plane: SharedControlPlane, name: string) {
  const res = await on(plane)(['get', 'configmap', name, '-n', NS, '-o', 'json']);
  return res.code === 0 ? (JSON.parse(res.stdout) as { data?: Record<string, string> }) : undefined;
}

function channelYaml(name: string, type: string, pathname: string, annotations = ''): string {
  return `apiVersion: apps.open-cluster-management.io/v1
kind: Channel
metadata:
  name: ${name}
  namespace: ${CHANNELS}
${annotations}spec:
  type: ${type}
  pathname: ${pathname}
`;
}

function subscriptionYaml(
  name: string,
  channel: string,
  annotations: Record<string, string>,
  extra = '',
  placement = PLACEMENT,
): string {
  const lines = Object.entries(annotations).map(([k, v]) => `    ${k}: "${v}"`);
  return `apiVersion: apps.open-cluster-management.io/v1
kind: Subscription
metadata:
  name: ${name}
  namespace: ${NS}
${lines.length > 0 ? `  annotations:\n${lines.join('\n')}\n` : ''}spec:
  channel: ${CHANNELS}/${channel}
${extra}  placement:
    placementRef:
      kind: Placement
      name: ${placement}
`;
}

/** Waits for a PropagationFailed status with `reason` and returns its message. */
async function failedWith(name: string, reason: string): Promise<string> {
  const sub = await until(
    `${name} PropagationFailed/${reason}`,
    () => getSub(name),
    (s) => s.status?.phase === 'PropagationFailed' && s.status.reason === reason,
  );
  return sub.status?.message ?? '';
}

beforeAll(async () => {
  gitServer = await startGitServer(`apps-${suffix}`);
  helmRepo = await startHelmRepo(hubPlane.binaries.helm, [
    { name: 'greeter', version: '1.0.0' },
    { name: 'greeter', version: '1.1.0' },
    { name: 'greeter', version: '2.0.0' },
  ]);
  for (const [i, spoke] of spokes.entries()) grants.push(await grantSpoke(spoke, `${CLUSTERS[i]}`));
  for (const cluster of CLUSTERS) {
    await apply(`apiVersion: cluster.open-cluster-management.io/v1
kind: ManagedCluster
metadata:
  name: ${cluster}
spec:
  hubAcceptsClient: true
`);
    expect((await onHub(['create', 'namespace', cluster])).code).toBe(0);
  }
  for (const ns of [NS, CHANNELS]) expect((await onHub(['create', 'namespace', ns])).code).toBe(0);
  // A developer who may write subscriptions in NS, and nothing else.
  await apply(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: subscription-writer
  namespace: ${NS}
rules:
  - apiGroups: [apps.open-cluster-management.io]
    resources: [subscriptions]
    verbs: [get, list, create, patch, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: subscription-writer
  namespace: ${NS}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: subscription-writer
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: appsub-developer
`);
  // PlacementDecisions as the placement controller writes them.
  for (const [placement, clusters] of [
    [PLACEMENT, CLUSTERS],
    [ONLY_FIRST, [CLUSTERS[0]]],
  ] as const) {
    await apply(`apiVersion: cluster.open-cluster-management.io/v1beta1
kind: PlacementDecision
metadata:
  name: ${placement}-decision-1
  namespace: ${NS}
  labels:
    cluster.open-cluster-management.io/placement: ${placement}
    cluster.open-cluster-management.io/decision-group-index: "0"
`);
    const decisions = clusters.map((clusterName) => ({ clusterName, reason: '' }));
    const patched = await onHub([
      'patch',
      'placementdecision',
      `${placement}-decision-1`,
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { decisions } }),
    ]);
    expect(patched.code, patched.stderr).toBe(0);
  }
  const subscriptions = createSubscriptionController({
    hub,
    tools: { kubectl: hubPlane.binaries.kubectl, helm: hubPlane.binaries.helm },
    reconcileRateMs: { high: 1_000 },
    failedSourceRetryMs: 2_000,
    onError,
  });
  subscriptions.start();
  stops.push(() => subscriptions.stop());
  await subscriptions.synced;
}, 180_000);

afterAll(async () => {
  // What a failed test left: subscriptions, and works whose finalizer no controller removes now.
  await onHub(['delete', 'subscriptions', '--all', '-n', NS, '--wait=false']);
  for (const c of CLUSTERS) {
    const left = await onHub(['get', 'manifestworks', '-n', c, '-o', 'name']);
    for (const work of left.stdout.split('\n').filter((l) => l !== '')) {
      await onHub([
        'patch',
        work,
        '-n',
        c,
        '--type=merge',
        '-p',
        '{"metadata":{"finalizers":null}}',
      ]);
      await onHub(['delete', work, '-n', c, '--ignore-not-found', '--wait=false']);
    }
  }
  for (const stop of stops) await stop();
  for (const g of grants) await g.remove();
  for (const c of CLUSTERS) {
    await onHub(['delete', 'managedcluster', c, '--ignore-not-found', '--wait=false']);
    await onHub(['delete', 'namespace', c, '--ignore-not-found', '--wait=false']);
  }
  for (const ns of [NS, CHANNELS])
    await onHub(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
  for (const spoke of spokes) {
    await on(spoke)(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
    await on(spoke)(['delete', 'clusterrole', `appsub-${suffix}`, '--ignore-not-found']);
  }
  for (const kind of ['validatingadmissionpolicybinding', 'validatingadmissionpolicy'])
    await onHub(['delete', kind, SUBSCRIPTION_POLICY_NAME, '--ignore-not-found']);
  await gitServer?.close();
  await helmRepo?.close();
  expect(errors).toEqual([]);
}, 120_000);

describe('Git subscriptions', () => {
  it('deploy to both clusters, follow new commits and prune deleted files', async () => {
    await startDelivery();
    gitServer.commit(
      {
        'apps/demo/first.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\ndata:\n  v: "1"\n',
        'apps/demo/second.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\ndata:\n  v: "1"\n---\n# a comment only\n',
        'apps/demo/kust/kustomization.yaml': 'namePrefix: kz-\nresources:\n  - cm.yaml\n',
        'apps/demo/kust/cm.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: third\ndata:\n  v: "1"\n',
        'README.md': 'not a manifest\n',
      },
      'first',
    );
    await apply(
      channelYaml(
        'git',
        'Git',
        gitServer.url,
        '  annotations:\n    apps.open-cluster-management.io/reconcile-rate: high\n',
      ),
    );
    await apply(
      subscriptionYaml('demo', 'git', {
        'apps.open-cluster-management.io/git-branch': 'main',
        'apps.open-cluster-management.io/git-path': 'apps/demo',
      }),
    );
    for (const spoke of spokes)
      for (const name of ['first', 'second', 'kz-third'])
        await until(
          `${name} on ${spoke.name}`,
          () => spokeConfigMap(spoke, name),
          (cm) => cm.data?.['v'] === '1',
        );
    const sub = await until(
      'demo Subscribed on both',
      () => getSub('demo'),
      (s) =>
        CLUSTERS.every(
          (c) =>
            (
              s.status?.statuses?.[c] as
                { packages?: Record<string, { phase?: string }> } | undefined
            )?.packages?.['demo']?.phase === 'Subscribed',
        ),
    );
    expect(sub.status?.phase).toBe('Propagated');
    expect(sub.status?.message).toMatch(
      /^commit [0-9a-f]{12} propagated to 2 cluster\(s\): 2 subscribed/,
    );
    const work = await getWork(CLUSTERS[0], `${NS}-demo`);
    expect(work?.metadata?.labels?.['apps.open-cluster-management.io/hosting-subscription']).toBe(
      `${NS}.demo`,
    );
    expect(
      work?.spec?.workload?.manifests?.map((m) => `${m.kind}/${m.metadata?.name}`).sort(),
    ).toEqual(['ConfigMap/first', 'ConfigMap/kz-third', 'ConfigMap/second', `Namespace/${NS}`]);
    const app = await until(
      'the Application report',
      () => getReport(NS, 'demo'),
      (r) => r.summary?.deployed === '2',
    );
    expect(app).toMatchObject({
      reportType: 'Application',
      summary: {
        deployed: '2',
        inProgress: '0',
        failed: '0',
        propagationFailed: '0',
        clusters: '2',
      },
    });
    expect(app.resources?.map((r) => r.name).sort()).toEqual(['first', 'kz-third', 'second']);
    for (const c of CLUSTERS) {
      const report = await until(
        `${c}'s report`,
        () => getReport(c, c),
        (r) => (r.results ?? []).some((x) => x.source === `${NS}/demo`),
      );
      expect(report.reportType).toBe('Cluster');
      expect(report.results?.find((x) => x.source === `${NS}/demo`)?.result).toBe('deployed');
    }

    // A new commit: `first` changes, `second.yaml` is deleted.
    gitServer.commit(
      {
        'apps/demo/first.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\ndata:\n  v: "2"\n',
        'apps/demo/second.yaml': null,
      },
      'second',
    );
    for (const spoke of spokes) {
      await until(
        `first updated on ${spoke.name}`,
        () => spokeConfigMap(spoke, 'first'),
        (cm) => cm.data?.['v'] === '2',
      );
      await until(
        `second pruned on ${spoke.name}`,
        async () => ((await spokeConfigMap(spoke, 'second')) === undefined ? true : undefined),
        () => true,
      );
    }
    expect(await spokeConfigMap(spokes[1], 'kz-third')).toBeDefined();
  });

  it('refuse escaping paths, file:// channels, unreachable servers and, unprivileged, cluster-scoped objects', async () => {
    await startDelivery();
    gitServer.symlink('apps/escape', '/etc');
    gitServer.commit(
      {
        'apps/cluster/role.yaml': `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: appsub-${suffix}\nrules: []\n`,
      },
      'refusals',
    );
    await apply(
      subscriptionYaml(
        'dotdot',
        'git',
        { 'apps.open-cluster-management.io/git-path': 'apps/../../etc' },
        '',
        ONLY_FIRST,
      ),
    );
    expect(await failedWith('dotdot', 'PathRefused')).toBe(
      'git-path "apps/../../etc" contains "..": it must stay inside the repository',
    );
    await apply(
      subscriptionYaml(
        'escape',
        'git',
        { 'apps.open-cluster-management.io/git-path': 'apps/escape' },
        '',
        ONLY_FIRST,
      ),
    );
    expect(await failedWith('escape', 'PathRefused')).toBe(
      'git-path "apps/escape" leads outside the repository through a symbolic link',
    );
    await apply(
      subscriptionYaml(
        'missing',
        'git',
        { 'apps.open-cluster-management.io/git-path': 'apps/nothing-here' },
        '',
        ONLY_FIRST,
      ),
    );
    expect(await failedWith('missing', 'PathNotFound')).toBe(
      'git-path "apps/nothing-here" does not exist in the repository',
    );

    await apply(channelYaml('local', 'Git', 'file:///etc'));
    await apply(subscriptionYaml('local', 'local', {}, '', ONLY_FIRST));
    expect(await failedWith('local', 'InvalidChannel')).toMatch(
      /^channel pathname "file:\/\/\/etc" is a local repository/,
    );
    await apply(channelYaml('nowhere', 'Git', 'http://127.0.0.1:1/nothing.git'));
    await apply(subscriptionYaml('nowhere', 'nowhere', {}, '', ONLY_FIRST));
    expect(await failedWith('nowhere', 'SourceUnreachable')).toMatch(
      /^could not fetch the default branch of http:\/\/127\.0\.0\.1:1\/nothing\.git: /,
    );
    await apply(subscriptionYaml('nochannel', 'absent', {}, '', ONLY_FIRST));
    expect(await failedWith('nochannel', 'ChannelNotFound')).toBe(
      `channel ${CHANNELS}/absent does not exist`,
    );

    const clusterScoped = { 'apps.open-cluster-management.io/git-path': 'apps/cluster' };
    await apply(subscriptionYaml('clusterwide', 'git', clusterScoped, '', ONLY_FIRST));
    expect(await failedWith('clusterwide', 'ResourceForbidden')).toBe(
      `ClusterRole "appsub-${suffix}" (rbac.authorization.k8s.io/v1) is cluster-scoped; only a subscription annotated apps.open-cluster-management.io/cluster-admin: "true" by a cluster-admin may deliver cluster-scoped objects`,
    );
    for (const name of [
      'dotdot',
      'escape',
      'missing',
      'local',
      'nowhere',
      'nochannel',
      'clusterwide',
    ])
      expect(await getWork(CLUSTERS[0], `${NS}-${name}`)).toBeUndefined();

    // Privilege: refused to a user who is not a cluster-admin, accepted from one.
    const privileged = {
      ...clusterScoped,
      'apps.open-cluster-management.io/cluster-admin': 'true',
    };
    const privilegedYaml = subscriptionYaml('admin', 'git', privileged, '', ONLY_FIRST);
    // Server-side dry runs until the policy the controller installed is in force (the API
    // server loads it asynchronously); nothing is stored meanwhile.
    const refused = await until(
      'the privileged subscription refused to a developer',
      () =>
        onHub(['apply', '--dry-run=server', '--as=appsub-developer', '-f', '-'], privilegedYaml),
      (res) => res.code !== 0,
    );
    expect(refused.stderr).toContain(PRIVILEGE_REFUSED_MESSAGE);
    const unprivileged = await onHub(
      ['apply', '--dry-run=server', '--as=appsub-developer', '-f', '-'],
      subscriptionYaml('admin', 'git', clusterScoped, '', ONLY_FIRST),
    );
    expect(unprivileged.stderr).toBe('');
    await apply(privilegedYaml);
    await until(
      'the ClusterRole on spoke1',
      async () => {
        const res = await on(spokes[0])(['get', 'clusterrole', `appsub-${suffix}`, '-o', 'name']);
        return res.code === 0 ? true : undefined;
      },
      () => true,
    );
  });

  it('Namespace channels propagate nothing, as OCM, and say so', async () => {
    await apply(channelYaml('legacy', 'Namespace', CHANNELS));
    await apply(subscriptionYaml('legacy', 'legacy', {}, '', ONLY_FIRST));
    const sub = await until(
      'legacy status',
      () => getSub('legacy'),
      (s) => s.status?.phase === 'Propagated',
    );
    expect(sub.status).toMatchObject({
      reason: 'NamespaceChannelNotPropagated',
      message: NAMESPACE_CHANNEL_MESSAGE,
    });
    expect(await getWork(CLUSTERS[0], `${NS}-legacy`)).toBeUndefined();
  });
});

describe('HelmRepo subscriptions', () => {
  it('render the highest version in range with the overridden values and alias', async () => {
    await startDelivery();
    await apply(channelYaml('charts', 'HelmRepo', helmRepo.url));
    await apply(
      subscriptionYaml(
        'greeter',
        'charts',
        {},
        `  name: greeter
  packageFilter:
    version: ">=1.0.0, <2.0.0"
  packageOverrides:
    - packageName: greeter
      packageAlias: hello
      packageOverrides:
        - path: spec
          value:
            greeting: bonjour
`,
      ),
    );
    for (const spoke of spokes) {
      const cm = await until(
        `hello-greeter on ${spoke.name}`,
        () => spokeConfigMap(spoke, 'hello-greeter'),
        () => true,
      );
      expect(cm.data).toEqual({ chartVersion: '1.1.0', greeting: 'bonjour' });
    }
    const sub = await until(
      'greeter Propagated',
      () => getSub('greeter'),
      (s) => s.status?.phase === 'Propagated',
    );
    expect(sub.status?.message).toMatch(/^chart greeter-1\.1\.0 propagated to 2 cluster\(s\)/);

    await apply(
      subscriptionYaml(
        'nochart',
        'charts',
        {},
        '  name: greeter\n  packageFilter:\n    version: ">=3.0.0"\n',
        ONLY_FIRST,
      ),
    );
    expect(await failedWith('nochart', 'PackageNotFound')).toBe(
      'no version of chart "greeter" matches version ">=3.0.0"',
    );
  });
});

describe('the application-manager add-on', () => {
  it('is Available on both clusters', async () => {
    await startDelivery();
    for (const c of CLUSTERS) {
      const addon = await until(
        `${APPLICATION_ADDON_NAME} on ${c}`,
        async () =>
          (await objects
            .getNamespacedCustomObject({
              group: 'addon.open-cluster-management.io',
              version: 'v1alpha1',
              plural: 'managedclusteraddons',
              namespace: c,
              name: APPLICATION_ADDON_NAME,
            })
            .catch(() => undefined)) as ManagedClusterAddOn | undefined,
        (a) =>
          a.status?.conditions?.some((x) => x.type === 'Available' && x.status === 'True') === true,
      );
      expect(addon.metadata?.name).toBe(APPLICATION_ADDON_NAME);
    }
  });
});

describe('deleting subscriptions', () => {
  it('deletes their works and so their resources, keeping the namespace', async () => {
    await startDelivery();
    expect((await onHub(['delete', 'subscriptions', '--all', '-n', NS])).code).toBe(0);
    for (const c of CLUSTERS)
      await until(
        `every work in ${c} gone`,
        async () => {
          const res = await onHub(['get', 'manifestworks', '-n', c, '-o', 'name']);
          return res.code === 0 && res.stdout.trim() === '' ? true : undefined;
        },
        () => true,
        60_000,
      );
    for (const spoke of spokes) {
      for (const name of ['first', 'kz-third', 'hello-greeter'])
        await until(
          `${name} gone on ${spoke.name}`,
          async () => ((await spokeConfigMap(spoke, name)) === undefined ? true : undefined),
          () => true,
        );
      expect((await on(spoke)(['get', 'namespace', NS])).code).toBe(0);
    }
    const role = await on(spokes[0])(['get', 'clusterrole', `appsub-${suffix}`, '-o', 'name']);
    expect(role.code).not.toBe(0);
    // The Application reports go with their subscriptions (owner references), the clusters'
    // reports lose their entries.
    for (const c of CLUSTERS)
      await until(
        `${c}'s report emptied`,
        () => getReport(c, c),
        (r) => (r.results ?? []).every((x) => !x.source?.startsWith(`${NS}/`)),
      );
  });
});
