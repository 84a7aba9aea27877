import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { SubscriptionError } from './errors.ts';
import { checkRepositoryUrl, fetchTarget, GitSource } from './git-source.ts';

describe('checkRepositoryUrl', () => {
  it.each([
    {
      url: 'https://git.example.com/org/repo.git',
      local: false,
      expected: 'https://git.example.com/org/repo.git',
    },
    { url: ' http://127.0.0.1:8080/r.git ', local: false, expected: 'http://127.0.0.1:8080/r.git' },
    { url: 'file:///srv/repo', local: true, expected: 'file:///srv/repo' },
    { url: '/srv/repo', local: true, expected: '/srv/repo' },
  ])('accepts $url (local repositories allowed: $local)', ({ url, local, expected }) => {
    expect(checkRepositoryUrl(url, local)).toBe(expected);
  });

  it.each([
    {
      url: 'file:///etc',
      message:
        'channel pathname "file:///etc" is a local repository; only http(s) URLs are accepted (local repositories need the hub\'s developer option)',
    },
    {
      url: '/etc',
      message:
        'channel pathname "/etc" is a local repository; only http(s) URLs are accepted (local repositories need the hub\'s developer option)',
    },
    {
      url: 'ssh://git@example.com/r.git',
      message:
        'channel pathname "ssh://git@example.com/r.git" uses ssh; Git channels are read over http(s) only',
    },
    {
      url: 'ext::sh -c id',
      message: 'channel pathname "ext::sh -c id" uses ext; Git channels are read over http(s) only',
    },
    {
      url: 'git@example.com:org/r.git',
      message: 'channel pathname "git@example.com:org/r.git" is not a URL',
    },
    {
      url: 'https://user:token@example.com/r.git',
      message:
        'channel pathname of host example.com carries credentials; they are not accepted in URLs',
    },
  ])('refuses $url', ({ url, message }) => {
    expect(() => checkRepositoryUrl(url, false)).toThrow(
      new SubscriptionError('HUB_ERR_SUB_CHANNEL_INVALID', message),
    );
  });
});

describe('fetchTarget', () => {
  it.each([
    { ref: {}, expected: { refspec: 'HEAD', depth: 1 } },
    { ref: { branch: 'main' }, expected: { refspec: 'refs/heads/main', depth: 1 } },
    {
      ref: { branch: 'refs/heads/release/1.x' },
      expected: { refspec: 'refs/heads/release/1.x', depth: 1 },
    },
    {
      ref: { tag: 'v1.2.0', branch: 'main' },
      expected: { refspec: 'refs/tags/v1.2.0', depth: 20 },
    },
    { ref: { commit: 'abc1234', tag: 'v1' }, expected: { refspec: 'abc1234', depth: 20 } },
    { ref: { commit: 'abc1234', depth: 50 }, expected: { refspec: 'abc1234', depth: 50 } },
  ])('$ref → $expected', ({ ref, expected }) => {
    expect(fetchTarget(ref)).toEqual(expected);
  });

  it.each([
    {
      ref: { branch: '--upload-pack=evil' },
      message: 'git-branch "--upload-pack=evil" is not a valid Git name',
    },
    { ref: { branch: 'a..b' }, message: 'git-branch "a..b" is not a valid Git name' },
    { ref: { tag: 'v1 2' }, message: 'git-tag "v1 2" is not a valid Git name' },
    { ref: { commit: 'HEAD~1' }, message: 'git-desired-commit "HEAD~1" is not a valid Git name' },
  ])('refuses $ref', ({ ref, message }) => {
    expect(() => fetchTarget(ref)).toThrow(message);
  });
});

describe('GitSource with the real git (local repository, developer option)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'sub-git-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const origin = join(scratch, 'origin');
  const git = (...args: string[]) => {
    const res = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd: origin,
      encoding: 'utf8',
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: scratch },
    });
    if (res.status !== 0) throw new Error(res.stderr);
    return res.stdout.trim();
  };
  mkdirSync(origin);
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(origin, 'a.yaml'), 'one\n');
  git('add', '.');
  git('commit', '--quiet', '-m', 'one');
  const first = git('rev-parse', 'HEAD');
  git('tag', 'v1');
  writeFileSync(join(origin, 'a.yaml'), 'two\n');
  git('commit', '--quiet', '-am', 'two');
  const second = git('rev-parse', 'HEAD');
  const source = new GitSource({ cacheDir: join(scratch, 'cache'), allowLocalRepositories: true });
  afterAll(() => source.close());

  it.each([
    { name: 'the default branch', ref: {}, commit: () => second, text: 'two\n' },
    { name: 'a branch', ref: { branch: 'main' }, commit: () => second, text: 'two\n' },
    { name: 'a tag', ref: { tag: 'v1' }, commit: () => first, text: 'one\n' },
    { name: 'a desired commit', ref: { commit: first }, commit: () => first, text: 'one\n' },
  ])('checks out $name', async ({ ref, commit, text }) => {
    const checkout = await source.checkout(`file://${origin}`, ref);
    expect(checkout.commit).toBe(commit());
    expect(readFileSync(join(checkout.dir, 'a.yaml'), 'utf8')).toBe(text);
    checkout.dispose();
    expect(existsSync(checkout.dir)).toBe(false);
  });

  it('says which branch could not be fetched', async () => {
    const err = await source
      .checkout(`file://${origin}`, { branch: 'nope' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubscriptionError);
    expect((err as SubscriptionError).code).toBe('HUB_ERR_SUB_SOURCE_UNREACHABLE');
    expect((err as SubscriptionError).message).toMatch(
      new RegExp(`^could not fetch branch nope of file://${origin}: `),
    );
  });

  it('refuses local repositories without the developer option', async () => {
    const strict = new GitSource({ cacheDir: join(scratch, 'strict') });
    const err = await strict.checkout(origin, {}).catch((e: unknown) => e);
    strict.close();
    expect((err as SubscriptionError).code).toBe('HUB_ERR_SUB_CHANNEL_INVALID');
  });
});
