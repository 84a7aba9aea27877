/**
 * Who is calling the gateway, decided before anything is dialled, in the API server's order:
 * a client certificate verified against the hub's client CA first, then a bearer token
 * reviewed by the hub (TokenReview, positive and negative answers cached 10 s). A bearer token
 * the hub does not authenticate is a spoke token, passed through for the spoke to judge.
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
  /**
   * The hub does not authenticate the bearer token and an untrusted client certificate came
   * with it (a spoke token passes through only on its own).
   */
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
      /** A hub caller: authorized on the hub, impersonated on the spoke. */
      readonly kind: 'hub';
      readonly user: HubUser;
      readonly method: 'certificate' | 'token';
    }
  | {
      /**
       * A bearer token the hub's TokenReview does not authenticate, and no client certificate:
       * a spoke token, passed straight through for the spoke to judge.
       */
      readonly kind: 'spoke-token';
      /** `Bearer <token>`, the one credential that was reviewed (never logged). */
      readonly authorization: string;
    }
  | {
      readonly kind: 'refused';
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

function refused(
  reason: GatewayAuthFailureReason,
  message: string,
  statusCode: 401 | 503 = 401,
): Authentication {
  return { kind: 'refused', reason, statusCode, message };
}

/**
 * Authenticates the caller of `req`. Never throws: a hub that cannot be asked is a
 * `hub-unavailable` failure (503), not cached, and never a pass-through — a token goes to a
 * spoke only once the hub has said it is not one of its own, so hub credentials never reach a
 * spoke. Spoke tokens pass straight through (proxy-server/README.md "Spoke tokens pass straight
 * through"): a bearer token the hub does not authenticate, sent without a client certificate,
 * is `spoke-token`; beside an untrusted client certificate it is refused (`not-a-hub-token`).
 */
export async function authenticateCaller(
  req: IncomingMessage,
  context: CallerAuthContext,
): Promise<Authentication> {
  const socket = req.socket as TLSSocket;
  if (context.hasClientCa && socket.authorized) {
    const user = certificateUser(socket);
    if (user !== undefined) return { kind: 'hub', user, method: 'certificate' };
  }
  const hasCertificate = context.hasClientCa && hasPeerCertificate(socket);
  const authorizations = req.headersDistinct['authorization'] ?? [];
  const [authorization] = authorizations;
  if (authorization === undefined) {
    if (hasCertificate) {
      const error = socket.authorizationError as unknown;
      return refused(
        'untrusted-certificate',
        `Unauthorized: the client certificate is not from the hub's client CA (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    return refused(
      'no-credentials',
      'Unauthorized: send a bearer token (of the hub or of the spoke) or a client certificate from the hub',
    );
  }
  if (authorizations.length > 1) {
    return refused(
      'malformed-authorization',
      'Unauthorized: send exactly one Authorization header',
    );
  }
  const token = BEARER.exec(authorization)?.[1];
  if (token === undefined) {
    return refused(
      'malformed-authorization',
      'Unauthorized: the Authorization header must be "Bearer <token>"',
    );
  }
  const key = createHash('sha256').update(token).digest('hex');
  let review: TokenReviewResult;
  try {
    review = await context.tokens.get(key, () => context.reviewer.reviewToken(token));
  } catch (err) {
    return refused(
      'hub-unavailable',
      `cannot authenticate the token: the hub API server did not answer the TokenReview (${err instanceof Error ? err.message : String(err)})`,
      503,
    );
  }
  if (review.isAuthenticated) return { kind: 'hub', user: review.user, method: 'token' };
  if (hasCertificate) {
    return refused(
      'not-a-hub-token',
      'Unauthorized: the bearer token is not a hub token, and a client certificate the hub does not accept came with it; a spoke token passes through only without a client certificate',
    );
  }
  return { kind: 'spoke-token', authorization: `Bearer ${token}` };
}
