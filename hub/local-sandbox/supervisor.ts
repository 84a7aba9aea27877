import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';

import { createCa, issueCert, renderKubeconfig } from '../../certs/index.ts';
import { AGENT_ORGANIZATION, GATEWAY_ORGANIZATION, agentCommonName } from '../../protocol/index.ts';
import {
  HUB_CONTROLLER_IDENTITY,
  type ProxyServer,
  startProxyServer,
} from '../../proxy-server/index.ts';
import { type ControlPlane, ensureBinaries, startControlPlane } from '../../sandbox/index.ts';
import {
  CLUSTER_GROUP,
  ManagedClusterConditionTypes,
  hubCrds,
  spokeCrds,
  type ManagedCluster,
} from '../api/index.ts';
import {
  createClusterProxyAddOnController,
  type ClusterProxyAddOnController,
} from '../controllers/cluster-proxy-addon/index.ts';
import {
  createClusterStatusController,
  type ClusterStatusController,
} from '../controllers/cluster-status/index.ts';
import { apiStatus, describeError, installCrds, kubeManagedClusterStore } from '../kube/index.ts';
import { prepareSpokeAgent, SANDBOX_ADMINS_GROUP } from './spoke-agent-identity.ts';
import { isRunning, type SandboxCluster, type SandboxState, writeState } from './state.ts';

const BIN = fileURLToPath(new URL('../../bin/spokelink.js', import.meta.url));
const AGENTS_READY_TIMEOUT_MS = 60_000;
const AVAILABLE_TIMEOUT_MS = 60_000;
/** The proxy-server's serverID; the gateway's certificate is named after it. */
const SERVER_ID = 'sandbox';

/** Spoke names as `sandbox up` makes them: cluster1, cluster2, … */
export function spokeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `cluster${i + 1}`);
}

/**
 * The long-running sandbox process (`spokelink sandbox serve`): a hub and `spokes` spokes as
 * real control planes, the proxy-server (the hub process) in this process, and one agent per
 * spoke as a child process dialling out to it. Progress and the outcome go to state.json in
 * `dir`. Runs until SIGTERM/SIGINT, then stops agents, the proxy-server and the control planes.
 */
