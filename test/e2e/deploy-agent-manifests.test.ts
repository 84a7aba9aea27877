// The agent's manifests are what `spokelink join` applies, generated from the same code:
// `join --output yaml` (which checks the token with a real hub first, applies nothing, and
// registers nothing) and the checked-in example deploy/agent/spokelink-agent.example.yaml
// (which must equal a fresh render) both apply to a real spoke (server-side dry run).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CoreV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { startHub, type Hub } from '../../hub/hub-process/start-hub.ts';
import {
  EXAMPLE_AGENT_MANIFESTS_PATH,
  exampleAgentManifests,
} from '../../hub/join/write-agent-manifests.ts';
import { apiStatus } from '../../hub/kube/index.ts';
import { BootstrapTokens } from '../../hub/registration/bootstrap-tokens.ts';
import { kubectl } from '../framework/kubectl.ts';
import { initHub, loadKubeConfig, spokelink } from './deploy-kit.ts';

const hubPlane = inject('hub');
const spokePlane = inject('spoke1');
const SPOKE_AGENT_NAMESPACE = 'open-cluster-management-agent';

const spokeApply = (args: string[], input?: string) =>
  kubectl(spokePlane.binaries.kubectl, ['apply', '--dry-run=server', ...args], {
    kubeconfig: spokePlane.kubeconfigPath,
    ...(input === undefined ? {} : { input }),
  });

describe('deploy/agent', () => {
  const adminKc = loadKubeConfig(hubPlane.kubeconfigPath);
  const spokeCore = loadKubeConfig(spokePlane.kubeconfigPath).makeApiClient(CoreV1Api);
  let scratch = '';
  let env: NodeJS.ProcessEnv;
  let caHash = '';
  let hub: Hub | undefined;
  let hasCreatedAgentNamespace = false;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'spokelink-deploy-agent-'));
    env = { ...process.env, SPOKELINK_HOME: scratch, KUBECONFIG: '' };
    ({ caHash } = await initHub(hubPlane.kubeconfigPath, env));
    // The registration API is all `join --output yaml` talks to.
    hub = await startHub({
      hub: adminKc,
      components: { proxyServer: true, controllers: false },
      listen: {
        agentGrpc: 0,
        agentWebSocket: 0,
        frontendGrpc: 0,
        registration: 0,
        gateway: 0,
        health: 0,
      },
    });
    // A server-side dry run cannot put objects into a namespace that does not exist yet; a
    // real `kubectl apply -f` creates it first (it is the first object).
    try {
      await spokeCore.createNamespace({ body: { metadata: { name: SPOKE_AGENT_NAMESPACE } } });
      hasCreatedAgentNamespace = true;
    } catch (err: unknown) {
      if (apiStatus(err) !== 409) throw err;
    }
  }, 180_000);

  afterAll(async () => {
    await hub?.close();
    if (hasCreatedAgentNamespace) {
      await spokeCore.deleteNamespace({ name: SPOKE_AGENT_NAMESPACE }).catch(() => undefined);
    }
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  it('holds what `spokelink join` applies today', () => {
    expect(readFileSync(EXAMPLE_AGENT_MANIFESTS_PATH, 'utf8')).toBe(exampleAgentManifests());
  });

  it('join --output yaml verifies the hub, applies nothing, and prints what applies to a spoke', async () => {
    const running = hub as Hub;
    const { token: printToken } = await new BootstrapTokens(adminKc).create({ ttlSeconds: 600 });
    const join = await spokelink(
      [
        'join',
        '--hub',
        running.endpoints.registration ?? '',
        '--token',
        printToken,
        '--ca-hash',
        caHash,
        '--cluster-name',
        'deploy-c2',
        '--output',
        'yaml',
      ],
      env,
    );
    expect(join.code, join.stderr).toBe(0);
    expect(join.stderr).toContain('verifying the hub at');
    const kinds = parseAllDocuments(join.stdout).map((d) => {
      const object = d.toJS() as KubernetesObject;
      return `${object.kind}/${object.metadata?.name}`;
    });
    expect(kinds).toEqual([
      'CustomResourceDefinition/clusterclaims.cluster.open-cluster-management.io',
      'CustomResourceDefinition/appliedmanifestworks.work.open-cluster-management.io',
      'Namespace/open-cluster-management-agent',
      'ServiceAccount/spokelink-agent',
      'ClusterRole/spokelink-agent-impersonator',
      'ClusterRoleBinding/spokelink-agent-impersonator',
      'Role/spokelink-agent-secrets',
      'RoleBinding/spokelink-agent-secrets',
      'ClusterRoleBinding/spokelink-hub-controllers',
      'Secret/spokelink-bootstrap',
      'Deployment/spokelink-agent',
    ]);
    expect(join.stdout).toContain(`token: ${printToken}`);
    const applied = await spokeApply(['-f', '-'], join.stdout);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('deployment.apps/spokelink-agent created (server dry run)');
    // Nothing was applied to the spoke, and nothing registered on the hub.
    const bootstrap = await spokeCore
      .readNamespacedSecret({ name: 'spokelink-bootstrap', namespace: SPOKE_AGENT_NAMESPACE })
      .catch((err: unknown) => apiStatus(err));
    expect(bootstrap).toBe(404);
    const used = (await new BootstrapTokens(adminKc).list()).find((t) =>
      printToken.startsWith(`${t.id}.`),
    );
    expect(used?.boundTo).toBeUndefined();
  });

  it('the example applies to a spoke as it is', async () => {
    const applied = await spokeApply(['-f', EXAMPLE_AGENT_MANIFESTS_PATH]);
    expect(applied.code, applied.stderr).toBe(0);
  });

  it('prints without a hub only when told to, and refuses flags that do not fit', async () => {
    const offline = [
      'join',
      '--hub',
      'https://127.0.0.1:1',
      '--token',
      'abcdef.0123456789abcdef',
      '--cluster-name',
      'deploy-c3',
    ];
    const refused = await spokelink([...offline, '--output', 'yaml'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: cannot reach the hub at https://127.0.0.1:1');
    const printed = await spokelink(
      [...offline, '--output', 'yaml', '--skip-hub-verification'],
      env,
    );
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('cluster-name: deploy-c3');
    const json = await spokelink([...offline, '--output', 'json'], env);
    expect(json.stderr).toContain('error: --output json is not supported: use --output yaml');
    const local = await spokelink([...offline, '--output', 'yaml', '--run-local'], env);
    expect(local.stderr).toContain('error: --output yaml prints the objects and runs nothing');
    const skip = await spokelink([...offline, '--skip-hub-verification'], env);
    expect(skip.stderr).toContain('error: --skip-hub-verification goes with --output yaml only');
    const malformed = await spokelink(
      [
        ...offline.slice(0, 4),
        'nope',
        ...offline.slice(5),
        '--output',
        'yaml',
        '--skip-hub-verification',
      ],
      env,
    );
    expect(malformed.stderr).toContain('error: --token is malformed');
  });
});
