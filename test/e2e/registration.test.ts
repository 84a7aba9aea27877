// Registration with one egress, as an operator does it: `spokelink init` on the hub, the hub
// process, `spokelink join --run-local` on a spoke (its own real control plane), `accept`,
// single-use and expiring bootstrap tokens, CSR subjects that name another cluster, certificate
// rotation without a token, `deny` cutting the agent off, and `unjoin`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  CertificatesV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import {
  AGENT_ORGANIZATION,
  SPOKE_AGENT_NAMESPACE,
  SPOKE_HUB_CLIENT_SECRET,
  agentCommonName,
} from '../../protocol/index.ts';
import {
  createCsr,
  generateKeyPair,
  parseCertificate,
  verifyCertificate,
} from '../../certs/index.ts';
import { RegistrationClient, RegistrationRefusedError } from '../../proxy-agent/index.ts';
import { startHub, type Hub } from '../../hub/hub-process/start-hub.ts';
import { BootstrapTokens } from '../../hub/registration/bootstrap-tokens.ts';
import { type ControlPlane, startControlPlane } from '../../sandbox/index.ts';
import { eventually } from '../framework/kubectl.ts';

const hubPlane = inject('hub');
const BIN = fileURLToPath(new URL('../../bin/spokelink.js', import.meta.url));
const CLUSTER = 'reg-c1';

function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function expectRefused(promise: Promise<unknown>, code: string): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistrationRefusedError);
  expect((err as RegistrationRefusedError).registrationCode).toBe(code);
  return (err as Error).message;
}

