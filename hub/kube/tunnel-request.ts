import { request as httpRequest } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

import type { KubeConfig } from '@kubernetes/client-node';

/** Dials a cluster's target through the tunnel: `ProxyServer.dial` or a `TunnelClient`. */
export interface TunnelDialer {
  dial(cluster: string, address: string): Promise<Duplex>;
}

/** The dial address that means "this cluster's own kube-apiserver" (the agent maps it). */
export const KUBE_APISERVER_ADDRESS = 'kube-apiserver:443';

/** What a spoke answered: the HTTP status and the body as text. */
export interface TunnelResponse {
  readonly status: number;
  readonly body: string;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * GET `path` on `cluster`'s kube-apiserver through the tunnel, with TLS end to end and the
 * credentials and CA of `spoke` (the spoke's kubeconfig: its `server` URL gives the TLS name,
 * or its `tls-server-name`). One tunnel stream per call, closed when the call settles;
 * rejects on dial, TLS or HTTP errors, after `timeoutMs`, and for bodies over 4 MiB.
 */
export async function tunnelGet(
  dialer: TunnelDialer,
  cluster: string,
  spoke: KubeConfig,
  path: string,
  timeoutMs: number,
): Promise<TunnelResponse> {
  const opts: RequestOptions = {};
  await spoke.applyToHTTPSOptions(opts);
  const server = spoke.getCurrentCluster();
  if (server === null) throw new Error(`the kubeconfig for ${cluster} has no current cluster`);
  const url = new URL(server.server);
  const tls: ConnectionOptions = { host: url.hostname };
  if (opts.ca !== undefined) tls.ca = opts.ca;
  if (opts.cert !== undefined) tls.cert = opts.cert;
  if (opts.key !== undefined) tls.key = opts.key;
  if (opts.rejectUnauthorized !== undefined) tls.rejectUnauthorized = opts.rejectUnauthorized;
  const servername = server.tlsServerName ?? opts.servername;
  const isIp = /^[\d.]+$|:/.test(url.hostname);
  if (servername !== undefined && servername !== '') tls.servername = servername;
  else if (!isIp) tls.servername = url.hostname;
  const headers: Record<string, string> = { accept: 'application/json', connection: 'close' };
  for (const [key, value] of Object.entries(opts.headers ?? {})) {
    if (typeof value === 'string') headers[key.toLowerCase()] = value;
  }

  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`GET ${path} on ${cluster} timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  let stream: Duplex | undefined;
  let socket: TLSSocket | undefined;
  try {
    const dialing = dialer.dial(cluster, KUBE_APISERVER_ADDRESS);
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error));
    });
    aborted.catch(() => {});
    try {
      stream = await Promise.race([dialing, aborted]);
    } catch (err: unknown) {
      // A dial that completes after the timeout must not leak its stream.
      dialing.then(
        (late) => late.destroy(),
        () => {},
      );
      throw err;
    }
    stream.on('error', () => {}); // surfaced through the TLS socket
    const tunnel = stream;
    return await new Promise<TunnelResponse>((resolve, reject) => {
      socket = tlsConnect({ ...tls, socket: tunnel });
      socket.on('error', reject);
      const tlsSocket = socket;
      const req = httpRequest({
        method: 'GET',
        path,
        host: url.hostname,
        headers,
        createConnection: () => tlsSocket,
        signal: controller.signal,
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('error', reject);
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) req.destroy(new Error(`GET ${path}: body too large`));
          else chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      });
      req.end();
    });
  } finally {
    clearTimeout(timer);
    (socket as TLSSocket | undefined)?.destroy();
    stream?.destroy();
  }
}
