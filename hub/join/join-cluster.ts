/**
 * `spokelink join` / `unjoin` on a spoke: verify the hub with the bootstrap token before
 * touching anything, apply the agent's objects (server-side apply, so a second join updates
 * in place), install the spoke CRDs (ClusterClaim, AppliedManifestWork), and, for
 * `--run-local`, prepare what a local agent process needs: a token of the agent's
 * ServiceAccount and a kubeconfig for the spoke with it.
 */
import { request } from 'node:https';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  CoreV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';

import { publicKeyHashSha256, renderKubeconfig, splitPemBundle } from '../../certs/index.ts';
import {
  type DiscoveryInfo,
  REGISTRATION_PATH,
  SPOKE_AGENT_NAMESPACE,
  SPOKE_AGENT_SERVICE_ACCOUNT,
  parseBootstrapToken,
  verifyDiscovery,
} from '../../protocol/index.ts';
import { spokeCrds } from '../api/index.ts';
import { apiStatus, installCrds } from '../kube/index.ts';
import { type JoinSpec, spokeObjectRefs, spokeObjects } from './spoke-objects.ts';

/** A join that cannot go ahead; the message says why and what to do. */
export class JoinError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JoinError';
  }
}

const FIELD_MANAGER = 'spokelink-join';

/**
 * Asks the hub's discovery endpoint with the token and checks the answer: signed with the
 * token's secret, and with `caHash` the CA's key hash matches. Resolves with the discovery.
 */
export async function verifyHub(
  hub: string,
  token: string,
  caHash?: string,
): Promise<DiscoveryInfo> {
  const parsed = parseBootstrapToken(token);
  if (parsed === undefined) {
    throw new JoinError('--token is malformed (expected <6 chars>.<16 chars> of [a-z0-9])');
  }
  const url = new URL(`${REGISTRATION_PATH}/discovery?tokenID=${parsed.id}`, hub);
  const { status, body } = await new Promise<{ status: number; body: string }>(
    (resolve, reject) => {
      const req = request(url, { rejectUnauthorized: false, timeout: 15_000, agent: false });
      req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
      req.on('error', (err) =>
        reject(
          new JoinError(`cannot reach the hub at ${url.origin}: ${err.message}`, { cause: err }),
        ),
      );
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < 256 * 1024) text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      });
      req.end();
    },
  );
  let answer: { payload?: unknown; signature?: unknown; code?: unknown; message?: unknown };
  try {
    answer = JSON.parse(body) as typeof answer;
  } catch {
    throw new JoinError(`${url.origin} is not a spokelink registration endpoint (HTTP ${status})`);
  }
  if (status !== 200) {
    throw new JoinError(
      `the hub refused the token: ${String(answer.code)}: ${String(answer.message)}`,
    );
  }
  if (
    typeof answer.payload !== 'string' ||
    typeof answer.signature !== 'string' ||
    !verifyDiscovery(answer.payload, answer.signature, parsed.secret)
  ) {
    throw new JoinError(
      `${url.origin} could not prove it knows this token: not the hub that issued it`,
    );
  }
  const info = JSON.parse(answer.payload) as DiscoveryInfo;
  if (caHash !== undefined) {
    const hashes = splitPemBundle(info.caBundle).map((pem) => publicKeyHashSha256(pem));
    if (!hashes.includes(caHash.toLowerCase())) {
      throw new JoinError(
        `the hub CA's public key hash is ${hashes.join(', ')}, not --ca-hash ${caHash}: refusing to join`,
      );
    }
  }
  return info;
}

/** Applies the agent's objects and the spoke CRDs to the spoke of `spoke`. */
export async function applyJoin(spoke: KubeConfig, spec: JoinSpec): Promise<void> {
  await installCrds(spoke, spokeCrds());
  const api = KubernetesObjectApi.makeApiClient(spoke);
  for (const object of spokeObjects(spec)) {
    await api.patch(
      object,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  }
}

/** Removes what {@link applyJoin} applied (the CRDs stay: they may hold users' ClusterClaims). */
export async function applyUnjoin(spoke: KubeConfig): Promise<string[]> {
  const api = KubernetesObjectApi.makeApiClient(spoke);
  const removed: string[] = [];
  for (const ref of spokeObjectRefs()) {
    try {
      await api.delete(ref);
      removed.push(`${ref.kind}/${ref.metadata?.name ?? ''}`);
    } catch (err: unknown) {
      if (apiStatus(err) !== 404) throw err;
    }
  }
  return removed;
}

/**
 * For `--run-local`: a token of the agent's ServiceAccount (valid `seconds`) and a kubeconfig
 * for the spoke that uses it, written into `dir`. Returns both paths.
 */
export async function prepareLocalAgent(
  spoke: KubeConfig,
  dir: string,
  seconds = 365 * 24 * 3600,
): Promise<{ kubeconfig: string; tokenFile: string }> {
  const core = spoke.makeApiClient(CoreV1Api);
  const answer = await core.createNamespacedServiceAccountToken({
    name: SPOKE_AGENT_SERVICE_ACCOUNT,
    namespace: SPOKE_AGENT_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: seconds } },
  });
  const token = answer.status?.token;
  if (token === undefined || token === '') {
    throw new JoinError(`the spoke returned no token for ${SPOKE_AGENT_SERVICE_ACCOUNT}`);
  }
  const cluster = spoke.getCurrentCluster();
  if (cluster === null) throw new JoinError('the spoke kubeconfig has no current cluster');
  const caPem =
    cluster.caData === undefined
      ? undefined
      : Buffer.from(cluster.caData, 'base64').toString('utf8');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokenFile = join(dir, 'agent.token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const kubeconfig = renderKubeconfig({
    clusterName: 'spoke',
    contextName: 'spoke',
    server: cluster.server,
    ...(caPem === undefined ? {} : { caPem }),
    userName: SPOKE_AGENT_SERVICE_ACCOUNT,
    token,
  });
  const path = join(dir, 'spoke.kubeconfig');
  writeFileSync(path, kubeconfig, { mode: 0o600 });
  return { kubeconfig: path, tokenFile };
}
