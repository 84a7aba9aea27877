/**
 * The gateway's two questions to the hub API server: TokenReview (who holds this bearer token?)
 * and SubjectAccessReview (may this identity use `managedclusters/proxy` of this cluster?).
 * Plain HTTPS + JSON over one keep-alive connection pool: two POSTs do not need a Kubernetes
 * client library (proxy-server imports none). Answers are cached by the caller
 * (review-cache.ts).
 */
import { Buffer } from 'node:buffer';
import { readFileSync, statSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';

import type { ResolvedGatewayOptions } from './gateway-options.ts';
import { PROXY_RESOURCE } from './hub-identity.ts';
import type { HubUser } from './hub-identity.ts';

/** Deadline of one review request to the hub, in ms. */
export const HUB_REVIEW_TIMEOUT_MS = 10_000;
/** Largest review response read, in bytes (a review is a few KiB). */
const MAX_REVIEW_RESPONSE_BYTES = 1024 * 1024;
/** Idle keep-alive connections kept to the hub API server. */
const MAX_FREE_HUB_SOCKETS = 8;
/** How often a `tokenFile` is checked for a new token, in ms. */
const TOKEN_FILE_CHECK_MS = 10_000;

/** What a TokenReview said about a token. */
export type TokenReviewResult =
  | { readonly isAuthenticated: true; readonly user: HubUser }
  | { readonly isAuthenticated: false; readonly error: string };

/** What a SubjectAccessReview said. */
export interface AccessReviewResult {
  readonly isAllowed: boolean;
  /** The authorizer's reason (may be empty). */
  readonly reason: string;
}

/** One SubjectAccessReview question: `verb` on `managedclusters/proxy` named `cluster`. */
export interface AccessReviewRequest {
  readonly user: HubUser;
  readonly cluster: string;
  readonly verb: string;
}

/** The hub could not be asked (network, TLS, timeout, or a non-2xx answer). Never cached. */
export class HubReviewError extends Error {
  /** HTTP status of the hub's answer, when there was one. */
  readonly statusCode: number | undefined;

  constructor(message: string, statusCode?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HubReviewError';
    this.statusCode = statusCode;
  }
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function extraOf(value: unknown): Record<string, string[]> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const extra: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(value)) extra[key] = stringArray(values);
  return Object.keys(extra).length === 0 ? undefined : extra;
}

/**
 * Asks the hub API server. Concurrency: any number of reviews at once over a keep-alive pool.
 * `close()` destroys the pool (reviews in flight fail); idempotent.
 */
export class HubReviewer {
  readonly #hub: ResolvedGatewayOptions['hub'];
  readonly #agent: Agent;

  /** The token file's content and when it was last checked. */
  #fileToken: { value: string; mtimeMs: number; checkedAt: number } | undefined;

  #authorization(): { authorization: string } | Record<string, never> {
    const token =
      this.#hub.tokenFile === undefined
        ? this.#hub.token
        : this.#readTokenFile(this.#hub.tokenFile);
    return token === undefined || token === '' ? {} : { authorization: `Bearer ${token}` };
  }

  /** Re-reads the token file when its mtime changed, at most every TOKEN_FILE_CHECK_MS. */
  #readTokenFile(path: string): string | undefined {
    const now = Date.now();
    const cached = this.#fileToken;
    if (cached !== undefined && now - cached.checkedAt < TOKEN_FILE_CHECK_MS) return cached.value;
    try {
      const { mtimeMs } = statSync(path);
      const value =
        cached !== undefined && cached.mtimeMs === mtimeMs
          ? cached.value
          : readFileSync(path, 'utf8').trim();
      this.#fileToken = { value, mtimeMs, checkedAt: now };
      return value;
    } catch {
      // Keep the last good token while the file is being replaced.
      return cached?.value;
    }
  }

  constructor(hub: ResolvedGatewayOptions['hub']) {
    this.#hub = hub;
    this.#agent = new Agent({
      keepAlive: true,
      maxFreeSockets: MAX_FREE_HUB_SOCKETS,
      ca: hub.caPem,
      ...(hub.clientCertPem === undefined
        ? {}
        : { cert: hub.clientCertPem, key: hub.clientKeyPem }),
    });
  }

  /** TokenReview of `token` with the API server's default audiences. */
  async reviewToken(token: string): Promise<TokenReviewResult> {
    const answer = await this.#post('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const status = (answer['status'] ?? {}) as Record<string, unknown>;
    const user = (status['user'] ?? {}) as Record<string, unknown>;
    const username = user['username'];
    if (status['authenticated'] !== true || typeof username !== 'string' || username === '') {
      const error = status['error'];
      return { isAuthenticated: false, error: typeof error === 'string' ? error : '' };
    }
    const uid = user['uid'];
    return {
      isAuthenticated: true,
      user: {
        username,
        uid: typeof uid === 'string' && uid !== '' ? uid : undefined,
        groups: stringArray(user['groups']),
        extra: extraOf(user['extra']),
      },
    };
  }

  /** SubjectAccessReview of `verb` on `managedclusters/proxy` named `cluster` for `user`. */
  async reviewAccess(question: AccessReviewRequest): Promise<AccessReviewResult> {
    const { user, cluster, verb } = question;
    const answer = await this.#post('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: user.username,
        groups: [...user.groups],
        ...(user.uid === undefined ? {} : { uid: user.uid }),
        ...(user.extra === undefined ? {} : { extra: user.extra }),
        resourceAttributes: { ...PROXY_RESOURCE, name: cluster, verb },
      },
    });
    const status = (answer['status'] ?? {}) as Record<string, unknown>;
    const reason = status['reason'];
    return {
      isAllowed: status['allowed'] === true && status['denied'] !== true,
      reason: typeof reason === 'string' ? reason : '',
    };
  }

  close(): void {
    this.#agent.destroy();
  }

  #post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const payload = Buffer.from(JSON.stringify(body));
    const base = this.#hub.server;
    const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
    return new Promise((resolve, reject) => {
      const req = request({
        agent: this.#agent,
        host: base.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: base.port === '' ? 443 : Number(base.port),
        method: 'POST',
        path: `${prefix}${path}`,
        timeout: HUB_REVIEW_TIMEOUT_MS,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': payload.length,
          ...(this.#hub.clientCertPem === undefined ? this.#authorization() : {}),
        },
      });
      req.on('timeout', () => {
        req.destroy(new HubReviewError(`no answer within ${HUB_REVIEW_TIMEOUT_MS} ms`));
      });
      req.on('error', (err: Error) => {
        reject(
          err instanceof HubReviewError ? err : new HubReviewError(err.message, undefined, err),
        );
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('error', (err: Error) => reject(new HubReviewError(err.message, undefined, err)));
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_REVIEW_RESPONSE_BYTES) {
            req.destroy(
              new HubReviewError(`review answer over ${MAX_REVIEW_RESPONSE_BYTES} bytes`),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch (err) {
            reject(
              new HubReviewError(`hub answered ${code} with a body that is not JSON`, code, err),
            );
            return;
          }
          if (code < 200 || code > 299 || typeof parsed !== 'object' || parsed === null) {
            const message = (parsed as { message?: unknown } | null)?.message;
            reject(
              new HubReviewError(
                `hub answered ${code}${typeof message === 'string' ? `: ${message}` : ''}`,
                code,
              ),
            );
            return;
          }
          resolve(parsed as Record<string, unknown>);
        });
      });
      req.end(payload);
    });
  }
}
