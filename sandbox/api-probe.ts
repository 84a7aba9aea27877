import { request } from 'node:https';

/** Credentials to reach a control plane's API server as its admin. */
export interface AdminCredentials {
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

const PROBE_TIMEOUT_MS = 5_000;

/**
 * One request to the API server with the admin client certificate (unauthenticated /readyz
 * answers 403 while RBAC bootstraps, so readiness is probed over mTLS). Never throws: network
 * errors come back as status 0 with the message as body. `body` is sent as JSON.
 */
export function apiRequest(
  creds: AdminCredentials,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const url = new URL(path, creds.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        ca: creds.caPem,
        cert: creds.certPem,
        key: creds.keyPem,
        agent: false,
        timeout: PROBE_TIMEOUT_MS,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (err) => resolve({ status: 0, body: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end(payload);
  });
}

/** `apiRequest(creds, 'GET', path)`. */
export function apiGet(
  creds: AdminCredentials,
  path: string,
): Promise<{ status: number; body: string }> {
  return apiRequest(creds, 'GET', path);
}
