import { Buffer } from 'node:buffer';

import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch, type Dispatcher } from 'undici';

/** What an API server answered: the HTTP status and the body as text. */
export interface KubeResponse {
  readonly status: number;
  readonly body: string;
}

/** Options of {@link kubeGet}. */
export interface KubeGetOptions {
  /** Deadline of the whole call (dial, headers and body), in ms. */
  readonly timeoutMs: number;
  /** Largest body read; default 4 MiB. */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/**
 * A one-line text for a failure, without payloads: an API error of client-node (`ApiException`,
 * whose own message embeds the response body and headers) as `HTTP <code>: <Status message>`;
 * anything else with the causes fetch hides behind "fetch failed" (e.g. a dial's `no-agent`).
 */
export function describeError(err: unknown): string {
  const { code, body } = (err ?? {}) as { code?: unknown; body?: unknown };
  if (typeof code === 'number' && body !== undefined) {
    let message: unknown;
    try {
      message = (typeof body === 'string' ? JSON.parse(body) : body)?.message;
    } catch {
      message = undefined;
    }
    return typeof message === 'string' ? `HTTP ${code}: ${message}` : `HTTP ${code}`;
  }
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) {
    if (!parts.includes(e.message)) parts.push(e.message);
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}

/**
 * GET `path` (with its query) on the API server of `kubeConfig`, with whatever transport and
 * credentials that config applies to client-node's own calls: a plain kubeconfig, a
 * `TunnelKubeConfig`, or a proxy-server `SpokeKubeConfig` (through the tunnel and the agent
 * API, as the hub controllers' identity). Unlike the typed clients it hands back any status
 * (e.g. /readyz's 500) instead of throwing. Rejects when the server cannot be reached, after
 * `timeoutMs`, or when the body exceeds `maxBytes`; the message names the path and the cause
 * (never the body). Each call may reuse pooled connections of the config.
 */
export async function kubeGet(
  kubeConfig: KubeConfig,
  path: string,
  options: KubeGetOptions,
): Promise<KubeResponse> {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error(`GET ${path}: the kubeconfig has no current cluster`);
  const url = `${cluster.server.replace(/\/+$/, '')}${path}`;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  try {
    const context = new RequestContext(url, HttpMethod.GET);
    context.setHeaderParam('Accept', 'application/json');
    await kubeConfig.applySecurityAuthentication(context);
    const dispatcher = context.getDispatcher() as Dispatcher | undefined;
    const answer = await fetch(url, {
      headers: context.getHeaders(),
      signal: AbortSignal.timeout(options.timeoutMs),
      ...(dispatcher === undefined ? {} : { dispatcher }),
    });
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of answer.body ?? []) {
      size += (chunk as Uint8Array).byteLength;
      if (size > maxBytes) throw new Error(`the body exceeds ${maxBytes} bytes`);
      chunks.push(chunk as Uint8Array);
    }
    return { status: answer.status, body: Buffer.concat(chunks).toString('utf8') };
  } catch (err: unknown) {
    throw new Error(`GET ${path}: ${describeError(err)}`, { cause: err });
  }
}
