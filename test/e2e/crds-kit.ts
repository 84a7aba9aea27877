// Helpers for the CRD e2e tests (crds*.test.ts): kubectl verbs against a shared plane, the
// OCM fixtures in test/fixtures/ocm/, and installing our CRDs for the duration of a file.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, expect, onTestFinished } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';

import {
  allCrds,
  crdName,
  crdsYaml,
  spokeCrds,
  type Condition,
  type CrdDefinition,
} from '../../hub/api/index.ts';
import { kubectl } from '../framework/kubectl.ts';
import type { SharedControlPlane } from '../framework/shared-control-plane.ts';

export type Kube = ReturnType<typeof kube>;

/** kubectl against one plane, with the few verbs the CRD tests repeat. */
export function kube(plane: SharedControlPlane) {
  const run = (args: string[], input?: string) =>
    kubectl(plane.binaries.kubectl, args, {
      kubeconfig: plane.kubeconfigPath,
      ...(input === undefined ? {} : { input }),
    });
  /** Runs kubectl, expects success, resolves to stdout. */
  const ok = async (args: string[], input?: string) => {
    const res = await run(args, input);
    expect(res.code, `kubectl ${args.join(' ')}: ${res.stderr}`).toBe(0);
    return res.stdout;
  };
  const inNamespace = (namespace?: string) => (namespace === undefined ? [] : ['-n', namespace]);
  return {
    run,
    ok,
    apply: (objects: unknown[], namespace?: string) =>
      ok(['apply', ...inNamespace(namespace), '-f', '-'], toYaml(objects)),
    /** Applies objects the server must refuse; resolves to kubectl's error output. */
    refused: async (objects: unknown[], namespace?: string) => {
      const res = await run(['apply', ...inNamespace(namespace), '-f', '-'], toYaml(objects));
      expect(res.code, res.stdout).not.toBe(0);
      return res.stderr;
    },
    jsonpath: (target: string[], path: string) => ok(['get', ...target, '-o', `jsonpath=${path}`]),
    json: async <T>(target: string[]) =>
      JSON.parse(await ok(['get', ...target, '-o', 'json'])) as T,
    /** kubectl's table as rows of cells (columns are 2+ spaces apart; empty cells vanish). */
    table: async (target: string[]) =>
      (await ok(['get', ...target]))
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s{2,}/)),
    /** Writes status through the status subresource. */
    patchStatus: (target: string[], status: unknown) =>
      ok([
        'patch',
        ...target,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status }),
      ]),
    /** A namespace for the current test, deleted (with its objects) when the test ends. */
    namespace: async () => {
      const name = unique('crds');
      await ok(['create', 'namespace', name]);
      onTestFinished(async () => void (await run(['delete', 'namespace', name, '--wait=false'])));
      return name;
    },
    /** Deletes a cluster-scoped object when the current test ends. */
    cleanup: (resource: string, name: string) =>
      onTestFinished(
        async () => void (await run(['delete', resource, name, '--ignore-not-found'])),
      ),
  };
}

/** The documents of a fixture file, typed as the kinds the caller expects them to be. */
export function fixture<T extends unknown[]>(file: string): T {
  const text = readFileSync(new URL(`../fixtures/ocm/${file}`, import.meta.url), 'utf8');
  return parseAllDocuments(text).map((doc) => doc.toJS() as unknown) as T;
}

export function toYaml(objects: unknown[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

/** A copy of `object` with the field at a dotted path set (or deleted when undefined). */
export function withField(object: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(object);
  const keys = path.split('.');
  const last = keys.pop() as string;
  const parent = keys.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], copy);
  if (value === undefined) delete (parent as Record<string, unknown>)[last];
  else (parent as Record<string, unknown>)[last] = value;
  return copy;
}

/** A short random suffix: cluster-scoped names are shared by every test on the plane. */
export function unique(name: string): string {
  return `${name}-${randomBytes(3).toString('hex')}`;
}

export function condition(type: string, status: Condition['status'], reason: string): Condition {
  return {
    type,
    status,
    reason,
    message: `${type} is ${status}`,
    lastTransitionTime: '2026-01-02T03:04:05Z',
  };
}

/** Installs CRDs and waits until Established; resolves to the names this call created. */
async function installCrds(k: Kube, defs: readonly CrdDefinition[]): Promise<string[]> {
  const existing = await k.ok(['get', 'crd', '-o', 'name']);
  const names = defs.map(crdName);
  await k.ok(
    ['apply', '--server-side', '--force-conflicts', '--field-manager=spokelink', '-f', '-'],
    crdsYaml(defs),
  );
  await k.ok([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...names.map((n) => `crd/${n}`),
  ]);
  return names.filter((n) => !existing.includes(`/${n}\n`));
}

/**
 * Installs every CRD on the hub and the spoke CRDs on the spoke before the calling file's
 * tests, and after them deletes the CRDs it created (not those another file installed).
 * Deleting a CRD deletes its remaining objects; waiting lets a later file recreate it.
 */
export function useOcmCrds(hub: Kube, spoke: Kube): void {
  let created: [Kube, string[]][] = [];
  beforeAll(async () => {
    const [onHub, onSpoke] = await Promise.all([
      installCrds(hub, allCrds()),
      installCrds(spoke, spokeCrds()),
    ]);
    created = [
      [hub, onHub],
      [spoke, onSpoke],
    ];
  });
  afterAll(async () => {
    for (const [k, names] of created) {
      if (names.length > 0) await k.ok(['delete', 'crd', ...names, '--timeout=120s']);
    }
  });
}
