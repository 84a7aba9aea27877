// Helpers of the deployment-manifest tests (deploy-*.test.ts): the CLI as a user runs it,
// `spokelink init`, the objects of deploy/hub/, what `kubectl auth can-i --list` grants an
// identity, and a request through the cluster gateway.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';

import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { kubectl } from '../framework/kubectl.ts';

const BIN = fileURLToPath(new URL('../../bin/spokelink.js', import.meta.url));
/** deploy/hub/, with a trailing slash. */
export const HUB_DEPLOY_DIR = fileURLToPath(new URL('../../deploy/hub/', import.meta.url));

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** Runs `spokelink <args>` in a child process; never throws on a non-zero exit. */
export function spokelink(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `spokelink init` on the hub of `kubeconfig` (at 127.0.0.1): the token and CA hash it prints. */
export async function initHub(
  kubeconfig: string,
  env: NodeJS.ProcessEnv,
): Promise<{ token: string; caHash: string }> {
  const init = await spokelink(
    ['init', '--kubeconfig', kubeconfig, '--advertise-address', '127.0.0.1'],
    env,
  );
  expect(init.code, init.stderr).toBe(0);
  const match = /--token ([a-z0-9]{6}\.[a-z0-9]{16}) --ca-hash (sha256:[0-9a-f]{64})/.exec(
    init.stdout,
  );
  expect(match, init.stdout).not.toBeNull();
  return { token: match?.[1] ?? '', caHash: match?.[2] ?? '' };
}

/** The parts of deploy/hub/'s Deployment, Service and ConfigMap the tests check. */
export interface HubContainer {
  args: string[];
  ports: { name: string; containerPort: number }[];
  volumeMounts: { name: string; mountPath: string }[];
}
export interface HubObject {
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    ports?: { name: string; port: number; targetPort: string }[];
    template?: {
      spec: {
        serviceAccountName: string;
        containers: HubContainer[];
        volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
      };
    };
  };
}

/** The first document of `deploy/hub/<name>`. */
export function hubObject(name: string): HubObject {
  const text = readFileSync(`${HUB_DEPLOY_DIR}${name}`, 'utf8');
  return parseAllDocuments(text)[0]?.toJS() as HubObject;
}

/** A real kubectl and the admin kubeconfig it runs with. */
export interface Kubectl {
  readonly binary: string;
  readonly kubeconfig: string;
}

/** `kubectl auth can-i --list` rows (`resource|urls|names|verbs`) of `user` in `namespace`. */
async function canIList(cli: Kubectl, user: string, namespace: string): Promise<Set<string>> {
  const run = await kubectl(
    cli.binary,
    ['auth', 'can-i', '--list', '--no-headers', `--as=${user}`, '-n', namespace],
    { kubeconfig: cli.kubeconfig },
  );
  expect(run.code, run.stderr).toBe(0);
  const rows = new Set<string>();
  for (const line of run.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const match = /^\s*(?:(\S+)\s+)?(\[[^\]]*\])\s+(\[[^\]]*\])\s+(\[[^\]]*\])\s*$/.exec(line);
    expect(match, `an unexpected can-i line: ${line}`).not.toBeNull();
    rows.add([match?.[1] ?? '', match?.[2], match?.[3], match?.[4]].join('|'));
  }
  return rows;
}

/**
 * What `user` may do in `namespace` (cluster-wide rules included) beyond what `baseline`, an
 * identity with no bindings of its own, may: rows `resource|urls|names|verbs`, sorted.
 */
export async function grantsOf(
  cli: Kubectl,
  user: string,
  baseline: string,
  namespace: string,
): Promise<string[]> {
  const [own, common] = await Promise.all([
    canIList(cli, user, namespace),
    canIList(cli, baseline, namespace),
  ]);
  return [...own].filter((row) => !common.has(row)).sort();
}

/** `kubectl auth can-i <args> --as=<user>`: yes or no. */
export async function canI(cli: Kubectl, user: string, ...args: string[]): Promise<boolean> {
  const run = await kubectl(cli.binary, ['auth', 'can-i', `--as=${user}`, ...args], {
    kubeconfig: cli.kubeconfig,
  });
  expect(run.stdout.trim(), run.stderr).toMatch(/^(yes|no)$/);
  return run.stdout.trim() === 'yes';
}

/** A GET through the cluster gateway with a bearer token: the status and the Status message. */
export function viaGateway(
  gateway: string,
  caPem: string,
  path: string,
  token: string,
): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, gateway), {
      ca: caPem,
      headers: { Authorization: `Bearer ${token}` },
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('error', reject);
      res.on('end', () => {
        let message = body;
        try {
          message = String((JSON.parse(body) as { message?: unknown }).message);
        } catch {
          // not a Status: keep the text
        }
        resolve({ status: res.statusCode ?? 0, message });
      });
    });
    req.end();
  });
}
