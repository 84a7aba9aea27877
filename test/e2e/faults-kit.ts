// What the fault tests share: the hub and the agent as real child processes
// (faults-processes.ts: SIGKILLed and started again on the same ports), a cluster prepared on
// the hub and the spoke, and requests and watches through the cluster gateway. The monitors of
// status claims are in faults-monitor.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';

import { generateKeyPair, issueCert, renderKubeconfig, type KeyPair } from '../../certs/index.ts';
import {
  CLUSTER_GROUP,
  WORK_GROUP,
  type AppliedManifestWork,
  type ManifestWork,
} from '../../hub/api/index.ts';
import { ensureHubNamespace, ensureHubPki, type HubPki } from '../../hub/registration/hub-pki.ts';
import { AGENT_ORGANIZATION, agentCommonName } from '../../protocol/index.ts';
import { eventually, kubectl, type KubectlResult } from '../framework/kubectl.ts';
import type { SharedControlPlane } from '../framework/shared-control-plane.ts';
import { grantSpoke, type SpokeGrants } from './controller-rig.ts';
import { Child, freePorts, HubChild } from './faults-processes.ts';

const BIN = fileURLToPath(new URL('../../bin/spokelink.js', import.meta.url));
const MW = { group: WORK_GROUP, version: 'v1', plural: 'manifestworks' };
const MC = { group: CLUSTER_GROUP, version: 'v1', plural: 'managedclusters' };
const AVAILABLE = 'ManagedClusterConditionAvailable';
/** Short Lease timings: a killed leader is replaced within seconds. */
export const FAULT_LEASE = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };
/** The user the gateway impersonates for the control plane's admin (`spokelink-admin`). */
const GATEWAY_USER = 'spokelink:hub:spokelink-admin';

/** A control plane as the kit needs it (the shared ones or a private `ControlPlane`). */
export type Plane = Pick<
  SharedControlPlane,
  'name' | 'server' | 'kubeconfigPath' | 'binaries' | 'admin' | 'servingCaPem'
>;

