/**
 * Before `kubectl kustomize` runs on the hub over a repository we do not trust: every file or
 * directory a kustomization names must be a local path inside the repository. Kustomize itself
 * would load remote bases (`github.com/org/repo//dir?ref=…`, `https://…`), which would make the
 * hub fetch from arbitrary hosts, and directory bases anywhere on the hub's disk; and its Helm
 * inflator runs helm with its own repositories. So: no URLs, no absolute paths, nothing outside
 * the repository (symbolic links followed), no `helmCharts`. Every kustomization file of the
 * repository is checked, which covers the ones reached through bases. Pure reads; no state.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

import { parseAllDocuments } from 'yaml';

import { SubscriptionError } from './errors.ts';

const KUSTOMIZATION_FILES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);
/** Top-level fields that list paths (strings). */
const PATH_LISTS = [
  'resources',
  'bases',
  'components',
  'crds',
  'configurations',
  'generators',
  'transformers',
  'validators',
  'patchesStrategicMerge',
] as const;
/** Top-level fields that list objects with a `path`. */
const PATH_OBJECT_LISTS = ['patches', 'patchesJson6902', 'replacements'] as const;
/** Generators whose `files`/`envs`/`env` name local files (`key=path` allowed in files). */
const GENERATORS = ['configMapGenerator', 'secretGenerator'] as const;

function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

const refuse = (message: string) => new SubscriptionError('HUB_ERR_SUB_PATH_REFUSED', message);

/** Checks one reference `ref` made by the kustomization in `dir`; `shown` names the file. */
function checkRef(realRoot: string, dir: string, ref: string, shown: string): void {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('git@') || ref.startsWith('//')) {
    throw refuse(
      `${shown} names "${ref}", a remote location: only paths inside the repository are allowed`,
    );
  }
  if (isAbsolute(ref)) throw refuse(`${shown} names the absolute path "${ref}"`);
  const target = join(dir, ref);
  if (!existsSync(target)) {
    throw refuse(
      `${shown} names "${ref}", which is not in the repository (remote bases are not fetched)`,
    );
  }
  if (!isInside(realRoot, realpathSync(target))) {
    throw refuse(`${shown} names "${ref}", which is outside the repository`);
  }
}

/** The path references of one parsed kustomization. */
export function kustomizationRefs(doc: unknown): { refs: string[]; usesHelm: boolean } {
  const refs: string[] = [];
  if (typeof doc !== 'object' || doc === null) return { refs, usesHelm: false };
  const k = doc as Record<string, unknown>;
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  for (const field of PATH_LISTS) refs.push(...strings(k[field]));
  for (const field of PATH_OBJECT_LISTS) {
    for (const item of Array.isArray(k[field]) ? (k[field] as unknown[]) : []) {
      const path = (item as { path?: unknown } | null)?.path;
      if (typeof path === 'string') refs.push(path);
    }
  }
  for (const field of GENERATORS) {
    for (const item of Array.isArray(k[field]) ? (k[field] as unknown[]) : []) {
      const g = (item ?? {}) as Record<string, unknown>;
      for (const f of strings(g['files']))
        refs.push(f.includes('=') ? f.slice(f.indexOf('=') + 1) : f);
      refs.push(...strings(g['envs']));
      if (typeof g['env'] === 'string') refs.push(g['env']);
    }
  }
  const openapi = k['openapi'] as { path?: unknown } | undefined;
  if (typeof openapi?.path === 'string') refs.push(openapi.path);
  const usesHelm = k['helmCharts'] !== undefined || k['helmGlobals'] !== undefined;
  return { refs, usesHelm };
}

/**
 * Refuses (`HUB_ERR_SUB_PATH_REFUSED`) a repository whose kustomizations reach outside it, or
 * that has a symbolic link leading outside it. `root` is the checked-out repository.
 */
export function assertLocalKustomizations(root: string): void {
  const realRoot = realpathSync(root);
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const shown = relative(realRoot, path) || name;
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(path);
        } catch {
          continue;
        }
        if (!isInside(realRoot, target)) {
          throw refuse(`"${shown}" is a symbolic link that leads outside the repository`);
        }
        continue;
      }
      if (stat.isDirectory()) {
        visit(path);
        continue;
      }
      if (!KUSTOMIZATION_FILES.has(name)) continue;
      for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
        const { refs, usesHelm } = kustomizationRefs(doc.toJS());
        if (usesHelm) throw refuse(`${shown} uses helmCharts, which the hub does not inflate`);
        for (const ref of refs) checkRef(realRoot, dirname(path), ref, shown);
      }
    }
  };
  visit(realRoot);
}
