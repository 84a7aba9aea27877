/**
 * Git channels, read on the hub with the `git` CLI over smart HTTP: one bare repository per
 * channel URL in a bounded cache folder, fetched shallow (`--depth`) at the branch (empty: the
 * remote's HEAD), tag or commit the Subscription asks for, then the commit's tree extracted with
 * `git archive` into a fresh folder for the caller to read. `file://` URLs and local paths are
 * refused unless the developer option `allowLocalRepositories` is set; URLs with credentials in
 * them are refused always (they would show in status messages). A channel's basic-auth
 * credentials and CA bundle reach git through its environment only (git-credentials.ts).
 *
 * Concurrency: fetches of one URL are serialised (one bare repository each); different URLs run
 * in parallel. `close()` waits for nothing and removes the cache folder (idempotent); checkouts
 * handed out before must not be used after it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

import type { ChannelAccess } from './channel-access.ts';
import { SubscriptionError } from './errors.ts';
import { caBundleFile, gitAccessEnv } from './git-credentials.ts';
import { lastLine, runTool, ToolFailure } from './run-tool.ts';

/** Bare repositories kept at most; the least recently used goes first. */
export const DEFAULT_MAX_CACHED_REPOS = 32;
/** A commit whose `git archive` is larger than this is refused (bytes). */
export const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024;
/** Depth fetched for a pinned commit or tag without `git-clone-depth`. */
export const PINNED_CLONE_DEPTH = 20;

/** What to check out. At most one of `commit` and `tag` is used (commit wins, as in OCM). */
export interface GitRef {
  readonly branch?: string;
  readonly tag?: string;
  readonly commit?: string;
  /** `git-clone-depth`; default 1, or {@link PINNED_CLONE_DEPTH} for a pinned commit or tag. */
  readonly depth?: number;
}

/** A commit's tree on disk. `dispose()` removes it (idempotent). */
export interface GitCheckout {
  readonly commit: string;
  readonly dir: string;
  dispose(): void;
}

/** Options of {@link GitSource}. */
export interface GitSourceOptions {
  /** Folder of the bare repositories and checkouts (created; removed by `close()`). */
  readonly cacheDir: string;
  readonly maxCachedRepos?: number;
  /** Developer option: accept `file://` URLs and absolute local paths. Default false. */
  readonly allowLocalRepositories?: boolean;
  /** The git binary; default `git` on PATH. */
  readonly git?: string;
  /** Deadline of one git run, ms. */
  readonly timeoutMs?: number;
}

const REF_NAME = /^(?!-)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._/+-]+(?<![./])$/;
const COMMIT = /^[0-9a-f]{7,64}$/;

/**
 * Checks a Git channel's `pathname` and returns what git is given. Refuses with
 * `HUB_ERR_SUB_CHANNEL_INVALID`: unparseable URLs, schemes other than http and https (ssh, git,
 * ext, …), credentials in the URL, and — unless `allowLocal` — `file://` URLs and local paths.
 */