export async function serveSandbox(dir: string, spokes: number): Promise<void> {
  const state: SandboxState = {
    phase: 'starting',
    pid: process.pid,
    startedAt: new Date().toISOString(),
    progress: [],
    clusters: [],
  };
  const say = (line: string) => {
    state.progress.push(`${new Date().toISOString()} ${line}`);
    process.stderr.write(`${line}\n`);
    writeState(dir, state);
  };
  const agents: ChildProcess[] = [];
  const planes: ControlPlane[] = [];
  let server: ProxyServer | undefined;
  let statusController: ClusterStatusController | undefined;
  let addOnController: ClusterProxyAddOnController | undefined;
  process.on('exit', () => {
    for (const agent of agents) agent.kill('SIGKILL');
  });
  const stop = async () => {
    say('stopping');
    for (const agent of agents) agent.kill('SIGTERM');
    await Promise.all([statusController?.stop(), addOnController?.stop()]);
    await server?.close();
    await Promise.all(planes.map((p) => p.stop(5_000)));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());

  try {
    say('checking the Kubernetes binaries (the first run builds them)');
    const binaries = await ensureBinaries({ progress: say, isTty: false });
    const names = spokeNames(spokes);
    say(`starting control planes: hub, ${names.join(', ')}`);
    const started = await Promise.all(
      ['hub', ...names].map((name) =>
        startControlPlane({ name, binaries, baseDir: join(dir, 'planes') }),
      ),
    );
    planes.push(...started);
    const [hub, ...spokePlanes] = started as [ControlPlane, ...ControlPlane[]];

    const pkiDir = join(dir, 'pki');
    const kubeconfigDir = join(dir, 'kubeconfigs');
    const logDir = join(dir, 'logs');
    for (const d of [pkiDir, kubeconfigDir, logDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
    const write = (path: string, content: string) => {
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };
    const ca = createCa({ commonName: 'spokelink-sandbox-hub-ca' });
    const serving = issueCert(ca, {
      commonName: 'proxy-server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    const caFile = write(join(pkiDir, 'hub-ca.crt'), ca.certPem);
    // The cluster gateway's client certificate for agents' agent API.
    const gatewayCert = issueCert(ca, {
      commonName: `spokelink:gateway:${SERVER_ID}`,
      organizations: [GATEWAY_ORGANIZATION],
      usage: 'client',
    });
    // The sandbox's hub admin: system:masters on the hub, and in `sandbox-admins`, the group
    // the spokes make cluster-admin for hub users (the gateway never maps system: groups).
    const hubAdmin = issueCert(hub.clientCa, {
      commonName: 'sandbox-admin',
      organizations: ['system:masters', SANDBOX_ADMINS_GROUP],
      usage: 'client',
    });

    say('starting the proxy-server');
    server = await startProxyServer({
      serverId: SERVER_ID,
      tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem },
      gateway: {
        // The gateway asks the hub API server about callers (TokenReview, SubjectAccessReview).
        hub: {
          server: hub.server,
          caPem: hub.servingCaPem,
          clientCertPem: hub.admin.certPem,
          clientKeyPem: hub.admin.keyPem,
        },
        clientCaPem: hub.clientCa.certPem,
        cert: { certPem: gatewayCert.certPem, keyPem: gatewayCert.keyPem },
      },
    });
    const addresses = server.addresses;
    state.proxyServer = {
      connect: addresses.connect ?? '',
      health: addresses.health ?? '',
      agentGrpc: addresses.agentGrpc ?? '',
      frontendGrpc: addresses.frontendGrpc ?? '',
    };
    state.gateway = { url: addresses.gateway ?? '', caFile };
    state.hub = {
      server: hub.server,
      kubeconfig: write(
        join(kubeconfigDir, 'hub.kubeconfig'),
        renderKubeconfig({
          clusterName: hub.name,
          contextName: hub.name,
          server: hub.server,
          caPem: hub.servingCaPem,
          userName: 'sandbox-admin',
          clientCertPem: hubAdmin.certPem,
          clientKeyPem: hubAdmin.keyPem,
        }),
      ),
    };

    say(
      'installing the OCM CRDs (hub kinds on the hub, ClusterClaim and AppliedManifestWork on spokes)',
    );
    const hubKubeConfig = loadKubeConfig(hub.kubeconfigPath);
    const spokeAdminConfigs = new Map(
      spokePlanes.map((p) => [p.name, loadKubeConfig(p.kubeconfigPath)] as const),
    );
    await Promise.all([
      installCrds(hubKubeConfig, hubCrds()),
      ...[...spokeAdminConfigs.values()].map((kc) => installCrds(kc, spokeCrds())),
    ]);
    say(`creating the ManagedClusters ${spokePlanes.map((p) => p.name).join(', ')} (accepted)`);
    for (const plane of spokePlanes) await createManagedCluster(hubKubeConfig, plane.name);
    // The hub controllers reach spokes only through the tunnel and the agent API, as their own
    // identity (bound to cluster-admin on each spoke by prepareSpokeAgent below).
    const proxy = server;
    const spokeKubeConfig = (name: string) => proxy.spokeKubeConfig(name, HUB_CONTROLLER_IDENTITY);
    const reportError = (controller: string) => (cluster: string | undefined, err: unknown) =>
      process.stderr.write(
        `${controller}${cluster === undefined ? '' : ` of ${cluster}`}: ${describeError(err)}\n`,
      );
    statusController = createClusterStatusController({
      hub: hubKubeConfig,
      server,
      spokeKubeConfig,
      onError: reportError('cluster status'),
    });
    addOnController = createClusterProxyAddOnController({
      hub: hubKubeConfig,
      server,
      spokeKubeConfig,
      onError: reportError('cluster-proxy add-on'),
    });
    statusController.start();
    addOnController.start();

    say(`preparing the agents' identities on ${spokePlanes.map((p) => p.name).join(', ')}`);
    const agentFiles = await Promise.all(spokePlanes.map((p) => prepareSpokeAgent(p, pkiDir)));

    for (const [index, plane] of spokePlanes.entries()) {
      const files = agentFiles[index];
      if (files === undefined) throw new Error(`no agent files for ${plane.name}`);
      // Client certificate for the tunnel, and serving certificate of its agent API.
      const cert = issueCert(ca, {
        commonName: agentCommonName(plane.name, 'agent'),
        organizations: [AGENT_ORGANIZATION],
        usage: 'server-client',
      });
      const certFile = write(join(pkiDir, `${plane.name}-agent.crt`), cert.certPem);
      const keyFile = write(join(pkiDir, `${plane.name}-agent.key`), cert.keyPem);
      const log = openSync(join(logDir, `agent-${plane.name}.log`), 'a');
      // The agent is its own process, as on a real spoke: it dials out to the proxy-server.
      const agent = spawn(
        process.execPath,
        [
          BIN,
          'agent',
          '--cluster-name',
          plane.name,
          '--agent-name',
          'agent',
          '--server',
          state.proxyServer.agentGrpc,
          '--cert',
          certFile,
          '--key',
          keyFile,
          '--ca',
          caFile,
          '--server-name',
          'localhost',
          '--kube-apiserver',
          new URL(plane.server).host,
          '--agent-api-token-file',
          files.tokenFile,
          '--kube-apiserver-ca',
          files.kubeApiserverCaFile,
          '--health-port',
          '0',
        ],
        { stdio: ['ignore', log, log] },
      );
      agents.push(agent);
      const cluster: SandboxCluster = {
        name: plane.name,
        server: plane.server,
        kubeconfig: write(
          join(kubeconfigDir, `${plane.name}-direct.kubeconfig`),
          renderAdmin(plane),
        ),
        tunnelKubeconfig: write(
          join(kubeconfigDir, `${plane.name}.kubeconfig`),
          renderKubeconfig({
            clusterName: plane.name,
            contextName: plane.name,
            server: `https://${plane.name}:443`,
            proxyUrl: state.proxyServer.connect,
            tlsServerName: 'kubernetes.default.svc',
            caPem: plane.servingCaPem,
            userName: `${plane.name}-admin`,
            clientCertPem: plane.admin.certPem,
            clientKeyPem: plane.admin.keyPem,
          }),
        ),
        agentPid: agent.pid,
      };
      state.clusters.push(cluster);
    }
    say(`waiting for ${spokePlanes.length} agents to connect`);
    const deadline = Date.now() + AGENTS_READY_TIMEOUT_MS;
    while (new Set(proxy.agents().map((a) => a.cluster)).size < spokePlanes.length) {
      const dead = agents.find((a) => !isRunning(a.pid));
      if (dead) throw new Error(`an agent exited early; see ${logDir}`);
      if (Date.now() > deadline)
        throw new Error(
          `agents did not connect within ${AGENTS_READY_TIMEOUT_MS / 1000}s; see ${logDir}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
    say(`waiting for ${spokePlanes.length} clusters to be Available`);
    const store = kubeManagedClusterStore(hubKubeConfig);
    const availableBy = Date.now() + AVAILABLE_TIMEOUT_MS;
    for (;;) {
      const clusters = await store.list();
      const available = clusters.filter((c) =>
        c.status?.conditions?.some(
          (x) => x.type === ManagedClusterConditionTypes.Available && x.status === 'True',
        ),
      );
      if (available.length >= spokePlanes.length) break;
      if (Date.now() > availableBy)
        throw new Error(
          `clusters not Available within ${AVAILABLE_TIMEOUT_MS / 1000}s: ${clusters
            .filter((c) => !available.includes(c))
            .map((c) => c.metadata?.name)
            .join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
    state.phase = 'ready';
    state.readyAt = new Date().toISOString();
    say('ready');
  } catch (err) {
    state.phase = 'failed';
    state.error = err instanceof Error ? err.message : String(err);
    say(`failed: ${state.error}`);
    await stop();
  }
}

function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** Creates the ManagedCluster `name`, accepted by the hub (an existing one is left as it is). */
async function createManagedCluster(hub: KubeConfig, name: string): Promise<void> {
  const body: ManagedCluster = {
    apiVersion: `${CLUSTER_GROUP}/v1`,
    kind: 'ManagedCluster',
    metadata: { name },
    spec: { hubAcceptsClient: true },
  };
  try {
    await hub.makeApiClient(CustomObjectsApi).createClusterCustomObject({
      group: CLUSTER_GROUP,
      version: 'v1',
      plural: 'managedclusters',
      body,
    });
  } catch (err: unknown) {
    if (apiStatus(err) !== 409) throw err;
  }
}

function renderAdmin(plane: ControlPlane): string {
  return renderKubeconfig({
    clusterName: plane.name,
    contextName: plane.name,
    server: plane.server,
    caPem: plane.servingCaPem,
    userName: `${plane.name}-admin`,
    clientCertPem: plane.admin.certPem,
    clientKeyPem: plane.admin.keyPem,
  });
}
