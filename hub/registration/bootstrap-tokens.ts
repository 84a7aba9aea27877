/**
 * Bootstrap tokens for registration, stored as kubeadm stores them — Secrets
 * `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token` with `token-id`,
 * `token-secret`, `expiration` (RFC 3339) and `description` — labelled as Spokelink's. They are
 * not API credentials (no `usage-bootstrap-authentication`): only the registration API reads
 * them. A token is single-use: its first registration binds it to one cluster, agent and key
 * (a retry of that same registration still works); once the certificate is handed out it is
 * spent. Concurrent binds race on the Secret's resourceVersion; the loser is refused.
 */
import { randomInt } from 'node:crypto';

import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';

import { parseBootstrapToken } from '../../protocol/index.ts';
import { RegistrationError } from '../../proxy-server/index.ts';
import { apiStatus } from '../kube/index.ts';
import {
  TOKEN_BOUND_ANNOTATION,
  TOKEN_CONSUMED_ANNOTATION,
  TOKEN_LABEL,
  TOKEN_NAMESPACE,
  TOKEN_SECRET_PREFIX,
  TOKEN_SECRET_TYPE,
} from './constants.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomText(length: number): string {
  let text = '';
  for (let i = 0; i < length; i += 1) text += ALPHABET[randomInt(ALPHABET.length)];
  return text;
}

/** A token as listed (never with its secret). */
export interface BootstrapTokenInfo {
  readonly id: string;
  readonly expiration: Date;
  readonly description: string;
  /** `<cluster>/<agent>/<key hash>` once used. */
  readonly boundTo: string | undefined;
  readonly consumedAt: string | undefined;
}

/** A token that passed {@link BootstrapTokens.check}. */
export interface CheckedToken {
  readonly id: string;
  readonly secret: string;
  readonly boundTo: string | undefined;
  readonly isConsumed: boolean;
  /** The Secret as read (its resourceVersion guards later writes). */
  readonly object: V1Secret;
}

