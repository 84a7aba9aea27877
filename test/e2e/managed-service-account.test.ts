// ManagedServiceAccounts through the tunnel against the real hub and spoke1: OCM-shaped YAML
// applied with the real kubectl on the hub, the controller in this process reaching the spoke
// only through the tunnel rig's agent API as the hub controllers, and the token it syncs used
// with the real kubectl through the rig's cluster gateway (spoke tokens pass straight through).
// Issue, use, the ServiceAccount deleted on the spoke, rotation, a tunnel outage across a
// rotation, a refused validity, the orphan sweep, deletion, and the add-on.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Secret,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { stringify } from 'yaml';

import {
  AddOnReasons,
  AUTHENTICATION_GROUP,
  CLUSTER_GROUP,
  type ManagedServiceAccount,
} from '../../hub/api/index.ts';
import {
  createManagedServiceAccountAddOnController,
  createManagedServiceAccountController,
  kubeConfigFromManagedServiceAccount,
  MSA_INSTALL_NAMESPACE,
  MSA_LABEL,
  tokenClaims,
  type ManagedServiceAccountController,
} from '../../hub/controllers/managed-service-account/index.ts';
import { describeError } from '../../hub/kube/index.ts';
import { gatewayClusterUrl, HUB_CONTROLLER_IDENTITY } from '../../proxy-server/index.ts';
import { eventually, kubectl, type KubectlResult } from '../framework/kubectl.ts';
import { testPki } from '../framework/pki.ts';
import type { RigCluster, TunnelRig } from '../framework/tunnel-rig.ts';
import { addOnProbe } from './addon-kit.ts';
import { controllerRig, grantSpoke, type SpokeGrants } from './controller-rig.ts';

const hubPlane = inject('hub');
const spokePlane = inject('spoke1');
const suffix = Date.now().toString(36);
const CLUSTER = `msa-${suffix}`;
const MSA = { group: AUTHENTICATION_GROUP, version: 'v1beta1', plural: 'managedserviceaccounts' };

function kubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}
const hub = kubeConfig(hubPlane.kubeconfigPath);
const spoke = kubeConfig(spokePlane.kubeconfigPath);
const hubCore = hub.makeApiClient(CoreV1Api);
const hubObjects = hub.makeApiClient(CustomObjectsApi);
const spokeCore = spoke.makeApiClient(CoreV1Api);
const addOn = addOnProbe(hub, 'managed-serviceaccount');
let grants: SpokeGrants | undefined;
let scratch = '';
let gatewayCaFile = '';
let emptyKubeconfig = '';

const onHub = (args: string[], input?: string): Promise<KubectlResult> =>
  kubectl(hubPlane.binaries.kubectl, args, {
    kubeconfig: hubPlane.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });

beforeAll(async () => {
  grants = await grantSpoke(spokePlane, CLUSTER);
  await hubObjects.createClusterCustomObject({
    group: CLUSTER_GROUP,
    version: 'v1',
    plural: 'managedclusters',
    body: {
      apiVersion: `${CLUSTER_GROUP}/v1`,
      kind: 'ManagedCluster',
      metadata: { name: CLUSTER },
      spec: { hubAcceptsClient: true },
    },
  });
  await hubCore.createNamespace({ body: { metadata: { name: CLUSTER } } });
  scratch = mkdtempSync(join(tmpdir(), 'spokelink-msa-'));
  gatewayCaFile = join(scratch, 'gateway-ca.crt');
  writeFileSync(gatewayCaFile, testPki().ca.certPem);
  emptyKubeconfig = join(scratch, 'empty.kubeconfig');
  writeFileSync(emptyKubeconfig, 'apiVersion: v1\nkind: Config\n');
});