export function checkRepositoryUrl(pathname: string, allowLocal: boolean): string {
  const text = pathname.trim();
  const local = () =>
    new SubscriptionError(
      'HUB_ERR_SUB_CHANNEL_INVALID',
      `channel pathname "${text}" is a local repository; only http(s) URLs are accepted (local repositories need the hub's developer option)`,
    );
  if (isAbsolute(text)) {
    if (!allowLocal) throw local();
    return text;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch (err: unknown) {
    throw new SubscriptionError(
      'HUB_ERR_SUB_CHANNEL_INVALID',
      `channel pathname "${text}" is not a URL`,
      { cause: err },
    );
  }
  if (url.protocol === 'file:') {
    if (!allowLocal) throw local();
    return url.href;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SubscriptionError(
      'HUB_ERR_SUB_CHANNEL_INVALID',
      `channel pathname "${text}" uses ${url.protocol.replace(/:$/, '')}; Git channels are read over http(s) only`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new SubscriptionError(
      'HUB_ERR_SUB_CHANNEL_INVALID',
      `channel pathname of host ${url.host} carries credentials; they are not accepted in URLs`,
    );
  }
  return url.href;
}

/** The refspec to fetch and the depth, after checking the names (`HUB_ERR_SUB_INVALID`). */
export function fetchTarget(ref: GitRef): { refspec: string; depth: number } {
  const invalid = (what: string, value: string) =>
    new SubscriptionError('HUB_ERR_SUB_INVALID', `${what} "${value}" is not a valid Git name`);
  const pinnedDepth = ref.depth !== undefined && ref.depth > 1 ? ref.depth : PINNED_CLONE_DEPTH;
  if (ref.commit !== undefined && ref.commit !== '') {
    if (!COMMIT.test(ref.commit)) throw invalid('git-desired-commit', ref.commit);
    return { refspec: ref.commit, depth: pinnedDepth };
  }
  if (ref.tag !== undefined && ref.tag !== '') {
    if (!REF_NAME.test(ref.tag)) throw invalid('git-tag', ref.tag);
    return { refspec: `refs/tags/${ref.tag}`, depth: pinnedDepth };
  }
  const depth = ref.depth !== undefined && ref.depth > 0 ? ref.depth : 1;
  const branch = (ref.branch ?? '').replace(/^refs\/heads\//, '');
  if (branch === '') return { refspec: 'HEAD', depth };
  if (!REF_NAME.test(branch)) throw invalid('git-branch', branch);
  return { refspec: `refs/heads/${branch}`, depth };
}

/** See the module comment. */
export class GitSource {
  readonly #options: GitSourceOptions;
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #lastUse = new Map<string, number>();
  #isClosed = false;

  constructor(options: GitSourceOptions) {
    this.#options = options;
  }

  /**
   * Fetches `ref` of `pathname` and extracts its tree. Rejects with a {@link SubscriptionError}:
   * `HUB_ERR_SUB_CHANNEL_INVALID` (refused URL), `HUB_ERR_SUB_INVALID` (bad ref name),
   * `HUB_ERR_SUB_SOURCE_UNREACHABLE` (git could not fetch: unreachable host, no such repository,
   * branch, tag or commit, refused credentials: the message then names the Secret they came
   * from), `HUB_ERR_SUB_TOO_LARGE`. `access`: the channel's credentials and trust
   * (channel-access.ts); default anonymous with the usual verification.
   */
  async checkout(
    pathname: string,
    ref: GitRef,
    access: ChannelAccess = { insecureSkipVerify: false },
  ): Promise<GitCheckout> {
    if (this.#isClosed) throw new Error('GitSource is closed');
    const url = checkRepositoryUrl(pathname, this.#options.allowLocalRepositories === true);
    const { refspec, depth } = fetchTarget(ref);
    const key = createHash('sha256').update(url).digest('hex').slice(0, 16);
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() => this.#checkoutLocked(key, url, refspec, depth, ref, access));
    this.#locks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.#locks.get(key) === run) this.#locks.delete(key);
    }
  }

  /** Removes the cache folder. Idempotent. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    rmSync(this.#options.cacheDir, { recursive: true, force: true });
  }

  async #checkoutLocked(
    key: string,
    url: string,
    refspec: string,
    depth: number,
    ref: GitRef,
    access: ChannelAccess,
  ): Promise<GitCheckout> {
    const repos = join(this.#options.cacheDir, 'repos');
    const repo = join(repos, key);
    mkdirSync(repos, { recursive: true });
    this.#lastUse.set(key, Date.now());
    this.#evict(key);
    if (!existsSync(join(repo, 'HEAD'))) await this.#git(['init', '--bare', '--quiet', repo]);
    const config = [
      '-c',
      'protocol.version=2',
      '-c',
      `protocol.file.allow=${this.#options.allowLocalRepositories === true ? 'always' : 'never'}`,
      '-c',
      'http.followRedirects=initial',
      ...(access.insecureSkipVerify ? ['-c', 'http.sslVerify=false'] : []),
    ];
    // The CA bundle is a file for git to read; it lives only as long as the fetch.
    const caDir =
      access.caPem === undefined ? undefined : mkdtempSync(join(this.#options.cacheDir, 'ca-'));
    let caFile: string | undefined;
    if (caDir !== undefined && access.caPem !== undefined) {
      caFile = join(caDir, 'ca.pem');
      writeFileSync(caFile, caBundleFile(access.caPem), { mode: 0o600 });
    }
    try {
      await this.#git(
        [...config, '-C', repo, 'fetch', '--quiet', '--no-tags', `--depth=${depth}`, url, refspec],
        gitAccessEnv(url, access, caFile),
      );
    } catch (err: unknown) {
      const why =
        err instanceof ToolFailure ? lastLine(err.stderrTail) || err.message : String(err);
      const what =
        ref.commit !== undefined && ref.commit !== ''
          ? `commit ${ref.commit}`
          : ref.tag !== undefined && ref.tag !== ''
            ? `tag ${ref.tag}`
            : ref.branch !== undefined && ref.branch !== ''
              ? `branch ${ref.branch}`
              : 'the default branch';
      const withCredentials =
        access.credentialsFrom === undefined
          ? ''
          : ` with the credentials of ${access.credentialsFrom}`;
      throw new SubscriptionError(
        'HUB_ERR_SUB_SOURCE_UNREACHABLE',
        `could not fetch ${what} of ${url}${withCredentials}: ${why}`,
        { cause: err },
      );
    } finally {
      if (caDir !== undefined) rmSync(caDir, { recursive: true, force: true });
    }
    const commit = (await this.#git(['-C', repo, 'rev-parse', '--verify', 'FETCH_HEAD^{commit}']))
      .toString()
      .trim();
    const work = mkdtempSync(join(this.#options.cacheDir, 'checkout-'));
    const dispose = () => rmSync(work, { recursive: true, force: true });
    try {
      const tar = join(work, 'tree.tar');
      const tree = join(work, 'tree');
      mkdirSync(tree);
      await this.#git(['-C', repo, 'archive', '--format=tar', '-o', tar, commit]);
      const size = statSync(tar).size;
      if (size > MAX_ARCHIVE_BYTES) {
        throw new SubscriptionError(
          'HUB_ERR_SUB_TOO_LARGE',
          `commit ${commit} of ${url} is ${size} bytes, more than the ${MAX_ARCHIVE_BYTES}-byte limit`,
        );
      }
      await runTool('tar', [
        '-x',
        '-f',
        tar,
        '-C',
        tree,
        '--no-same-owner',
        '--no-same-permissions',
      ]);
      rmSync(tar);
      return { commit, dir: tree, dispose };
    } catch (err: unknown) {
      dispose();
      throw err;
    }
  }

  #git(args: string[], extraEnv: Record<string, string> = {}): Promise<Buffer> {
    return runTool(this.#options.git ?? 'git', args, {
      timeoutMs: this.#options.timeoutMs ?? 120_000,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: this.#options.cacheDir,
        GIT_TERMINAL_PROMPT: '0',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_ASKPASS: '',
        LANG: 'C',
        ...extraEnv,
      },
    });
  }

  /** Removes the least recently used bare repositories beyond the limit (never `keep`). */
  #evict(keep: string): void {
    const max = this.#options.maxCachedRepos ?? DEFAULT_MAX_CACHED_REPOS;
    if (this.#lastUse.size <= max) return;
    const byAge = [...this.#lastUse].sort((a, b) => a[1] - b[1]);
    for (const [key] of byAge) {
      if (this.#lastUse.size <= max) break;
      if (key === keep || this.#locks.has(key)) continue;
      this.#lastUse.delete(key);
      rmSync(join(this.#options.cacheDir, 'repos', key), { recursive: true, force: true });
    }
  }
}
