// The credential plumbing of Git and HelmRepo channels: the environment alone carries the
// secrets (never argv, never the URL), and the real git CLI and undici really send them — to a
// loopback HTTPS server whose certificate only the channel's CA bundle makes trusted.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createCa, generateKeyPair, issueCert } from '../../../certs/index.ts';
import type { ChannelAccess } from './channel-access.ts';
import { SubscriptionError } from './errors.ts';
import {
  GIT_CREDENTIAL_HELPER,
  GIT_PASSWORD_ENV,
  GIT_USERNAME_ENV,
  gitAccessEnv,
} from './git-credentials.ts';
import { GitSource } from './git-source.ts';
import { authorizationFor, fetchBytes } from './helm-source.ts';

const USER = 'deployer';
const TOKEN = 'tok-3f9a-not-in-argv';
const keyPair = generateKeyPair();
const ca = createCa({ commonName: 'channel-test-ca', keyPair });
const serving = issueCert(ca, {
  commonName: 'git.test',
  ipAddresses: ['127.0.0.1'],
  usage: 'server',
  keyPair,
});
const scratch = mkdtempSync(join(tmpdir(), 'spokelink-git-credentials-'));
/** Authorization headers the server saw, in order (undefined: none). */
const seen: (string | undefined)[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== basic) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    // Not a Git server: accepting the credentials is all this test needs to see.
    res.writeHead(200, { 'content-type': 'text/plain' }).end('index');
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(scratch, { recursive: true, force: true });
});

const basic = `Basic ${Buffer.from(`${USER}:${TOKEN}`).toString('base64')}`;
const withoutCa: ChannelAccess = {
  insecureSkipVerify: false,
  basicAuth: { user: USER, password: TOKEN },
  credentialsFrom: 'Secret ch/git-creds',
};
const withCredentials: ChannelAccess = { ...withoutCa, caPem: ca.certPem };

describe('gitAccessEnv', () => {
  it('puts the credentials in the environment and scopes the helper to the origin', () => {
    expect(
      gitAccessEnv('https://git.example.com:8443/org/r.git', withCredentials, '/x/ca.pem'),
    ).toEqual({
      [GIT_USERNAME_ENV]: USER,
      [GIT_PASSWORD_ENV]: TOKEN,
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'credential.https://git.example.com:8443.helper',
      GIT_CONFIG_VALUE_0: GIT_CREDENTIAL_HELPER,
      GIT_CONFIG_KEY_1: 'http.sslCAInfo',
      GIT_CONFIG_VALUE_1: '/x/ca.pem',
    });
    expect(GIT_CREDENTIAL_HELPER).not.toContain(TOKEN);
  });

  it('is empty for an anonymous channel without a CA bundle', () => {
    expect(gitAccessEnv('https://git.example.com/r.git', { insecureSkipVerify: true })).toEqual({});
  });
});

describe('GitSource with channel credentials (real git, loopback HTTPS)', () => {
  // A git that records its arguments, then runs the real one.
  const realGit = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
  const argvLog = join(scratch, 'argv.log');
  const wrapper = join(scratch, 'git-wrapper');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nprintf '%s\\n' "$@" >> '${argvLog}'\nexec '${realGit}' "$@"\n`,
  );
  chmodSync(wrapper, 0o755);

  it("answers the 401 with the Secret's user and token, trusting the CA bundle; argv never holds them", async () => {
    const source = new GitSource({ cacheDir: join(scratch, 'cache-1'), git: wrapper });
    const from = seen.length;
    const err = await source
      .checkout(`${base}/repo.git`, {}, withCredentials)
      .catch((e: unknown) => e);
    source.close();
    // git asked anonymously, was challenged, and came back with basic auth.
    expect(seen.slice(from, from + 2)).toEqual([undefined, basic]);
    // The server is no Git server, so the fetch fails; the message names the Secret, not the token.
    expect(err).toBeInstanceOf(SubscriptionError);
    expect((err as SubscriptionError).code).toBe('HUB_ERR_SUB_SOURCE_UNREACHABLE');
    expect((err as SubscriptionError).message).toContain(
      `could not fetch the default branch of ${base}/repo.git with the credentials of Secret ch/git-creds: `,
    );
    expect((err as SubscriptionError).message).not.toContain(TOKEN);
    const argv = readFileSync(argvLog, 'utf8');
    expect(argv).toContain('fetch');
    expect(argv).not.toContain(TOKEN);
    expect(argv).not.toContain(USER);
  });

  it('does not reach the server without the CA bundle', async () => {
    const source = new GitSource({ cacheDir: join(scratch, 'cache-2') });
    const from = seen.length;
    const err = await source.checkout(`${base}/repo.git`, {}, withoutCa).catch((e: unknown) => e);
    source.close();
    expect(seen.length).toBe(from);
    expect((err as SubscriptionError).code).toBe('HUB_ERR_SUB_SOURCE_UNREACHABLE');
    expect((err as SubscriptionError).message).toMatch(/certificate/i);
  });
});

describe('HelmRepo fetches with channel credentials (undici, loopback HTTPS)', () => {
  it('sends basic auth to the repository origin only', () => {
    const repo = new URL('https://charts.example.com/stable/');
    expect(authorizationFor(withCredentials, repo, new URL('index.yaml', repo))).toBe(basic);
    expect(authorizationFor(withCredentials, repo, new URL('https://cdn.example.com/a.tgz'))).toBe(
      undefined,
    );
    expect(
      authorizationFor({ insecureSkipVerify: false, authHeader: 'Bearer t' }, repo, repo),
    ).toBe('Bearer t');
    expect(authorizationFor({ insecureSkipVerify: false }, repo, repo)).toBe(undefined);
  });

  it('reads through the CA bundle with the header', async () => {
    const from = seen.length;
    const body = await fetchBytes(new URL(`${base}/index.yaml`), 1024, withCredentials, basic);
    expect(body.toString()).toBe('index');
    expect(seen.slice(from)).toEqual([basic]);
  });

  it('names the Secret when the credentials are refused, and fails without the CA bundle', async () => {
    const url = new URL(`${base}/index.yaml`);
    await expect(fetchBytes(url, 1024, withCredentials)).rejects.toThrow(
      new SubscriptionError('HUB_ERR_SUB_SOURCE_UNREACHABLE', `GET ${url.href}: answered HTTP 401`),
    );
    const wrong = `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}`;
    await expect(fetchBytes(url, 1024, withCredentials, wrong)).rejects.toThrow(
      new SubscriptionError(
        'HUB_ERR_SUB_SOURCE_UNREACHABLE',
        `GET ${url.href} (with the credentials of Secret ch/git-creds): answered HTTP 401`,
      ),
    );
    const err = await fetchBytes(url, 1024, withoutCa, basic).catch((e: unknown) => e);
    expect((err as SubscriptionError).code).toBe('HUB_ERR_SUB_SOURCE_UNREACHABLE');
    expect((err as SubscriptionError).message).toContain(
      `GET ${url.href} (with the credentials of Secret ch/git-creds): `,
    );
  });
});
