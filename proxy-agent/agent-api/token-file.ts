/**
 * The agent's own ServiceAccount token, read from a file and kept current. Kubernetes rotates
 * projected tokens by swapping a symlink in the volume's directory (`..data`), which replaces
 * the file rather than writing it, so the directory is watched (fs.watch), not the file, and a
 * timer re-reads it as a backstop (inotify can be unavailable or exhausted). The token is never
 * logged: log lines name the file only.
 */
import { readFileSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { AgentError, toError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** How often the token file is re-read even without a change event, in ms. */
export const TOKEN_REFRESH_INTERVAL_MS = 60_000;
/** Change events within this window cause one re-read (a symlink swap fires several), in ms. */
const WATCH_DEBOUNCE_MS = 50;

/** Options of {@link TokenFile}. */
export interface TokenFileOptions {
  readonly path: string;
  readonly logger: Logger;
  /** Default {@link TOKEN_REFRESH_INTERVAL_MS}. */
  readonly refreshIntervalMs?: number;
}

function parseToken(text: string): string | undefined {
  const token = text.trim();
  return token === '' ? undefined : token;
}

/**
 * A bearer token file. The constructor reads it synchronously and throws AgentError
 * `AGENT_ERR_INVALID_OPTIONS` when it is unreadable or empty (fail fast at start). Later
 * re-reads that fail, or find the file empty, keep the last good token and log a warning:
 * a token that is being rotated is briefly absent, and the old one stays valid for a while.
 *
 * Lifecycle: `close()` stops the watcher and the timer; idempotent. `token` stays readable.
 */
export class TokenFile {
  readonly #path: string;
  readonly #logger: Logger;
  readonly #timer: NodeJS.Timeout;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #token: string;
  #isReading = false;
  #isRereadWanted = false;
  #isClosed = false;

  constructor(options: TokenFileOptions) {
    this.#path = options.path;
    this.#logger = options.logger;
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (err: unknown) {
      throw new AgentError(
        'AGENT_ERR_INVALID_OPTIONS',
        `invalid options: agentApi.tokenFile: ${toError(err).message}`,
        { cause: err },
      );
    }
    const token = parseToken(text);
    if (token === undefined) {
      throw new AgentError(
        'AGENT_ERR_INVALID_OPTIONS',
        `invalid options: agentApi.tokenFile ${this.#path} is empty`,
      );
    }
    this.#token = token;
    this.#timer = setInterval(
      () => this.reload(),
      options.refreshIntervalMs ?? TOKEN_REFRESH_INTERVAL_MS,
    );
    this.#timer.unref();
    this.#startWatching();
  }

  /** The current token. */
  get token(): string {
    return this.#token;
  }

  /** Re-reads the file now (also called by the watcher and the timer). Never throws. */
  reload(): void {
    if (this.#isClosed) return;
    if (this.#isReading) {
      this.#isRereadWanted = true;
      return;
    }
    this.#isReading = true;
    readFile(this.#path, 'utf8').then(
      (text) => this.#afterRead(parseToken(text), undefined),
      (err: unknown) => this.#afterRead(undefined, toError(err)),
    );
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #afterRead(token: string | undefined, err: Error | undefined): void {
    this.#isReading = false;
    if (this.#isClosed) return;
    if (token === undefined) {
      this.#logger.warn('agent api token reload failed; keeping the last token', {
        tokenFile: this.#path,
        error: err?.message ?? 'the file is empty',
      });
    } else if (token !== this.#token) {
      this.#token = token;
      this.#logger.info('agent api token reloaded', { tokenFile: this.#path });
    }
    if (this.#isRereadWanted) {
      this.#isRereadWanted = false;
      this.reload();
    }
  }

  #startWatching(): void {
    try {
      const watcher = watch(dirname(this.#path), { persistent: false });
      watcher.on('error', (err: Error) => {
        this.#logger.warn('agent api token watch failed; re-reading on a timer only', {
          tokenFile: this.#path,
          error: err.message,
        });
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      watcher.on('change', () => {
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => this.reload(), WATCH_DEBOUNCE_MS);
        this.#debounce.unref();
      });
      this.#watcher = watcher;
    } catch (err: unknown) {
      this.#logger.warn('agent api token watch failed; re-reading on a timer only', {
        tokenFile: this.#path,
        error: toError(err).message,
      });
    }
  }
}
