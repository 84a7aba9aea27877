/**
 * Who is calling the gateway, decided before anything is dialled, in the API server's order:
 * a client certificate verified against the hub's client CA first, then a bearer token
 * reviewed by the hub (TokenReview, answers cached 10 s).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

import type { HubReviewer, TokenReviewResult } from './hub-reviews.ts';
import { SYSTEM_AUTHENTICATED } from './hub-identity.ts';
import type { HubUser } from './hub-identity.ts';
import type { ReviewCache } from './review-cache.ts';

/** Why a caller is not authenticated; the label of `spokelink_gateway_auth_failures_total`. */
export const GATEWAY_AUTH_FAILURE_REASONS = [
  /** No client certificate from the hub's client CA and no bearer token. */
  'no-credentials',
  /** A client certificate was sent but does not chain to the hub's client CA. */
  'untrusted-certificate',
  /** An `Authorization` header that is not `Bearer <token>`. */
  'malformed-authorization',
  /** The hub does not authenticate the bearer token (e.g. a spoke's token). */
  'not-a-hub-token',
  /** The hub could not be asked (TokenReview or SubjectAccessReview failed). */
  'hub-unavailable',
  /** The caller sent `Impersonate-*` headers. */
  'impersonation-refused',
  /** The caller's identity may not act on spokes (the user `system:masters`). */
  'refused-identity',
  /** The hub's SubjectAccessReview denied `managedclusters/proxy`. */
  'forbidden',
] as const;

/** One of {@link GATEWAY_AUTH_FAILURE_REASONS}. */
export type GatewayAuthFailureReason = (typeof GATEWAY_AUTH_FAILURE_REASONS)[number];

/** The outcome of {@link authenticateCaller}. */
export type Authentication =
  | {
      readonly isAuthenticated: true;
      readonly user: HubUser;
      readonly method: 'certificate' | 'token';
    }
  | {
      readonly isAuthenticated: false;
      readonly reason: GatewayAuthFailureReason;
      /** 401, or 503 when the hub could not be asked. */
      readonly statusCode: 401 | 503;
      readonly message: string;
    };

/** What {@link authenticateCaller} needs. */
export interface CallerAuthContext {
  readonly reviewer: HubReviewer;
  /** TokenReview answers by SHA-256 of the token (tokens themselves are never kept). */
  readonly tokens: ReviewCache<TokenReviewResult>;
  /** Whether client certificates are accepted (a client CA is configured). */
  readonly hasClientCa: boolean;
}

function asStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The identity of a client certificate the TLS layer verified, as the API server derives it. */
function certificateUser(socket: TLSSocket): HubUser | undefined {
  const cert = socket.getPeerCertificate();
  if (cert === null || typeof cert !== 'object' || cert.raw === undefined) return undefined;
  const subject = cert.subject as unknown as Record<string, unknown> | undefined;
  // Node joins repeated RDNs into an array; the API server (Go) takes the last CN.
  const username = asStrings(subject?.['CN']).at(-1);
  if (username === undefined || username === '') return undefined;
  const groups = asStrings(subject?.['O']);
  return { username, groups: [...groups, SYSTEM_AUTHENTICATED] };
}

function hasPeerCertificate(socket: TLSSocket): boolean {
  const cert = socket.getPeerCertificate();
  return cert !== null && typeof cert === 'object' && cert.raw !== undefined;
}

const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

/**
 * Authenticates the caller of `req`. Never throws: a hub that cannot be asked is a
 * `hub-unavailable` failure (503), not cached.
 *
 * Pass-through of spoke tokens (DESIGN §4: a managed-service-account token goes straight to
 * the spoke's `kube-apiserver`) is not built yet: a bearer token the hub does not authenticate
 * gets 401 `not-a-hub-token`. That branch is where the pass-through will go.
 */
export async function authenticateCaller(
  req: IncomingMessage,
  context: CallerAuthContext,
): Promise<Authentication> {
  const socket = req.socket as TLSSocket;
  if (context.hasClientCa && socket.authorized) {
    const user = certificateUser(socket);
    if (user !== undefined) return { isAuthenticated: true, user, method: 'certificate' };
  }
  const authorization = req.headers.authorization;
  if (authorization === undefined) {
    if (context.hasClientCa && hasPeerCertificate(socket)) {
      const error = socket.authorizationError as unknown;
      return {
        isAuthenticated: false,
        reason: 'untrusted-certificate',
        statusCode: 401,
        message: `Unauthorized: the client certificate is not from the hub's client CA (${error instanceof Error ? error.message : String(error)})`,
      };
    }
    return {
      isAuthenticated: false,
      reason: 'no-credentials',
      statusCode: 401,
      message: 'Unauthorized: send a hub bearer token or a client certificate from the hub',
    };
  }
  const token = BEARER.exec(authorization)?.[1];
  if (token === undefined) {
    return {
      isAuthenticated: false,
      reason: 'malformed-authorization',
      statusCode: 401,
      message: 'Unauthorized: the Authorization header must be "Bearer <token>"',
    };
  }
  const key = createHash('sha256').update(token).digest('hex');
  let review: TokenReviewResult;
  try {
    review = await context.tokens.get(key, () => context.reviewer.reviewToken(token));
  } catch (err) {
    return {
      isAuthenticated: false,
      reason: 'hub-unavailable',
      statusCode: 503,
      message: `cannot authenticate the token: the hub API server did not answer the TokenReview (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  if (!review.isAuthenticated) {
    // TODO(issue 4): a managed-service-account (spoke) token goes straight to kube-apiserver.
    return {
      isAuthenticated: false,
      reason: 'not-a-hub-token',
      statusCode: 401,
      message:
        'Unauthorized: the bearer token is not a hub token (the hub API server does not authenticate it); passing spoke tokens through is not supported yet',
    };
  }
  return { isAuthenticated: true, user: review.user, method: 'token' };
}
