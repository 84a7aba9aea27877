/**
 * The agent's client of the hub's registration API (protocol/registration.ts): discovery of
 * the hub CA with a bootstrap token, the first certificate (token), its status, and renewals
 * (mTLS with the current certificate). Plain HTTPS requests with small JSON bodies; every
 * refusal becomes a {@link RegistrationRefusedError} that carries the hub's code.
 */
import { Buffer } from 'node:buffer';
import { request } from 'node:https';

import { publicKeyHashSha256, splitPemBundle } from '../../certs/index.ts';
import {
  type DiscoveryInfo,
  REGISTRATION_PATH,
  type RegistrationErrorCode,
  type RegistrationRequestBody,
  type RegistrationStatus,
  isRegistrationErrorCode,
  parseBootstrapToken,
  verifyDiscovery,
} from '../../protocol/index.ts';
import { AgentError } from '../errors.ts';

/** Default timeout of one registration request, ms. */
export const REGISTRATION_REQUEST_TIMEOUT_MS = 15_000;
const MAX_ANSWER_BYTES = 256 * 1024;

/** The hub refused a registration request; `registrationCode` is its REG_ERR_ code. */
export class RegistrationRefusedError extends AgentError {
  readonly registrationCode: RegistrationErrorCode;
  readonly status: number;

  constructor(registrationCode: RegistrationErrorCode, status: number, message: string) {
    super('AGENT_ERR_REGISTRATION', `the hub refused: ${registrationCode}: ${message}`);
    this.name = 'RegistrationRefusedError';
    this.registrationCode = registrationCode;
    this.status = status;
  }
}

interface CallOptions {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly token?: string;
  /** Verify the hub with this CA; undefined only for discovery (verified by its HMAC). */
  readonly caPem?: string;
  readonly clientCert?: { certPem: string; keyPem: string };
  readonly timeoutMs?: number;
}

function call<T>(hubUrl: string, options: CallOptions): Promise<T> {
  const url = new URL(`${REGISTRATION_PATH}/${options.path}`, hubUrl);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise<T>((resolve, reject) => {
    const req = request(url, {
      method: options.method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined
          ? {}
          : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }),
        ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
      },
      ...(options.caPem === undefined ? { rejectUnauthorized: false } : { ca: options.caPem }),
      ...(options.clientCert === undefined
        ? {}
        : { cert: options.clientCert.certPem, key: options.clientCert.keyPem }),
      timeout: options.timeoutMs ?? REGISTRATION_REQUEST_TIMEOUT_MS,
      agent: false,
    });
    req.on('timeout', () => {
      req.destroy(
        new Error(
          `no answer from ${url.origin} within ${options.timeoutMs ?? REGISTRATION_REQUEST_TIMEOUT_MS} ms`,
        ),
      );
    });
    req.on('error', (err: Error) => {
      reject(
        new AgentError(
          'AGENT_ERR_CONNECT_FAILED',
          `registration request to ${url.origin} failed: ${err.message}`,
          { cause: err },
        ),
      );
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('error', (err: Error) => req.destroy(err));
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          reject(
            new AgentError(
              'AGENT_ERR_REGISTRATION',
              `${url.origin} answered HTTP ${status} without a JSON body: is it a spokelink registration endpoint?`,
            ),
          );
          return;
        }
        if (status >= 200 && status < 300) {
          resolve(parsed as T);
          return;
        }
        const { code, message } = (parsed ?? {}) as { code?: unknown; message?: unknown };
        if (isRegistrationErrorCode(code)) {
          reject(new RegistrationRefusedError(code, status, String(message ?? '')));
        } else {
          reject(new AgentError('AGENT_ERR_REGISTRATION', `${url.origin} answered HTTP ${status}`));
        }
      });
    });
    req.end(body);
  });
}

