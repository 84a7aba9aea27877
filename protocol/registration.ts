/**
 * The registration API's wire contract, shared by the proxy-server (which serves it) and the
 * agent (which calls it): paths, JSON bodies, error codes and their HTTP statuses, the bootstrap
 * token format, and the HMAC that lets a joining agent trust the hub CA it discovers.
 * protocol/README.md "Registration API" describes the exchange. Pure; no I/O.
 */
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Base path of every registration endpoint. */
export const REGISTRATION_PATH = '/registration/v1';

/**
 * Error codes of the registration API, with the HTTP status each is sent with. The body of
 * every error answer is `{ "code": <code>, "message": <text> }`.
 */
export const REGISTRATION_ERROR_STATUS = {
  /** The body or query is not what the endpoint takes. */
  REG_ERR_INVALID_REQUEST: 400,
  /** The CSR is malformed, badly signed, or asks for another subject than allowed. */
  REG_ERR_INVALID_CSR: 400,
  /** No bootstrap token, a malformed one, an unknown token id, or a wrong secret. */
  REG_ERR_TOKEN_INVALID: 401,
  /** The bootstrap token's expiration has passed. */
  REG_ERR_TOKEN_EXPIRED: 401,
  /** The bootstrap token was already used (by another cluster, agent or key, or to completion). */
  REG_ERR_TOKEN_USED: 403,
  /** The caller may not do this (a certificate of another cluster, a request not its own). */
  REG_ERR_FORBIDDEN: 403,
  /** The hub denied this cluster (`spec.hubAcceptsClient: false` after a deny). */
  REG_ERR_CLUSTER_DENIED: 403,
  /** No such registration request. */
  REG_ERR_NOT_FOUND: 404,
  /** The request body exceeds the limit. */
  REG_ERR_TOO_LARGE: 413,
  /** The hub API server could not be reached or answered an error; retry later. */
  REG_ERR_UNAVAILABLE: 503,
} as const;

/** A registration API error code. */
export type RegistrationErrorCode = keyof typeof REGISTRATION_ERROR_STATUS;

/** Every registration error code, in a fixed order. */
export const REGISTRATION_ERROR_CODES = Object.keys(
  REGISTRATION_ERROR_STATUS,
) as readonly RegistrationErrorCode[];

/** True when `value` is a registration error code. */
export function isRegistrationErrorCode(value: unknown): value is RegistrationErrorCode {
  return typeof value === 'string' && Object.hasOwn(REGISTRATION_ERROR_STATUS, value);
}

/** Largest request body the server reads, in bytes (a CSR is about 1 KiB). */
export const MAX_REGISTRATION_BODY_BYTES = 64 * 1024;

/**
 * A bootstrap token: `<id>.<secret>`, 6 and 16 characters of `[a-z0-9]`, as kubeadm's. The id
 * is public (it names the token's Secret); the secret is the credential.
 */
export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

/** Splits a bootstrap token; undefined when it is not `<6>.<16>` of `[a-z0-9]`. */
export function parseBootstrapToken(token: string): { id: string; secret: string } | undefined {
  const match = BOOTSTRAP_TOKEN_PATTERN.exec(token);
  if (match === null) return undefined;
  return { id: match[1] as string, secret: match[2] as string };
}

/** Where agents reach the tunnel, as the hub advertises it at discovery. */
export interface TunnelEndpoints {
  /** `host:port` of the gRPC agent listener. */
  readonly grpc?: string;
  /** `host:port` of the WebSocket agent listener (path `/tunnel`). */
  readonly websocket?: string;
}

/**
 * What discovery tells a joining agent: the hub CA (which verifies the proxy-server and signs
 * agent certificates) and the tunnel endpoints. Sent as the JSON text `payload`, with
 * `signature` = HMAC-SHA256 of that exact text keyed by the bootstrap token's secret, so an
 * agent holding the token knows the payload came from a hub that knows the token.
 */
export interface DiscoveryInfo {
  readonly caBundle: string;
  readonly tunnel: TunnelEndpoints;
}

/** The body of `GET <REGISTRATION_PATH>/discovery?tokenID=<id>`. */
export interface DiscoveryAnswer {
  readonly payload: string;
  /** base64url HMAC-SHA256(token secret, payload). */
  readonly signature: string;
}

/** Signs a discovery payload with a token secret. */
export function signDiscovery(payload: string, tokenSecret: string): string {
  return createHmac('sha256', tokenSecret).update(payload, 'utf8').digest('base64url');
}

/** True when `signature` is the payload's HMAC under `tokenSecret` (constant-time compare). */
export function verifyDiscovery(payload: string, signature: string, tokenSecret: string): boolean {
  const expected = Buffer.from(signDiscovery(payload, tokenSecret), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `POST <REGISTRATION_PATH>/requests` (bootstrap token as `Authorization: Bearer`). */
export interface RegistrationRequestBody {
  readonly clusterName: string;
  readonly agentName: string;
  /** PEM PKCS#10 with CN `spokelink:agent:<cluster>:<agent>`, O `spokelink:agents`. */
  readonly csr: string;
}

/** `POST <REGISTRATION_PATH>/renewals` (the agent's current client certificate, mTLS). */
export interface RenewalRequestBody {
  /** PEM PKCS#10 for the same subject as the presented certificate. */
  readonly csr: string;
}

/** Where a registration request stands. */
export type RegistrationPhase = 'Pending' | 'Issued' | 'Denied';

/**
 * The answer of submit, renew and `GET <REGISTRATION_PATH>/requests/<name>`: `certificate`
 * (PEM, signed by the hub CA) once `Issued`; `message` says why when `Pending` or `Denied`.
 */
export interface RegistrationStatus {
  readonly name: string;
  readonly clusterName: string;
  readonly agentName: string;
  readonly phase: RegistrationPhase;
  readonly certificate?: string;
  /** The hub CA bundle, to verify the proxy-server with. */
  readonly caBundle: string;
  readonly message?: string;
}

/** The body of every error answer. */
export interface RegistrationErrorBody {
  readonly code: RegistrationErrorCode;
  readonly message: string;
}

/**
 * Where a joined spoke keeps its agent's registration state (written by `spokelink join`, read
 * and updated by the agent): the namespace (OCM's klusterlet agent namespace), the bootstrap
 * Secret (keys `hub`, `token`, `cluster-name`, `agent-name`, optional `ca-hash`, `transport`),
 * and the Secret with the agent's key and hub-issued certificate (`tls.key`, `tls.crt`,
 * `ca.crt`, `request-name`, `tunnel.json`).
 */
export const SPOKE_AGENT_NAMESPACE = 'open-cluster-management-agent';
export const SPOKE_AGENT_SERVICE_ACCOUNT = 'spokelink-agent';
export const SPOKE_BOOTSTRAP_SECRET = 'spokelink-bootstrap';
export const SPOKE_HUB_CLIENT_SECRET = 'spokelink-hub-client';
