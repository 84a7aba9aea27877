// readSource on a local Git repository (the developer option), with tools that do not exist:
// the refusals below must come before kustomize or helm would run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { Channel, Subscription } from '../../api/index.ts';
import { SubscriptionError } from './errors.ts';
import { GitSource } from './git-source.ts';
import { NAMESPACE_CHANNEL_MESSAGE, readSource } from './resolve-source.ts';

const scratch = mkdtempSync(join(tmpdir(), 'sub-read-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** A committed local repository with `files` and symbolic links `links` (path → target). */
function repository(
  name: string,
  files: Record<string, string>,
  links: Record<string, string> = {},
) {
  const dir = join(scratch, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  for (const [path, target] of Object.entries(links)) symlinkSync(target, join(dir, path));
  for (const args of [
    ['init', '--quiet', '--initial-branch=main'],
    ['add', '.'],
    ['commit', '--quiet', '-m', 'x'],
  ]) {
    const res = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd: dir,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: scratch },
    });
    if (res.status !== 0) throw new Error(String(res.stderr));
  }
  return dir;
}
const origin = repository('origin', {
  'plain/cm.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {app: x}\n---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: b\n',
  'kust/kustomization.yaml': 'resources:\n  - https://example.com/remote.yaml\n',
});
const leaky = repository(
  'leaky',
  { 'chart/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 1.0.0\n' },
  { 'chart/leak.txt': '/etc/hostname' },
);
const git = new GitSource({ cacheDir: join(scratch, 'cache'), allowLocalRepositories: true });
afterAll(() => git.close());
const ctx = {
  git,
  tools: { kubectl: join(scratch, 'no-kubectl'), helm: join(scratch, 'no-helm') },
  refs: () => Promise.resolve(undefined), // channels without secretRef / configMapRef
};
const channel = (type: Channel['spec']['type'], pathname: string): Channel => ({
  apiVersion: 'apps.open-cluster-management.io/v1',
  kind: 'Channel',
  metadata: { name: 'ch', namespace: 'chns' },
  spec: { type, pathname },
});
const sub = (gitPath: string, spec: Partial<Subscription['spec']> = {}): Subscription => ({
  apiVersion: 'apps.open-cluster-management.io/v1',
  kind: 'Subscription',
  metadata: {
    name: 's',
    namespace: 'apps',
    uid: 'uid-1',
    annotations: { 'apps.open-cluster-management.io/git-path': gitPath },
  },
  spec: { channel: 'chns/ch', ...spec },
});

describe('readSource', () => {
  it('reads plain YAML at the commit, unfolding Lists and applying the filter', async () => {
    const all = await readSource(ctx, sub('plain'), channel('GitHub', origin));
    expect(all.objects.map((o) => o.metadata?.name)).toEqual(['a', 'b']);
    expect(all.revision).toMatch(/^commit [0-9a-f]{12}$/);
    const some = await readSource(
      ctx,
      sub('plain', { packageFilter: { labelSelector: { matchLabels: { app: 'x' } } } }),
      channel('git', origin),
    );
    expect(some.objects.map((o) => o.metadata?.name)).toEqual(['a']);
  });

  it.each([
    {
      repo: leaky,
      path: 'chart',
      message: '"chart/leak.txt" is a symbolic link that leads outside the repository',
    },
    {
      repo: origin,
      path: 'kust',
      message:
        'kust/kustomization.yaml names "https://example.com/remote.yaml", a remote location: only paths inside the repository are allowed',
    },
  ])('refuses $path before any tool runs', async ({ repo, path, message }) => {
    const err = await readSource(ctx, sub(path), channel('Git', repo)).catch((e: unknown) => e);
    expect(err).toEqual(new SubscriptionError('HUB_ERR_SUB_PATH_REFUSED', message));
  });

  it('propagates nothing from a Namespace channel, and says why', async () => {
    expect(await readSource(ctx, sub(''), channel('Namespace', 'chns'))).toEqual({
      objects: [],
      revision: 'nothing',
      note: { reason: 'NamespaceChannelNotPropagated', message: NAMESPACE_CHANNEL_MESSAGE },
    });
  });

  it('refuses ObjectBucket channels', async () => {
    const err = await readSource(ctx, sub(''), channel('ObjectBucket', 'https://s3/b')).catch(
      (e: unknown) => e,
    );
    expect(err).toEqual(
      new SubscriptionError(
        'HUB_ERR_SUB_CHANNEL_UNSUPPORTED',
        'ObjectBucket channels are not supported by this hub',
      ),
    );
  });
});
