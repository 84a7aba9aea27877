import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { KubeConfig } from '@kubernetes/client-node';

import { issueCert, publicKeyHashSha256, renderKubeconfig } from '../../certs/index.ts';
import { type ControlPlane, ensureBinaries, startControlPlane } from '../../sandbox/index.ts';
import { ManagedClusterConditionTypes, hubCrds } from '../api/index.ts';
import { ensureManifestWorkAdmissionPolicy } from '../controllers/manifest-work/index.ts';
import { ensurePolicyAdmissionPolicy } from '../controllers/policy/index.ts';
import { ensureSubscriptionAdmissionPolicy } from '../controllers/subscription/index.ts';
import { type Hub, startHub } from '../hub-process/start-hub.ts';
import { applyJoin, prepareLocalAgent } from '../join/join-cluster.ts';
import { apiStatus, describeError, installCrds, kubeManagedClusterStore } from '../kube/index.ts';
import { BootstrapTokens } from '../registration/bootstrap-tokens.ts';
import { acceptCluster } from '../registration/cluster-decisions.ts';
import { ensureHubNamespace, ensureHubPki } from '../registration/hub-pki.ts';
import { grantSandboxAdmins, SANDBOX_ADMINS_GROUP } from './spoke-agent-identity.ts';
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
  let hubProcess: Hub | undefined;
  process.on('exit', () => {
    for (const agent of agents) agent.kill('SIGKILL');
  });
  const stop = async () => {
    say('stopping');
    for (const agent of agents) agent.kill('SIGTERM');
    await hubProcess?.close();
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
    // The sandbox's hub admin: system:masters on the hub, and in `sandbox-admins`, the group
    // the spokes make cluster-admin for hub users (the gateway never maps system: groups).
    const hubAdmin = issueCert(hub.clientCa, {
      commonName: 'sandbox-admin',
      organizations: ['system:masters', SANDBOX_ADMINS_GROUP],
      usage: 'client',
    });
    const hubKubeConfig = loadKubeConfig(hub.kubeconfigPath);
    const spokeAdminConfigs = new Map(
      spokePlanes.map((p) => [p.name, loadKubeConfig(p.kubeconfigPath)] as const),
    );

    // What `spokelink init` does: the OCM CRDs, the hub namespace, the hub CA and certificates.
    say('preparing the hub (spokelink init): the OCM CRDs, the hub namespace and CA');
    await installCrds(hubKubeConfig, hubCrds());
    await ensureHubNamespace(hubKubeConfig);
    await ensureManifestWorkAdmissionPolicy(hubKubeConfig);
    await ensurePolicyAdmissionPolicy(hubKubeConfig);
    await ensureSubscriptionAdmissionPolicy(hubKubeConfig);
    const pki = await ensureHubPki(hubKubeConfig, { serverNames: ['127.0.0.1', 'localhost'] });
    const caFile = write(join(pkiDir, 'hub-ca.crt'), pki.ca.certPem);
    const caHash = publicKeyHashSha256(pki.ca.certPem);

    say('starting the hub process (proxy-server, cluster gateway, registration, controllers)');
    hubProcess = await startHub({
      hub: hubKubeConfig,
      serverId: SERVER_ID,
      listen: {
        agentGrpc: 0,
        agentWebSocket: 0,
        frontendGrpc: 0,
        registration: 0,
        gateway: 0,
        health: 0,
        connect: 0,
      },
      onError: (what, err) => process.stderr.write(`${what}: ${describeError(err)}\n`),
    });
    const proxy = hubProcess.server;
    if (proxy === undefined) throw new Error('the hub started without its proxy-server');
    const addresses = proxy.addresses;
    const registration = hubProcess.endpoints.registration ?? '';
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

    // What `spokelink join --run-local` does on each spoke, with a fresh single-use token.
    const tokens = new BootstrapTokens(hubKubeConfig);
    say(`joining ${spokePlanes.map((p) => p.name).join(', ')} (spokelink join --run-local)`);
    for (const plane of spokePlanes) {
      const spoke = spokeAdminConfigs.get(plane.name) as KubeConfig;
      const { token } = await tokens.create({
        ttlSeconds: 3600,
        description: `sandbox ${plane.name}`,
      });
      await applyJoin(spoke, {
        hub: registration,
        token,
        caHash,
        clusterName: plane.name,
        agentName: 'agent',
        transport: 'websocket',
        image: 'spokelink/spokelink:latest',
        replicas: 0,
      });
      await grantSandboxAdmins(spoke);
      const files = await prepareLocalAgent(spoke, join(dir, 'agents', plane.name));
      const log = openSync(join(logDir, `agent-${plane.name}.log`), 'a');
      // The agent is its own process, as on a real spoke: it registers with the hub through
      // the proxy-server's registration API, then dials out to the tunnel.
      const agent = spawn(
        process.execPath,
        [
          BIN,
          'agent',
          '--registration',
          '--spoke-kubeconfig',
          files.kubeconfig,
          '--token-file',
          files.tokenFile,
          '--health-port',
          '0',
          '--poll-ms',
          '250',
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
    say(`accepting ${spokePlanes.map((p) => p.name).join(', ')} (spokelink accept)`);
    const acceptBy = Date.now() + AGENTS_READY_TIMEOUT_MS;
    const pendingAccept = new Set(spokePlanes.map((p) => p.name));
    while (pendingAccept.size > 0) {
      for (const name of [...pendingAccept]) {
        try {
          await acceptCluster(hubKubeConfig, name);
          pendingAccept.delete(name);
        } catch (err: unknown) {
          if (apiStatus(err) !== 404) throw err;
        }
      }
      const dead = agents.find((a) => !isRunning(a.pid));
      if (dead) throw new Error(`an agent exited early; see ${logDir}`);
      if (Date.now() > acceptBy) {
        throw new Error(
          `${[...pendingAccept].join(', ')} did not register within ${AGENTS_READY_TIMEOUT_MS / 1000}s; see ${logDir}`,
        );
      }
      if (pendingAccept.size > 0) await new Promise((r) => setTimeout(r, 200));
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