describe('registration over the tunnel', () => {
  const hubKc = loadKubeConfig(hubPlane.kubeconfigPath);
  let spoke: ControlPlane;
  let spokeKc: KubeConfig;
  let hub: Hub;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let token = '';
  let caHash = '';
  let agent: ChildProcess | undefined;
  let agentExit: Promise<number | null> | undefined;
  const managedCluster = () =>
    hubKc.makeApiClient(CustomObjectsApi).getClusterCustomObject({
      group: 'cluster.open-cluster-management.io',
      version: 'v1',
      plural: 'managedclusters',
      name: CLUSTER,
    }) as Promise<{ spec?: { hubAcceptsClient?: boolean } }>;
  const connected = () => (hub.server?.agents() ?? []).filter((a) => a.cluster === CLUSTER);
  const issuedCertificate = async () => {
    const secret = await spokeKc
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ name: SPOKE_HUB_CLIENT_SECRET, namespace: SPOKE_AGENT_NAMESPACE });
    const pem = secret.data?.['tls.crt'];
    return pem === undefined ? undefined : Buffer.from(pem, 'base64').toString('utf8');
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'spokelink-reg-'));
    spoke = await startControlPlane({ name: 'reg-spoke', binaries: hubPlane.binaries });
    spokeKc = loadKubeConfig(spoke.kubeconfigPath);
    env = { ...process.env, SPOKELINK_HOME: home, KUBECONFIG: '' };
  }, 180_000);

  afterAll(async () => {
    if (agent !== undefined && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await agentExit;
    }
    await hub?.close();
    await spoke?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('init prepares the hub and prints a join command with a token and the CA hash', async () => {
    const init = await cli(
      ['init', '--kubeconfig', hubPlane.kubeconfigPath, '--advertise-address', '127.0.0.1'],
      env,
    );
    expect(init.code, init.stderr).toBe(0);
    const match = /--token ([a-z0-9]{6}\.[a-z0-9]{16}) --ca-hash (sha256:[0-9a-f]{64})/.exec(
      init.stdout,
    );
    expect(match, init.stdout).not.toBeNull();
    token = match?.[1] ?? '';
    caHash = match?.[2] ?? '';
    hub = await startHub({
      hub: hubKc,
      listen: {
        agentGrpc: 0,
        agentWebSocket: 0,
        frontendGrpc: 0,
        registration: 0,
        gateway: 0,
        health: 0,
      },
      agentCertSeconds: 30,
    });
    expect(hub.endpoints.registration).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('join --run-local registers the cluster, which waits for accept, then connects', async () => {
    agent = spawn(
      process.execPath,
      [
        BIN,
        'join',
        '--hub',
        hub.endpoints.registration ?? '',
        '--token',
        token,
        '--ca-hash',
        caHash,
        '--cluster-name',
        CLUSTER,
        '--kubeconfig',
        spoke.kubeconfigPath,
        '--run-local',
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    agent.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    agentExit = new Promise((resolve) => agent?.on('exit', (code) => resolve(code)));

    const pending = await eventually('the ManagedCluster to be created, not accepted', async () => {
      const cluster = await managedCluster().catch(() => undefined);
      return cluster?.spec?.hubAcceptsClient === false ? cluster : undefined;
    });
    expect(pending).toBeDefined();
    await eventually('a pending registration in the agent log', async () =>
      log.includes('waiting for the hub to accept cluster') ? true : undefined,
    );
    expect(connected()).toHaveLength(0);

    const accept = await cli(['accept', CLUSTER, '--kubeconfig', hubPlane.kubeconfigPath], env);
    expect(accept.code, accept.stderr).toBe(0);
    await eventually(`the agent of ${CLUSTER} to connect (log: ${log.slice(-2000)})`, async () =>
      connected().length === 1 ? true : undefined,
    );
    // The hub reads the spoke through the tunnel, as its controllers' identity: Available.
    await eventually('the ManagedCluster to be Available', async () => {
      const cluster = (await managedCluster()) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      const available = cluster.status?.conditions?.find(
        (c) => c.type === 'ManagedClusterConditionAvailable',
      );
      return available?.status === 'True' ? true : undefined;
    });
    // The certificate the agent keeps on its spoke is the hub CA's, for this cluster only.
    const certPem = (await issuedCertificate()) ?? '';
    expect(parseCertificate(certPem).commonName).toBe(agentCommonName(CLUSTER, 'agent'));
    expect(() => verifyCertificate(certPem, hub.pki.ca.certPem, { usage: 'client' })).not.toThrow();
    // The cluster's namespace and its gateway ClusterRole exist on the hub.
    await hubKc.makeApiClient(CoreV1Api).readNamespace({ name: CLUSTER });
    const role = await hubKc
      .makeApiClient(RbacAuthorizationV1Api)
      .readClusterRole({ name: `open-cluster-management:cluster-proxy:${CLUSTER}` });
    expect(role.rules?.[0]?.resourceNames).toEqual([CLUSTER]);
  });

  it('refuses a reused token, an expired token, and a CSR naming another cluster', async () => {
    const client = new RegistrationClient({
      hubUrl: hub.endpoints.registration ?? '',
      caPem: hub.pki.ca.certPem,
    });
    const csrFor = (cluster: string) =>
      createCsr({
        commonName: agentCommonName(cluster, 'agent'),
        organizations: [AGENT_ORGANIZATION],
        keyPair: generateKeyPair(),
      });
    const reused = await expectRefused(
      client.submit(token, {
        clusterName: 'reg-other',
        agentName: 'agent',
        csr: csrFor('reg-other'),
      }),
      'REG_ERR_TOKEN_USED',
    );
    expect(reused).toContain(CLUSTER);

    const tokens = new BootstrapTokens(hubKc);
    const shortLived = await tokens.create({ ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1_500));
    await expectRefused(
      client.submit(shortLived.token, {
        clusterName: 'reg-late',
        agentName: 'agent',
        csr: csrFor('reg-late'),
      }),
      'REG_ERR_TOKEN_EXPIRED',
    );

    const fresh = await tokens.create({ ttlSeconds: 600 });
    const mismatch = await expectRefused(
      client.submit(fresh.token, {
        clusterName: 'reg-mine',
        agentName: 'agent',
        csr: csrFor(CLUSTER),
      }),
      'REG_ERR_INVALID_CSR',
    );
    expect(mismatch).toContain('spokelink:agent:reg-mine:agent');
    await expectRefused(
      client.submit('abcdef.0123456789abcdef', {
        clusterName: 'reg-x',
        agentName: 'agent',
        csr: csrFor('reg-x'),
      }),
      'REG_ERR_TOKEN_INVALID',
    );
    // None of these refusals created a cluster.
    const list = (await hubKc.makeApiClient(CustomObjectsApi).listClusterCustomObject({
      group: 'cluster.open-cluster-management.io',
      version: 'v1',
      plural: 'managedclusters',
    })) as { items: { metadata: { name: string } }[] };
    expect(list.items.map((c) => c.metadata.name)).not.toContain('reg-mine');
    expect(list.items.map((c) => c.metadata.name)).not.toContain('reg-other');
  });

  it('rotates the agent certificate before expiry without a token, staying connected', async () => {
    const first = (await issuedCertificate()) ?? '';
    const renewed = await eventually(
      'a renewed certificate on the spoke',
      async () => {
        const current = await issuedCertificate();
        return current !== undefined && current !== first ? current : undefined;
      },
      90_000,
      1_000,
    );
    expect(parseCertificate(renewed).commonName).toBe(agentCommonName(CLUSTER, 'agent'));
    expect(parseCertificate(renewed).notAfter.getTime()).toBeGreaterThan(
      parseCertificate(first).notAfter.getTime(),
    );
    const renewals = await hubKc
      .makeApiClient(CertificatesV1Api)
      .listCertificateSigningRequest({ labelSelector: 'spokelink.io/request-kind=renewal' });
    expect(
      renewals.items.some(
        (csr) => csr.metadata?.labels?.['open-cluster-management.io/cluster-name'] === CLUSTER,
      ),
    ).toBe(true);
    // The bootstrap token was spent by the first certificate; rotation did not need it.
    const used = (await new BootstrapTokens(hubKc).list()).find((t) =>
      token.startsWith(`${t.id}.`),
    );
    expect(used?.consumedAt).toBeDefined();
    await eventually('the agent connected after rotation', async () =>
      connected().length === 1 ? true : undefined,
    );
  });

  it('deny cuts the agent off and keeps it out; accept lets it back', async () => {
    const deny = await cli(['deny', CLUSTER, '--kubeconfig', hubPlane.kubeconfigPath], env);
    expect(deny.code, deny.stderr).toBe(0);
    await eventually('the agent to be disconnected', async () =>
      connected().length === 0 ? true : undefined,
    );
    // It keeps trying and is refused while denied.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(connected()).toHaveLength(0);
    const accept = await cli(['accept', CLUSTER, '--kubeconfig', hubPlane.kubeconfigPath], env);
    expect(accept.code, accept.stderr).toBe(0);
    await eventually('the agent to reconnect', async () =>
      connected().length === 1 ? true : undefined,
    );
  });

  it('unjoin removes the agent objects from the spoke', async () => {
    agent?.kill('SIGTERM');
    expect(await agentExit).toBe(0);
    const unjoin = await cli(['unjoin', '--kubeconfig', spoke.kubeconfigPath], env);
    expect(unjoin.code, unjoin.stderr).toBe(0);
    expect(unjoin.stdout).toContain(`Namespace/${SPOKE_AGENT_NAMESPACE}`);
    await eventually('the agent namespace to go', async () => {
      const ns = await spokeKc
        .makeApiClient(CoreV1Api)
        .readNamespace({ name: SPOKE_AGENT_NAMESPACE })
        .catch(() => undefined);
      return ns === undefined ? true : undefined;
    });
  });
});