/** Options of {@link discoverHub}. */
export interface DiscoverOptions {
  /** `https://host:port` of the registration API (the proxy-server's). */
  readonly hubUrl: string;
  readonly token: string;
  /** `sha256:<hex>` of the hub CA's public key (kubeadm's format): pins the CA when given. */
  readonly caHash?: string;
  readonly timeoutMs?: number;
}

/**
 * Learns the hub CA and tunnel endpoints. The answer is trusted only if its HMAC verifies with
 * the token's secret (a hub that knows the token sent it) and, with `caHash`, if the CA's
 * public key hash matches. Throws AgentError `AGENT_ERR_HUB_UNTRUSTED` otherwise,
 * RegistrationRefusedError for a refused token.
 */
export async function discoverHub(options: DiscoverOptions): Promise<DiscoveryInfo> {
  const token = parseBootstrapToken(options.token);
  if (token === undefined) {
    throw new AgentError(
      'AGENT_ERR_INVALID_OPTIONS',
      'the bootstrap token is malformed (expected <6 chars>.<16 chars> of [a-z0-9])',
    );
  }
  const answer = await call<{ payload?: unknown; signature?: unknown }>(options.hubUrl, {
    method: 'GET',
    path: `discovery?tokenID=${token.id}`,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  if (
    typeof answer.payload !== 'string' ||
    typeof answer.signature !== 'string' ||
    !verifyDiscovery(answer.payload, answer.signature, token.secret)
  ) {
    throw new AgentError(
      'AGENT_ERR_HUB_UNTRUSTED',
      `the discovery answer from ${options.hubUrl} is not signed with this bootstrap token: not the hub that issued it`,
    );
  }
  const info = JSON.parse(answer.payload) as DiscoveryInfo;
  if (typeof info.caBundle !== 'string' || splitPemBundle(info.caBundle).length === 0) {
    throw new AgentError('AGENT_ERR_HUB_UNTRUSTED', 'the discovery answer carries no CA bundle');
  }
  if (options.caHash !== undefined) {
    const wanted = options.caHash.toLowerCase();
    const hashes = splitPemBundle(info.caBundle).map((pem) => publicKeyHashSha256(pem));
    if (!hashes.includes(wanted)) {
      throw new AgentError(
        'AGENT_ERR_HUB_UNTRUSTED',
        `the hub CA's public key hash is ${hashes.join(', ')}, not the pinned ${wanted}`,
      );
    }
  }
  return info;
}

/** Calls on the registration API once the hub CA is known. Stateless. */
export class RegistrationClient {
  readonly #hubUrl: string;
  readonly #caPem: string;
  readonly #timeoutMs: number | undefined;

  constructor(options: { hubUrl: string; caPem: string; timeoutMs?: number }) {
    this.#hubUrl = options.hubUrl;
    this.#caPem = options.caPem;
    this.#timeoutMs = options.timeoutMs;
  }

  /** First registration with a bootstrap token. */
  submit(token: string, body: RegistrationRequestBody): Promise<RegistrationStatus> {
    return call(this.#hubUrl, { ...this.#common(), method: 'POST', path: 'requests', body, token });
  }

  /** Where a request stands, asked with its token or with the agent's certificate. */
  status(
    name: string,
    auth: { token: string } | { clientCert: { certPem: string; keyPem: string } },
  ): Promise<RegistrationStatus> {
    return call(this.#hubUrl, {
      ...this.#common(),
      method: 'GET',
      path: `requests/${encodeURIComponent(name)}`,
      ...auth,
    });
  }

  /** A renewal, authenticated by the current certificate. */
  renew(clientCert: { certPem: string; keyPem: string }, csr: string): Promise<RegistrationStatus> {
    return call(this.#hubUrl, {
      ...this.#common(),
      method: 'POST',
      path: 'renewals',
      body: { csr },
      clientCert,
    });
  }

  #common(): { caPem: string; timeoutMs?: number } {
    return {
      caPem: this.#caPem,
      ...(this.#timeoutMs === undefined ? {} : { timeoutMs: this.#timeoutMs }),
    };
  }
}