export function kubeConfigOf(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** Options of {@link faultsKit}. */
export interface FaultsKitOptions {
  readonly hubPlane: Plane;
  readonly spokePlane: Plane;
  readonly cluster: string;
}

/**
 * The kit of one fault-test file. `prepare()` makes the hub's PKI (as `spokelink init`), the
 * accepted ManagedCluster and its namespace, and the spoke's grants (the agent's identity, the
 * hub controllers and the gateway user); `cleanup()` stops every child and removes all of it.
 */
export function faultsKit(options: FaultsKitOptions) {
  const { hubPlane, spokePlane, cluster } = options;
  const hub = kubeConfigOf(hubPlane.kubeconfigPath);
  const spoke = kubeConfigOf(spokePlane.kubeconfigPath);
  const hubObjects = hub.makeApiClient(CustomObjectsApi);
  const spokeRbac = spoke.makeApiClient(RbacAuthorizationV1Api);
  const spokeApi = KubernetesObjectApi.makeApiClient(spoke);
  const scratch = mkdtempSync(join(tmpdir(), 'spokelink-faults-'));
  const hubs: HubChild[] = [];
  const agents: Child[] = [];
  const watches: ChildProcess[] = [];
  const requests: ClientRequest[] = [];
  let grants: SpokeGrants | undefined;
  let pki: HubPki | undefined;
  let keyPair: KeyPair | undefined;
  const gatewayBinding = `spokelink-faults-gateway-${cluster}`;

  const run = (plane: Plane) => (args: string[], input?: string) =>
    kubectl(plane.binaries.kubectl, args, {
      kubeconfig: plane.kubeconfigPath,
      ...(input === undefined ? {} : { input }),
    });
  const onHub: (args: string[], input?: string) => Promise<KubectlResult> = run(hubPlane);
  const onSpoke: (args: string[], input?: string) => Promise<KubectlResult> = run(spokePlane);

  const kit = {
    hub,
    spoke,
    scratch,
    onHub,
    onSpoke,
    get pki(): HubPki {
      if (pki === undefined) throw new Error('prepare() did not run');
      return pki;
    },

    async prepare(): Promise<void> {
      await ensureHubNamespace(hub);
      pki = await ensureHubPki(hub, { serverNames: ['127.0.0.1'] });
      grants = await grantSpoke(spokePlane as SharedControlPlane, cluster);
      await spokeRbac.createClusterRoleBinding({
        body: {
          metadata: { name: gatewayBinding },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: GATEWAY_USER }],
        },
      });
      await hubObjects.createClusterCustomObject({
        ...MC,
        body: {
          apiVersion: `${CLUSTER_GROUP}/v1`,
          kind: 'ManagedCluster',
          metadata: { name: cluster },
          spec: { hubAcceptsClient: true },
        },
      });
      await hub
        .makeApiClient(CoreV1Api)
        .createNamespace({ body: { metadata: { name: cluster } } })
        .catch(() => undefined); // the registration controller may have made it
      // The agent's certificate from the hub CA, as registration would issue it.
      keyPair ??= generateKeyPair();
      const cert = issueCert(pki.ca, {
        commonName: agentCommonName(cluster, 'a0'),
        organizations: [AGENT_ORGANIZATION],
        usage: 'server-client',
        keyPair,
      });
      writeFileSync(join(scratch, 'agent.crt'), cert.certPem, { mode: 0o600 });
      writeFileSync(join(scratch, 'agent.key'), cert.keyPem, { mode: 0o600 });
      writeFileSync(join(scratch, 'hub-ca.crt'), pki.ca.certPem);
      writeFileSync(join(scratch, 'spoke-ca.crt'), spokePlane.servingCaPem);
    },

    /** A hub child on fresh ports (not started). */
    async hubChild(serverId: string, serverCount = 1): Promise<HubChild> {
      const [agentGrpc, frontendGrpc, registration, gateway, health] = await freePorts(5);
      const child = new HubChild({
        kubeconfigPath: hubPlane.kubeconfigPath,
        serverId,
        serverCount,
        ports: {
          agentGrpc: agentGrpc ?? 0,
          frontendGrpc: frontendGrpc ?? 0,
          registration: registration ?? 0,
          gateway: gateway ?? 0,
          health: health ?? 0,
        },
        lease: FAULT_LEASE,
      });
      hubs.push(child);
      return child;
    },

    /** `spokelink agent` for the cluster dialling `servers` (not started). */
    agentChild(servers: string[]): Child {
      if (grants === undefined) throw new Error('prepare() did not run');
      const agent = new Child(`agent of ${cluster}`, [
        BIN,
        'agent',
        '--cluster-name',
        cluster,
        '--agent-name',
        'a0',
        ...servers.flatMap((s) => ['--server', s]),
        '--server-name',
        'localhost',
        '--cert',
        join(scratch, 'agent.crt'),
        '--key',
        join(scratch, 'agent.key'),
        '--ca',
        join(scratch, 'hub-ca.crt'),
        '--kube-apiserver',
        new URL(spokePlane.server).host,
        '--agent-api-token-file',
        grants.agentApi.tokenFile,
        '--kube-apiserver-ca',
        join(scratch, 'spoke-ca.crt'),
        '--health-port',
        '0',
      ]);
      agents.push(agent);
      return agent;
    },

    /** A kubeconfig through `gateway` to the cluster as the hub's admin (impersonated there). */
    gatewayKubeconfig(gateway: string): string {
      const path = join(scratch, `gateway-${new URL(gateway).port}.kubeconfig`);
      writeFileSync(
        path,
        renderKubeconfig({
          clusterName: cluster,
          contextName: cluster,
          server: `${gateway}/clusters/${cluster}`,
          caPem: kit.pki.ca.certPem,
          userName: 'admin',
          clientCertPem: hubPlane.admin.certPem,
          clientKeyPem: hubPlane.admin.keyPem,
        }),
        { mode: 0o600 },
      );
      return path;
    },

    /** The cluster's ManagedClusterConditionAvailable status ('' when absent or unreadable). */
    async available(): Promise<string> {
      const mc = (await hubObjects
        .getClusterCustomObject({ ...MC, name: cluster })
        .catch(() => undefined)) as
        { status?: { conditions?: { type: string; status: string }[] } } | undefined;
      return mc?.status?.conditions?.find((c) => c.type === AVAILABLE)?.status ?? '';
    },

    availableIs(status: string, timeoutMs = 90_000): Promise<true> {
      return eventually(
        `${cluster} Available ${status}`,
        async () => ((await kit.available()) === status ? true : undefined),
        timeoutMs,
        100,
      );
    },

    async getWork(name: string): Promise<ManifestWork | undefined> {
      return (await hubObjects
        .getNamespacedCustomObject({ ...MW, namespace: cluster, name })
        .catch(() => undefined)) as ManifestWork | undefined;
    },

    /** Whether a spoke object exists (read with the spoke's admin). */
    async onSpokeExists(manifest: Record<string, unknown>): Promise<boolean> {
      try {
        await spokeApi.read(manifest as never);
        return true;
      } catch {
        return false;
      }
    },

    /** The spoke's AppliedManifestWork of the work `name` (any hub hash), if there is one. */
    async appliedWork(name: string): Promise<AppliedManifestWork | undefined> {
      const list = (await spoke
        .makeApiClient(CustomObjectsApi)
        .listClusterCustomObject({
          group: WORK_GROUP,
          version: 'v1',
          plural: 'appliedmanifestworks',
        })
        .catch(() => ({ items: [] }))) as { items: AppliedManifestWork[] };
      return list.items.find((a) => a.spec?.manifestWorkName === name);
    },

    /**
     * `kubectl get … --watch` through `gateway` as a child: its output so far, and its end.
     * Killed (SIGKILL) after the test if still running.
     */
    gatewayWatch(gateway: string, args: string[]) {
      const child = spawn(
        hubPlane.binaries.kubectl,
        ['--kubeconfig', kit.gatewayKubeconfig(gateway), 'get', ...args, '--watch', '-o', 'name'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      watches.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
        child.once('close', (code) => resolve({ code, stderr })),
      );
      return { stdout: () => stdout, exit, kill: () => child.kill('SIGKILL') };
    },

    /**
     * A raw watch request through `gateway` (`GET <path>?watch=1`, HTTP/1.1, chunked): resolves
     * `events` (the watch events received so far) and `end`, which says whether the response
     * ended cleanly (the terminal chunk: a server that closed the watch on purpose) or with an
     * error (the connection or the stream broke: what a client must see when the path to the
     * cluster is lost). Destroyed after the test if still open.
     */
    rawWatch(gateway: string, path: string) {
      let events = 0;
      const end = new Promise<{ how: 'clean' | 'error'; status?: number; error?: string }>(
        (resolve) => {
          const req = httpsRequest(`${gateway}/clusters/${cluster}${path}?watch=1`, {
            ca: kit.pki.ca.certPem,
            cert: hubPlane.admin.certPem,
            key: hubPlane.admin.keyPem,
            agent: false,
          });
          requests.push(req);
          req.on('error', (err) => resolve({ how: 'error', error: err.message }));
          req.on('response', (res) => {
            res.on('data', (d: Buffer) => (events += d.toString().split('\n').length - 1));
            res.on('error', (err) => resolve({ how: 'error', error: err.message }));
            res.on('aborted', () => resolve({ how: 'error', error: 'aborted' }));
            res.on('end', () =>
              resolve(
                res.complete
                  ? { how: 'clean', status: res.statusCode ?? 0 }
                  : { how: 'error', error: 'incomplete' },
              ),
            );
            res.on('close', () =>
              resolve(
                res.complete
                  ? { how: 'clean', status: res.statusCode ?? 0 }
                  : { how: 'error', error: 'closed before the end' },
              ),
            );
          });
          req.end();
        },
      );
      return { events: () => events, end };
    },

    /**
     * One GET through `gateway` as the hub's admin: the status, or the error's message (status
     * 0), also when no answer came within `timeoutMs`.
     */
    gatewayGet(
      gateway: string,
      path: string,
      timeoutMs = 30_000,
    ): Promise<{ status: number; error?: string }> {
      return new Promise((resolve) => {
        const req = httpsRequest(`${gateway}/clusters/${cluster}${path}`, {
          ca: kit.pki.ca.certPem,
          cert: hubPlane.admin.certPem,
          key: hubPlane.admin.keyPem,
          agent: false,
          timeout: timeoutMs,
        });
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (err) => resolve({ status: 0, error: err.message }));
        req.on('response', (res) => {
          res.resume();
          res.on('error', (err) => resolve({ status: 0, error: err.message }));
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        });
        req.end();
      });
    },

    /** Stops every child and removes what prepare() and the tests made. */
    async cleanup(extraSpokeNamespaces: string[] = []): Promise<void> {
      for (const w of watches) if (w.exitCode === null) w.kill('SIGKILL');
      for (const r of requests) r.destroy();
      await Promise.all([...agents, ...hubs.map((h) => h.child)].map((c) => c.stop()));
      const works = (await hubObjects
        .listNamespacedCustomObject({ ...MW, namespace: cluster })
        .catch(() => ({ items: [] }))) as { items: ManifestWork[] };
      for (const work of works.items) {
        const name = work.metadata?.name ?? '';
        await onHub([
          'patch',
          'manifestwork',
          name,
          '-n',
          cluster,
          '--type=merge',
          '-p',
          '{"metadata":{"finalizers":null}}',
        ]);
      }
      await onHub(['delete', 'namespace', cluster, '--ignore-not-found', '--wait=false']);
      await hubObjects.deleteClusterCustomObject({ ...MC, name: cluster }).catch(() => undefined);
      for (const ns of extraSpokeNamespaces)
        await onSpoke(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
      for (const work of works.items) {
        const applied = await kit.appliedWork(work.metadata?.name ?? '');
        if (applied?.metadata?.name !== undefined)
          await onSpoke(['delete', 'appliedmanifestwork', applied.metadata.name, '--wait=false']);
      }
      await spokeRbac.deleteClusterRoleBinding({ name: gatewayBinding }).catch(() => undefined);
      await grants?.remove();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
  return kit;
}

export type FaultsKit = ReturnType<typeof faultsKit>;

export { Child, HubChild, overlappingLeaders } from './faults-processes.ts';
