/**
 * What the registration listener asks of the hub: the listener owns HTTP (routing, body limits,
 * JSON, error answers); a {@link RegistrationBackend} — the hub's registration service — owns
 * every decision (token checks, CSR policy, signing). See protocol/registration.ts for the wire
 * contract and hub/registration/ for the backend.
 */
import type {
  DiscoveryAnswer,
  RegistrationErrorCode,
  RegistrationRequestBody,
  RegistrationStatus,
  RenewalRequestBody,
} from '../../protocol/index.ts';
import { REGISTRATION_ERROR_CODES } from '../../protocol/index.ts';

/** Who is calling: a bootstrap token and/or a client certificate that TLS verified. */
export interface RegistrationCaller {
  /** The `Authorization: Bearer` value, when sent. Never log it. */
  readonly token?: string;
  /** A client certificate that verified against the hub CA. */
  readonly certificate?: { readonly commonName: string; readonly certPem: string };
  /** Remote address, for logs. */
  readonly peer: string;
}

/**
 * The hub's side of registration. Every method either resolves with the answer or rejects with
 * a {@link RegistrationError} (sent as its code's status); any other rejection is answered 503
 * `REG_ERR_UNAVAILABLE` and logged. Called concurrently; implementations keep their own state
 * consistent (the hub API server's optimistic concurrency does it for ours).
 */
export interface RegistrationBackend {
  /** `GET …/discovery?tokenID=<id>`: the hub CA and tunnel endpoints, signed with the token. */
  discovery(tokenId: string, caller: RegistrationCaller): Promise<DiscoveryAnswer>;
  /** `POST …/requests`: a first registration with a bootstrap token. */
  submit(body: RegistrationRequestBody, caller: RegistrationCaller): Promise<RegistrationStatus>;
  /** `POST …/renewals`: a new certificate for the agent whose certificate the caller holds. */
  renew(body: RenewalRequestBody, caller: RegistrationCaller): Promise<RegistrationStatus>;
  /** `GET …/requests/<name>`: where a request stands (its token or its cluster's certificate). */
  status(name: string, caller: RegistrationCaller): Promise<RegistrationStatus>;
}

/** A refusal the registration API sends as `{ code, message }` with the code's HTTP status. */
export class RegistrationError extends Error {
  readonly code: RegistrationErrorCode;

  constructor(code: RegistrationErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistrationError';
    if (!REGISTRATION_ERROR_CODES.includes(code)) throw new TypeError(`unknown code ${code}`);
    this.code = code;
  }
}

/** True when `err` is a {@link RegistrationError}, optionally with the given code. */
export function isRegistrationError(
  err: unknown,
  code?: RegistrationErrorCode,
): err is RegistrationError {
  return err instanceof RegistrationError && (code === undefined || err.code === code);
}
