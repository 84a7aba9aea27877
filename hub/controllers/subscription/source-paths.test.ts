import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { SubscriptionError } from './errors.ts';
import { assertLocalKustomizations } from './kustomize-guard.ts';
import { resolveGitPath, walkSource } from './source-paths.ts';

// One checked-out "repository" for the whole file, with an outside folder to escape to.
const scratch = mkdtempSync(join(tmpdir(), 'sub-paths-'));
const repo = join(scratch, 'repo');
const outside = join(scratch, 'outside');
const write = (path: string, text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n') => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
};
write(join(outside, 'secret.yaml'));
write(join(repo, 'apps', 'a.yaml'));
write(join(repo, 'apps', 'b.yml'));
write(join(repo, 'apps', 'notes.txt'), 'not yaml');
write(join(repo, 'apps', '.hidden.yaml'));
write(join(repo, 'apps', 'prehook', 'job.yaml'));
write(join(repo, 'apps', 'nested', 'c.yaml'));
write(join(repo, 'apps', 'kust', 'kustomization.yaml'), 'resources:\n  - cm.yaml\n');
write(join(repo, 'apps', 'kust', 'cm.yaml'));
write(join(repo, 'apps', 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: c\nversion: 1.0.0\n');
write(join(repo, 'apps', 'chart', 'templates', 'cm.yaml'));
mkdirSync(join(repo, 'file'), { recursive: true });
writeFileSync(join(repo, 'file', 'plain'), '');
symlinkSync(outside, join(repo, 'escape'));
symlinkSync(join(repo, 'apps', 'nested'), join(repo, 'inside'));
mkdirSync(join(repo, 'linky'));
symlinkSync(join(outside, 'secret.yaml'), join(repo, 'linky', 'secret.yaml'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err: unknown) {
    return err instanceof SubscriptionError ? `${err.code}: ${err.message}` : String(err);
  }
  return 'no error';
};

describe('resolveGitPath', () => {
  it.each([
    { path: '', expected: repo },
    { path: './apps', expected: join(repo, 'apps') },
    { path: 'apps/nested/', expected: join(repo, 'apps', 'nested') },
    { path: 'inside', expected: join(repo, 'apps', 'nested') },
  ])('resolves "$path" inside the repository', ({ path, expected }) => {
    expect(resolveGitPath(repo, path)).toBe(expected);
  });

  it.each([
    {
      path: '../outside',
      error:
        'HUB_ERR_SUB_PATH_REFUSED: git-path "../outside" contains "..": it must stay inside the repository',
    },
    {
      path: 'apps/../../outside',
      error:
        'HUB_ERR_SUB_PATH_REFUSED: git-path "apps/../../outside" contains "..": it must stay inside the repository',
    },
    {
      path: '/etc',
      error:
        'HUB_ERR_SUB_PATH_REFUSED: git-path "/etc" is absolute; it must be relative to the repository',
    },
    {
      path: 'escape',
      error:
        'HUB_ERR_SUB_PATH_REFUSED: git-path "escape" leads outside the repository through a symbolic link',
    },
    {
      path: 'nope',
      error: 'HUB_ERR_SUB_PATH_NOT_FOUND: git-path "nope" does not exist in the repository',
    },
    {
      path: 'file/plain',
      error: 'HUB_ERR_SUB_PATH_NOT_FOUND: git-path "file/plain" is not a directory',
    },
  ])('refuses "$path"', ({ path, error }) => {
    expect(codeOf(() => resolveGitPath(repo, path))).toBe(error);
  });
});

describe('walkSource', () => {
  it('sorts plain YAML, kustomize roots and charts, skipping hooks, dot-files and other files', () => {
    const layout = walkSource(repo, join(repo, 'apps'));
    expect(layout).toEqual({
      files: [
        join(repo, 'apps', 'a.yaml'),
        join(repo, 'apps', 'b.yml'),
        join(repo, 'apps', 'nested', 'c.yaml'),
      ],
      kustomizations: [join(repo, 'apps', 'kust')],
      charts: [join(repo, 'apps', 'chart')],
    });
  });

  it('follows links inside the repository and refuses one that leads out', () => {
    expect(codeOf(() => walkSource(repo, join(repo, 'linky')))).toBe(
      'HUB_ERR_SUB_PATH_REFUSED: "secret.yaml" is a symbolic link that leads outside the repository',
    );
    expect(codeOf(() => walkSource(repo, repo))).toBe(
      'HUB_ERR_SUB_PATH_REFUSED: "escape" is a symbolic link that leads outside the repository',
    );
  });
});

describe('assertLocalKustomizations', () => {
  const cases = [
    {
      name: 'a remote base',
      refs: 'resources:\n  - github.com/org/repo//base?ref=v1\n',
      error:
        'names "github.com/org/repo//base?ref=v1", which is not in the repository (remote bases are not fetched)',
    },
    {
      name: 'an https base',
      refs: 'resources:\n  - https://example.com/base\n',
      error:
        'names "https://example.com/base", a remote location: only paths inside the repository are allowed',
    },
    {
      name: 'an absolute path',
      refs: 'resources:\n  - /etc/passwd\n',
      error: 'names the absolute path "/etc/passwd"',
    },
    {
      name: 'a path outside',
      refs: 'resources:\n  - ../../../outside\n',
      error: 'names "../../../outside", which is outside the repository',
    },
    {
      name: 'a generator file outside',
      refs: 'configMapGenerator:\n  - name: x\n    files:\n      - k=../../../outside/secret.yaml\n',
      error: 'names "../../../outside/secret.yaml", which is outside the repository',
    },
    {
      name: 'helmCharts',
      refs: 'helmCharts:\n  - name: x\n',
      error: 'uses helmCharts, which the hub does not inflate',
    },
  ];
  it.each(cases)('refuses $name', ({ refs, error }) => {
    const root = mkdtempSync(join(scratch, 'k-'));
    write(join(root, 'a', 'b', 'kustomization.yaml'), refs);
    expect(codeOf(() => assertLocalKustomizations(root))).toBe(
      `HUB_ERR_SUB_PATH_REFUSED: a/b/kustomization.yaml ${error}`,
    );
  });

  it('accepts bases, patches and generator files inside the repository', () => {
    const root = mkdtempSync(join(scratch, 'k-'));
    write(join(root, 'base', 'kustomization.yaml'), 'resources:\n  - cm.yaml\n');
    write(join(root, 'base', 'cm.yaml'));
    write(join(root, 'base', 'data.txt'), 'x');
    write(
      join(root, 'overlay', 'kustomization.yaml'),
      'resources:\n  - ../base\npatches:\n  - path: p.yaml\nconfigMapGenerator:\n  - name: g\n    files:\n      - d=../base/data.txt\n',
    );
    write(join(root, 'overlay', 'p.yaml'));
    expect(codeOf(() => assertLocalKustomizations(root))).toBe('no error');
  });
});