function decoded(secret: V1Secret, key: string): string | undefined {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

function infoOf(secret: V1Secret): BootstrapTokenInfo | undefined {
  const id = decoded(secret, 'token-id');
  const expiration = new Date(decoded(secret, 'expiration') ?? '');
  if (id === undefined || Number.isNaN(expiration.getTime())) return undefined;
  const annotations = secret.metadata?.annotations ?? {};
  return {
    id,
    expiration,
    description: decoded(secret, 'description') ?? '',
    boundTo: annotations[TOKEN_BOUND_ANNOTATION],
    consumedAt: annotations[TOKEN_CONSUMED_ANNOTATION],
  };
}

/**
 * The hub's bootstrap tokens. Stateless apart from the API client; every call is a few API
 * requests, safe to use concurrently.
 */
export class BootstrapTokens {
  readonly #core: CoreV1Api;
  readonly #now: () => Date;

  constructor(kubeConfig: KubeConfig, options: { now?: () => Date } = {}) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#now = options.now ?? (() => new Date());
  }

  /** Creates a token valid for `ttlSeconds`; returns `<id>.<secret>` (show it once). */
  async create(options: { ttlSeconds: number; description?: string }): Promise<{
    token: string;
    expiration: Date;
  }> {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds <= 0) {
      throw new TypeError(`ttlSeconds must be a positive integer, got ${options.ttlSeconds}`);
    }
    const id = randomText(6);
    const secret = randomText(16);
    const expiration = new Date(this.#now().getTime() + options.ttlSeconds * 1000);
    await this.#core.createNamespacedSecret({
      namespace: TOKEN_NAMESPACE,
      body: {
        metadata: {
          name: `${TOKEN_SECRET_PREFIX}${id}`,
          labels: { [TOKEN_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'spokelink' },
        },
        type: TOKEN_SECRET_TYPE,
        stringData: {
          'token-id': id,
          'token-secret': secret,
          expiration: expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          description: options.description ?? 'spokelink cluster registration',
        },
      },
    });
    return { token: `${id}.${secret}`, expiration };
  }

  /** Spokelink's tokens, expired ones included, oldest expiration first. */
  async list(): Promise<BootstrapTokenInfo[]> {
    const res = await this.#core.listNamespacedSecret({
      namespace: TOKEN_NAMESPACE,
      labelSelector: TOKEN_LABEL,
    });
    return res.items
      .map(infoOf)
      .filter((t): t is BootstrapTokenInfo => t !== undefined)
      .sort((a, b) => a.expiration.getTime() - b.expiration.getTime());
  }

  /** Deletes a token by id; false when there was none. */
  async delete(id: string): Promise<boolean> {
    try {
      await this.#core.deleteNamespacedSecret({
        name: `${TOKEN_SECRET_PREFIX}${id}`,
        namespace: TOKEN_NAMESPACE,
      });
      return true;
    } catch (err: unknown) {
      if (apiStatus(err) === 404) return false;
      throw err;
    }
  }

  /** The token Secret for `id` when it is one of ours and unexpired; for discovery. */
  async secretOf(id: string): Promise<string> {
    const { secret } = await this.#load(id, undefined);
    return secret;
  }

  /**
   * Checks a presented `<id>.<secret>`. Throws RegistrationError `REG_ERR_TOKEN_INVALID`
   * (malformed, unknown, not ours, wrong secret) or `REG_ERR_TOKEN_EXPIRED`.
   */
  async check(token: string | undefined): Promise<CheckedToken> {
    if (token === undefined) {
      throw new RegistrationError(
        'REG_ERR_TOKEN_INVALID',
        'a bootstrap token is required (Authorization: Bearer <id>.<secret>)',
      );
    }
    const parsed = parseBootstrapToken(token);
    if (parsed === undefined) {
      throw new RegistrationError(
        'REG_ERR_TOKEN_INVALID',
        'the bootstrap token is malformed (expected <6 chars>.<16 chars> of [a-z0-9])',
      );
    }
    return this.#load(parsed.id, parsed.secret);
  }

  async #load(id: string, presented: string | undefined): Promise<CheckedToken> {
    let object: V1Secret;
    try {
      object = await this.#core.readNamespacedSecret({
        name: `${TOKEN_SECRET_PREFIX}${id}`,
        namespace: TOKEN_NAMESPACE,
      });
    } catch (err: unknown) {
      if (apiStatus(err) === 404) {
        throw new RegistrationError(
          'REG_ERR_TOKEN_INVALID',
          `bootstrap token ${id} does not exist`,
        );
      }
      throw err;
    }
    const info = infoOf(object);
    const secret = decoded(object, 'token-secret');
    if (
      object.type !== TOKEN_SECRET_TYPE ||
      object.metadata?.labels?.[TOKEN_LABEL] !== 'true' ||
      info === undefined ||
      secret === undefined
    ) {
      throw new RegistrationError(
        'REG_ERR_TOKEN_INVALID',
        `bootstrap token ${id} is not a spokelink registration token`,
      );
    }
    if (presented !== undefined && !constantTimeEqual(presented, secret)) {
      throw new RegistrationError(
        'REG_ERR_TOKEN_INVALID',
        `wrong secret for bootstrap token ${id}`,
      );
    }
    if (info.expiration.getTime() <= this.#now().getTime()) {
      throw new RegistrationError(
        'REG_ERR_TOKEN_EXPIRED',
        `bootstrap token ${id} expired at ${info.expiration.toISOString()}; create a new one with \`spokelink token create\``,
      );
    }
    return {
      id,
      secret,
      boundTo: info.boundTo,
      isConsumed: info.consumedAt !== undefined,
      object,
    };
  }

  /**
   * Binds a checked token to `binding` (`<cluster>/<agent>/<key hash>`), or confirms it is
   * already bound to it. Throws `REG_ERR_TOKEN_USED` when it is spent or bound to something
   * else (including a concurrent bind that won).
   */
  async bind(token: CheckedToken, binding: string): Promise<void> {
    if (token.isConsumed) {
      throw new RegistrationError(
        'REG_ERR_TOKEN_USED',
        `bootstrap token ${token.id} was already used to register ${token.boundTo ?? 'a cluster'}; create a new one with \`spokelink token create\``,
      );
    }
    if (token.boundTo === binding) return;
    if (token.boundTo !== undefined) {
      throw new RegistrationError(
        'REG_ERR_TOKEN_USED',
        `bootstrap token ${token.id} is already in use by ${describeBinding(token.boundTo)}; each token registers one agent`,
      );
    }
    await this.#annotate(token, TOKEN_BOUND_ANNOTATION, binding);
  }

  /** Marks a bound token spent (its certificate was handed out). Idempotent. */
  async consume(token: CheckedToken): Promise<void> {
    if (token.isConsumed) return;
    await this.#annotate(token, TOKEN_CONSUMED_ANNOTATION, this.#now().toISOString());
  }

  async #annotate(token: CheckedToken, key: string, value: string): Promise<void> {
    const object = token.object;
    const body: V1Secret = {
      ...object,
      metadata: {
        ...object.metadata,
        annotations: { ...object.metadata?.annotations, [key]: value },
      },
    };
    try {
      await this.#core.replaceNamespacedSecret({
        name: object.metadata?.name ?? '',
        namespace: TOKEN_NAMESPACE,
        body,
      });
    } catch (err: unknown) {
      if (apiStatus(err) === 409) {
        throw new RegistrationError(
          'REG_ERR_TOKEN_USED',
          `bootstrap token ${token.id} was used by another registration at the same time`,
        );
      }
      throw err;
    }
  }
}

function describeBinding(binding: string): string {
  const [cluster, agent] = binding.split('/');
  return `cluster "${cluster ?? '?'}" agent "${agent ?? '?'}"`;
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
