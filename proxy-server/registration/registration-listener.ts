/**
 * The registration listener: `https://host:port/registration/v1/…` (protocol/registration.ts),
 * through which a spoke's agent gets its client certificate from the hub with nothing but the
 * proxy-server's address — a spoke needs no route to the hub API server. HTTPS with the
 * serving certificate; a client certificate is asked for but optional (renewals present one, a
 * first registration presents a bootstrap token instead). HTTP only here: every decision is the
 * {@link RegistrationBackend}'s.
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';

import {
  MAX_REGISTRATION_BODY_BYTES,
  REGISTRATION_ERROR_STATUS,
  REGISTRATION_PATH,
} from '../../protocol/index.ts';
import type { RegistrationErrorBody, RegistrationErrorCode } from '../../protocol/index.ts';

import { errorMessage } from '../errors.ts';
import { SocketTracker, closeNodeServer, listenNodeServer } from '../listen.ts';
import type { Logger } from '../logger.ts';
import type { ResolvedListen, ResolvedOptions } from '../options.ts';
import { RegistrationError } from './registration-backend.ts';
import type { RegistrationBackend, RegistrationCaller } from './registration-backend.ts';

/** A client must send its whole request head within this time, in ms. */
const HEADERS_TIMEOUT_MS = 10_000;
/** …and its whole request within this time (the backend may then take its own time). */
const REQUEST_TIMEOUT_MS = 30_000;
const REQUEST_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Options of {@link RegistrationListener.start}. */
export interface RegistrationListenerOptions {
  readonly listen: ResolvedListen;
  readonly tls: ResolvedOptions['tls'];
  readonly backend: RegistrationBackend;
  readonly logger: Logger;
  /** Counts answers by endpoint and code ('ok' for success). */
  readonly onAnswer?: (endpoint: string, code: string) => void;
}

/** A running registration listener; `close()` and `destroy()` are idempotent. */
export class RegistrationListener {
  /** `https://host:port` (append {@link REGISTRATION_PATH}). */
  readonly address: string;
  readonly #server: HttpsServer;
  readonly #sockets: SocketTracker;

  private constructor(server: HttpsServer, sockets: SocketTracker, address: string) {
    this.#server = server;
    this.#sockets = sockets;
    this.address = address;
  }

  /** Binds and serves. Rejects with ServerError `SERVER_ERR_LISTEN`. */
  static async start(options: RegistrationListenerOptions): Promise<RegistrationListener> {
    const server = createHttpsServer({
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      ca: options.tls.caPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      maxHeaderSize: 16 * 1024,
    });
    const sockets = new SocketTracker(server);
    server.on('tlsClientError', (err: Error) => {
      options.logger.debug('registration tls handshake failed', { error: err.message });
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void handle(req, res, options);
    });
    const hostPort = await listenNodeServer(server, options.listen, 'registration');
    return new RegistrationListener(server, sockets, `https://${hostPort}`);
  }