afterAll(async () => {
  const left = (await hubObjects
    .listNamespacedCustomObject({ ...MSA, namespace: CLUSTER })
    .catch(() => ({ items: [] }))) as { items: ManagedServiceAccount[] };
  for (const msa of left.items) {
    await hubObjects
      .deleteNamespacedCustomObject({ ...MSA, namespace: CLUSTER, name: msa.metadata?.name ?? '' })
      .catch(() => undefined);
  }
  await spokeCore
    .deleteCollectionNamespacedServiceAccount({
      namespace: MSA_INSTALL_NAMESPACE,
      labelSelector: `${MSA_LABEL}=true`,
    })
    .catch(() => undefined);
  await addOn.remove([CLUSTER]);
  await grants?.remove();
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

/** A tunnel rig (with the gateway) and the controller on it, both stopped after the test. */
async function startController(rotationFraction?: number): Promise<{
  rig: TunnelRig;
  rigCluster: RigCluster;
  controller: ManagedServiceAccountController;
  /** Reconcile failures (list/watch failures are retried by design and not collected). */
  errors: string[];
}> {
  if (grants === undefined) throw new Error('beforeAll did not prepare the spoke');
  const rigCluster = {
    name: CLUSTER,
    kubeApiserver: new URL(spokePlane.server).host,
    agentApi: grants.agentApi,
  };
  const rig = await controllerRig(hubPlane, [rigCluster]);
  const errors: string[] = [];
  const controller = createManagedServiceAccountController({
    hub,
    server: rig.server,
    spokeKubeConfig: (name) => rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY),
    ...(rotationFraction === undefined ? {} : { rotationFraction }),
    onError: (cluster, err) => {
      if (cluster !== undefined) errors.push(describeError(err));
    },
  });
  controller.start();
  onTestFinished(() => controller.stop());
  return { rig, rigCluster, controller, errors };
}

/** Applies an OCM-shaped ManagedServiceAccount with the real kubectl. */
async function applyAccount(name: string, rotation: Record<string, unknown> = {}): Promise<void> {
  const yaml = stringify({
    apiVersion: `${AUTHENTICATION_GROUP}/v1beta1`,
    kind: 'ManagedServiceAccount',
    metadata: { name, namespace: CLUSTER },
    spec: { rotation },
  });
  const res = await onHub(['apply', '-f', '-'], yaml);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
}

async function getAccount(name: string): Promise<ManagedServiceAccount | undefined> {
  return (await hubObjects
    .getNamespacedCustomObject({ ...MSA, namespace: CLUSTER, name })
    .catch(() => undefined)) as ManagedServiceAccount | undefined;
}

async function getSecret(name: string): Promise<V1Secret | undefined> {
  return hubCore.readNamespacedSecret({ namespace: CLUSTER, name }).catch(() => undefined);
}

const tokenOf = (secret: V1Secret | undefined): string =>
  Buffer.from(secret?.data?.token ?? '', 'base64').toString('utf8');

const condition = (msa: ManagedServiceAccount | undefined, type: string) =>
  msa?.status?.conditions?.find((c) => c.type === type);

/** Resolves once the account reports a token other than `not` and the Secret holds it. */
async function reportedToken(
  name: string,
  not = '',
): Promise<{ token: string; msa: ManagedServiceAccount; secret: V1Secret }> {
  let last: unknown;
  return eventually(
    `${name}: a reported token${not === '' ? '' : ' (a new one)'}`,
    async () => {
      const msa = await getAccount(name);
      const secret = await getSecret(name);
      last = msa?.status;
      const token = tokenOf(secret);
      const reported = condition(msa, 'TokenReported')?.status === 'True';
      const claims = tokenClaims(token);
      // The status must describe the token in the Secret (its real expiry).
      const matches =
        claims !== undefined &&
        msa?.status?.expirationTimestamp === claims.expiresAt.toISOString().replace('.000Z', 'Z');
      return reported && matches && token !== not && msa !== undefined && secret !== undefined
        ? { token, msa, secret }
        : undefined;
    },
    30_000,
    200,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last status: ${JSON.stringify(last)}`);
  });
}

async function spokeAccount(name: string) {
  return spokeCore
    .readNamespacedServiceAccount({ name, namespace: MSA_INSTALL_NAMESPACE })
    .catch(() => undefined);
}

/** `kubectl auth whoami` through the rig's gateway with `token`, as the spoke sees it. */
async function whoamiThroughGateway(rig: TunnelRig, token: string): Promise<KubectlResult> {
  const server = gatewayClusterUrl(rig.server.addresses.gateway ?? '', CLUSTER);
  return kubectl(
    hubPlane.binaries.kubectl,
    [
      '--server',
      server,
      '--token',
      token,
      '--certificate-authority',
      gatewayCaFile,
      'auth',
      'whoami',
      '-o',
      'json',
    ],
    { kubeconfig: emptyKubeconfig },
  );
}

const usernameOf = (run: KubectlResult): string | undefined =>
  (JSON.parse(run.stdout) as { status?: { userInfo?: { username?: string } } }).status?.userInfo
    ?.username;

describe('ManagedServiceAccounts through the tunnel', () => {
  it('issues a token the spoke accepts through the gateway, re-issues after the ServiceAccount is deleted, and cleans up on deletion', async () => {
    const { rig, errors } = await startController();
    const NAME = `robot-${suffix}`;
    const SUBJECT = `system:serviceaccount:${MSA_INSTALL_NAMESPACE}:${NAME}`;
    await applyAccount(NAME);
    const first = await reportedToken(NAME);

    // The hub Secret, as OCM writes it.
    expect(first.secret.type).toBe('Opaque');
    expect(Object.keys(first.secret.data ?? {}).sort()).toEqual(['ca.crt', 'token']);
    expect(first.secret.metadata?.labels?.[MSA_LABEL]).toBe('true');
    expect(first.secret.metadata?.ownerReferences).toEqual([
      {
        apiVersion: `${AUTHENTICATION_GROUP}/v1beta1`,
        kind: 'ManagedServiceAccount',
        name: NAME,
        uid: first.msa.metadata?.uid,
      },
    ]);
    expect(
      Buffer.from(first.secret.data?.['ca.crt'] ?? '', 'base64')
        .toString('utf8')
        .trim(),
    ).toBe(spokePlane.servingCaPem.trim());
    // The status: OCM's conditions and reasons, the Secret, the token's real expiry (360 days
    // asked for; the API server decides).
    expect(first.msa.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['SecretCreated', 'True', 'SecretCreated'],
      ['TokenReported', 'True', 'TokenReported'],
    ]);
    expect(first.msa.status?.tokenSecretRef?.name).toBe(NAME);
    expect(tokenClaims(first.token)?.subject).toBe(SUBJECT);
    // The ServiceAccount on the spoke, labelled.
    const account = await spokeAccount(NAME);
    expect(account?.metadata?.labels?.[MSA_LABEL]).toBe('true');

    // The token works: kubectl through the gateway is the spoke ServiceAccount.
    const whoami = await whoamiThroughGateway(rig, first.token);
    expect(whoami.stderr).toBe('');
    expect(usernameOf(whoami)).toBe(SUBJECT);
    // ... and so does the programmatic client, in one call.
    const kc = await kubeConfigFromManagedServiceAccount({
      hub,
      cluster: CLUSTER,
      name: NAME,
      gatewayUrl: rig.server.addresses.gateway ?? '',
      gatewayCaPem: testPki().ca.certPem,
    });
    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    expect(review.status?.userInfo?.username).toBe(SUBJECT);

    // The ServiceAccount deleted on the spoke: made again, a new token issued.
    await spokeCore.deleteNamespacedServiceAccount({
      name: NAME,
      namespace: MSA_INSTALL_NAMESPACE,
    });
    const second = await reportedToken(NAME, first.token);
    const remade = await spokeAccount(NAME);
    expect(remade?.metadata?.uid).not.toBe(account?.metadata?.uid);
    expect(usernameOf(await whoamiThroughGateway(rig, second.token))).toBe(SUBJECT);
    // The old token dies with the old ServiceAccount (the spoke API server caches a token's
    // authentication for up to 10 s).
    const stale = await eventually(
      'the old token refused',
      async () => {
        const run = await whoamiThroughGateway(rig, first.token);
        return run.code === 0 ? undefined : run;
      },
      30_000,
      500,
    );
    expect(stale.stderr).toContain('You must be logged in to the server');

    // Deleted on the hub: the Secret and the ServiceAccount go.
    expect((await onHub(['delete', 'managedserviceaccount', NAME, '-n', CLUSTER])).code).toBe(0);
    await eventually(
      `${NAME}: Secret and ServiceAccount gone`,
      async () =>
        (await getSecret(NAME)) === undefined && (await spokeAccount(NAME)) === undefined
          ? true
          : undefined,
      30_000,
      200,
    );
    expect(errors).toEqual([]);
  });

  it('rotates at its rotation point', async () => {
    // 10 min is the shortest token the API server issues; rotate after 1 % of it (6 s).
    const { errors } = await startController(0.01);
    const NAME = `rotating-${suffix}`;
    await applyAccount(NAME, { validity: '10m' });
    const first = await reportedToken(NAME);
    const claims = tokenClaims(first.token);
    expect((claims?.expiresAt.getTime() ?? 0) - (claims?.issuedAt.getTime() ?? 0)).toBe(600_000);
    const second = await reportedToken(NAME, first.token);
    expect(second.msa.status?.tokenSecretRef?.lastRefreshTimestamp).not.toBe(
      first.msa.status?.tokenSecretRef?.lastRefreshTimestamp,
    );
    expect(errors).toEqual([]);
  });

  it('rotates after a tunnel outage that spans the rotation point, with no false status meanwhile', async () => {
    const { rig, rigCluster, errors } = await startController(0.01);
    const NAME = `outage-${suffix}`;
    await applyAccount(NAME, { validity: '10m' });
    // A fresh token, so that its rotation point (6 s after issue) falls inside the outage.
    const before = await reportedToken(NAME);
    for (const agent of rig.agents.get(CLUSTER) ?? []) await agent.close();
    const due = (tokenClaims(before.token)?.issuedAt.getTime() ?? 0) + 6_000;
    // Until well past the rotation point: the same token, still reported, its real expiry.
    while (Date.now() < due + 3_000) {
      const msa = await getAccount(NAME);
      const reported = condition(msa, 'TokenReported');
      expect(reported?.status, reported?.message).toBe('True');
      expect(msa?.status?.expirationTimestamp).toBe(before.msa.status?.expirationTimestamp);
      expect(tokenOf(await getSecret(NAME))).toBe(before.token);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await rig.addAgent(rigCluster, 'a1');
    const after = await reportedToken(NAME, before.token);
    expect(condition(after.msa, 'TokenReported')?.status).toBe('True');
    expect(errors).toEqual([]);
  });

  it('reports a validity the API server refuses as TokenReportFailed', async () => {
    await startController();
    const NAME = `too-short-${suffix}`;
    await applyAccount(NAME, { validity: '1m' });
    const failed = await eventually(
      `${NAME}: TokenReported False`,
      async () => {
        const c = condition(await getAccount(NAME), 'TokenReported');
        return c?.status === 'False' ? c : undefined;
      },
      30_000,
      200,
    );
    expect(failed.reason).toBe('TokenReportFailed');
    expect(failed.message).toContain(
      `requesting a token for ServiceAccount ${MSA_INSTALL_NAMESPACE}/${NAME} on cluster ${CLUSTER}: HTTP 422`,
    );
    expect(failed.message).toContain('may not specify a duration less than 10 minutes');
    expect(await getSecret(NAME)).toBeUndefined();
  });

  it('sweeps labelled ServiceAccounts without an account when the agent connects, and leaves others', async () => {
    await spokeCore.createNamespacedServiceAccount({
      namespace: MSA_INSTALL_NAMESPACE,
      body: { metadata: { name: `orphan-${suffix}`, labels: { [MSA_LABEL]: 'true' } } },
    });
    await spokeCore.createNamespacedServiceAccount({
      namespace: MSA_INSTALL_NAMESPACE,
      body: { metadata: { name: `by-hand-${suffix}` } },
    });
    onTestFinished(() =>
      spokeCore
        .deleteNamespacedServiceAccount({
          name: `by-hand-${suffix}`,
          namespace: MSA_INSTALL_NAMESPACE,
        })
        .then(
          () => undefined,
          () => undefined,
        ),
    );
    await startController();
    await eventually(
      'the orphan swept',
      async () => ((await spokeAccount(`orphan-${suffix}`)) === undefined ? true : undefined),
      30_000,
      200,
    );
    expect(await spokeAccount(`by-hand-${suffix}`)).toBeDefined();
  });

  it('is an add-on, Available while the agent is connected', async () => {
    const { rig } = await startController();
    const controller = createManagedServiceAccountAddOnController({
      hub,
      server: rig.server,
      spokeKubeConfig: (name) => rig.server.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY),
      intervalMs: 3_600_000,
    });
    controller.start();
    onTestFinished(() => controller.stop());
    const available = await addOn.availableBecomes(CLUSTER, 'True', AddOnReasons.ProbeAvailable);
    expect(available.metadata?.namespace).toBe(CLUSTER);
    await addOn.featureLabelBecomes(CLUSTER, 'available');
  });
});
