/**
 * Where a Git subscription's resources are, inside a checked-out repository: the `git-path`
 * annotation resolved and confined to the repository (no `..`, no absolute path, no symlink
 * leading out), then the walk that sorts what is below it into plain YAML files, kustomize
 * directories and Helm chart directories, as OCM's Git subscriber does. Synchronous file-system
 * reads only; no state.
 */
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

import { SubscriptionError } from './errors.ts';

/** At most this many files are read below git-path, so a huge repository fails clearly. */
export const MAX_SOURCE_FILES = 2_000;
/** A YAML file larger than this is refused (bytes). */
export const MAX_SOURCE_FILE_BYTES = 1024 * 1024;

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
/** Hook folders OCM runs as Ansible jobs; never applied as resources. */
const HOOK_DIRS = new Set(['prehook', 'posthook']);

/** What the walk found, each path absolute and inside the repository. */
export interface SourceLayout {
  /** Plain `*.yaml` / `*.yml` files, sorted. */
  readonly files: readonly string[];
  /** Directories holding a kustomization file (their subtree is not walked as plain YAML). */
  readonly kustomizations: readonly string[];
  /** Directories holding a `Chart.yaml` (a Helm chart; not walked further). */
  readonly charts: readonly string[];
}

/** Whether `child` is `root` or below it (both real, absolute paths). */
function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves the `git-path` annotation against the repository `root`. Refuses (code
 * `HUB_ERR_SUB_PATH_REFUSED`) an absolute path, any `..` segment, and a path whose real location
 * (symlinks followed) is outside the repository; a missing path or one that is not a directory
 * is `HUB_ERR_SUB_PATH_NOT_FOUND`. An empty path is the repository's root.
 */
export function resolveGitPath(root: string, gitPath: string): string {
  const trimmed = gitPath.trim().replace(/^\.\/+/, '');
  if (isAbsolute(trimmed) || trimmed.startsWith('\\')) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_PATH_REFUSED',
      `git-path "${gitPath}" is absolute; it must be relative to the repository`,
    );
  }
  const segments = trimmed.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_PATH_REFUSED',
      `git-path "${gitPath}" contains "..": it must stay inside the repository`,
    );
  }
  const realRoot = realpathSync(root);
  const candidate = join(realRoot, ...segments);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch (err: unknown) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_PATH_NOT_FOUND',
      `git-path "${gitPath}" does not exist in the repository`,
      { cause: err },
    );
  }
  if (!isInside(realRoot, real)) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_PATH_REFUSED',
      `git-path "${gitPath}" leads outside the repository through a symbolic link`,
    );
  }
  if (!statSync(real).isDirectory()) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_PATH_NOT_FOUND',
      `git-path "${gitPath}" is not a directory`,
    );
  }
  return real;
}

/**
 * Walks `start` (a directory inside `root`): a directory with a kustomization file is a
 * kustomize root, one with `Chart.yaml` a chart, `prehook/` and `posthook/` and dot-entries are
 * skipped, other `*.yaml`/`*.yml` files are plain resources. A symbolic link is followed only
 * when its target is inside the repository, else the walk refuses the source
 * (`HUB_ERR_SUB_PATH_REFUSED`); more than {@link MAX_SOURCE_FILES} files or one larger than
 * {@link MAX_SOURCE_FILE_BYTES} is `HUB_ERR_SUB_TOO_LARGE`.
 */
export function walkSource(root: string, start: string): SourceLayout {
  const realRoot = realpathSync(root);
  const files: string[] = [];
  const kustomizations: string[] = [];
  const charts: string[] = [];
  let seen = 0;

  const visit = (dir: string, shown: string): void => {
    const names = readdirSync(dir).sort();
    if (names.some((n) => KUSTOMIZATION_FILES.includes(n))) {
      kustomizations.push(dir);
      return;
    }
    if (names.includes('Chart.yaml')) {
      charts.push(dir);
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const where = shown === '' ? name : `${shown}/${name}`;
      let target = path;
      if (lstatSync(path).isSymbolicLink()) {
        try {
          target = realpathSync(path);
        } catch {
          continue; // a dangling link names nothing to apply
        }
        if (!isInside(realRoot, target)) {
          throw new SubscriptionError(
            'HUB_ERR_SUB_PATH_REFUSED',
            `"${where}" is a symbolic link that leads outside the repository`,
          );
        }
      }
      const stat = statSync(target);
      if (stat.isDirectory()) {
        if (!HOOK_DIRS.has(name)) visit(target, where);
        continue;
      }
      if (!stat.isFile() || !/\.ya?ml$/.test(name)) continue;
      if (++seen > MAX_SOURCE_FILES) {
        throw new SubscriptionError(
          'HUB_ERR_SUB_TOO_LARGE',
          `more than ${MAX_SOURCE_FILES} YAML files below git-path`,
        );
      }
      if (stat.size > MAX_SOURCE_FILE_BYTES) {
        throw new SubscriptionError(
          'HUB_ERR_SUB_TOO_LARGE',
          `"${where}" is ${stat.size} bytes, more than the ${MAX_SOURCE_FILE_BYTES}-byte limit`,
        );
      }
      files.push(target);
    }
  };
  visit(start, '');
  return { files, kustomizations, charts };
}