  /** Stops accepting; resolves once open connections have ended. */
  close(): Promise<void> {
    this.#server.closeIdleConnections();
    return closeNodeServer(this.#server);
  }

  /** Ends every connection now. */
  destroy(): void {
    this.#server.close();
    this.#sockets.destroyAll();
  }
}

function callerOf(req: IncomingMessage): RegistrationCaller {
  const socket = req.socket as TLSSocket;
  const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  const auth = req.headers.authorization;
  const bearer = auth !== undefined && /^Bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
  let certificate: RegistrationCaller['certificate'];
  if (socket.authorized) {
    const x509 = socket.getPeerX509Certificate();
    const cn = socket.getPeerCertificate().subject?.CN;
    const commonName = Array.isArray(cn) ? cn[cn.length - 1] : cn;
    if (x509 !== undefined && typeof commonName === 'string') {
      certificate = { commonName, certPem: x509.toString() };
    }
  }
  return {
    peer,
    ...(bearer === undefined || bearer === '' ? {} : { token: bearer }),
    ...(certificate === undefined ? {} : { certificate }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: RegistrationListenerOptions,
): Promise<void> {
  res.on('error', () => undefined);
  const url = new URL(req.url ?? '/', 'https://registration.invalid');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  let endpoint = 'unknown';
  try {
    const caller = callerOf(req);
    const { backend } = options;
    let answer: unknown;
    let status = 200;
    if (!path.startsWith(`${REGISTRATION_PATH}/`)) {
      throw new RegistrationError('REG_ERR_NOT_FOUND', `no registration endpoint at ${path}`);
    }
    const rest = path.slice(REGISTRATION_PATH.length + 1);
    if (rest === 'discovery' && method === 'GET') {
      endpoint = 'discovery';
      const tokenId = url.searchParams.get('tokenID') ?? '';
      if (!/^[a-z0-9]{6}$/.test(tokenId)) {
        throw new RegistrationError(
          'REG_ERR_INVALID_REQUEST',
          'discovery needs ?tokenID=<the 6-character id of a bootstrap token>',
        );
      }
      answer = await backend.discovery(tokenId, caller);
    } else if (rest === 'requests' && method === 'POST') {
      endpoint = 'submit';
      const body = await readJson(req);
      answer = await backend.submit(
        {
          clusterName: stringField(body, 'clusterName'),
          agentName: stringField(body, 'agentName'),
          csr: stringField(body, 'csr'),
        },
        caller,
      );
      status = 201;
    } else if (rest === 'renewals' && method === 'POST') {
      endpoint = 'renew';
      const body = await readJson(req);
      answer = await backend.renew({ csr: stringField(body, 'csr') }, caller);
      status = 201;
    } else if (rest.startsWith('requests/') && method === 'GET') {
      endpoint = 'status';
      const name = rest.slice('requests/'.length);
      if (!REQUEST_NAME.test(name)) {
        throw new RegistrationError('REG_ERR_NOT_FOUND', 'no such registration request');
      }
      answer = await backend.status(name, caller);
    } else {
      throw new RegistrationError(
        'REG_ERR_NOT_FOUND',
        `no registration endpoint ${method} ${path}`,
      );
    }
    options.onAnswer?.(endpoint, 'ok');
    sendJson(res, status, answer);
  } catch (err: unknown) {
    let code: RegistrationErrorCode;
    let message: string;
    if (err instanceof RegistrationError) {
      code = err.code;
      message = err.message;
      options.logger.info('registration refused', { endpoint, code, message });
    } else {
      code = 'REG_ERR_UNAVAILABLE';
      message = 'the hub could not handle the registration request; retry later';
      options.logger.warn('registration failed', { endpoint, error: errorMessage(err) });
    }
    options.onAnswer?.(endpoint, code);
    const body: RegistrationErrorBody = { code, message };
    sendJson(res, REGISTRATION_ERROR_STATUS[code], body, code === 'REG_ERR_TOO_LARGE');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(text);
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') {
    throw new RegistrationError(
      'REG_ERR_INVALID_REQUEST',
      `the request body needs a non-empty string "${name}"`,
    );
  }
  return value;
}

/** Reads a JSON object body of at most MAX_REGISTRATION_BODY_BYTES. */
function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_REGISTRATION_BODY_BYTES) {
      reject(tooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let isDone = false;
    req.on('data', (chunk: Buffer) => {
      if (isDone) return;
      size += chunk.length;
      if (size > MAX_REGISTRATION_BODY_BYTES) {
        isDone = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err: Error) => {
      if (isDone) return;
      isDone = true;
      reject(err);
    });
    req.on('end', () => {
      if (isDone) return;
      isDone = true;
      let value: unknown;
      try {
        value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err: unknown) {
        reject(
          new RegistrationError(
            'REG_ERR_INVALID_REQUEST',
            `the request body is not JSON: ${errorMessage(err)}`,
          ),
        );
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        reject(
          new RegistrationError(
            'REG_ERR_INVALID_REQUEST',
            'the request body must be a JSON object',
          ),
        );
        return;
      }
      resolve(value as Record<string, unknown>);
    });
  });
}

function tooLarge(): RegistrationError {
  return new RegistrationError(
    'REG_ERR_TOO_LARGE',
    `the request body exceeds ${MAX_REGISTRATION_BODY_BYTES} bytes`,
  );
}
