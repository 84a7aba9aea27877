import type { RequestOptions } from 'node:https';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

import { KubeConfig } from '@kubernetes/client-node';
import { Agent as UndiciAgent, type Dispatcher } from 'undici';

import { TunnelHttpsAgent } from './https-agent.ts';
import { KUBE_APISERVER_TARGET } from './constants.ts';
import type { TunnelClient } from './tunnel-client.ts';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];

/**
 * A @kubernetes/client-node `KubeConfig` whose every request — API calls, watches, and the
 * WebSocket verbs — travels through the tunnel to `cluster`'s own kube-apiserver. Credentials
 * and the CA come from `base` (the spoke's: TLS is end to end, the hub never sees plaintext);
 * its `server` URL is kept only for paths and TLS server-name checks.
 */
export class TunnelKubeConfig extends KubeConfig {
  readonly cluster: string;
  #client: TunnelClient;
  #dispatcher: Dispatcher | undefined;
  #agent: TunnelHttpsAgent | undefined;

  constructor(client: TunnelClient, cluster: string, base: KubeConfig) {
    super();
    this.#client = client;
    this.cluster = cluster;
    this.loadFromString(base.exportConfig());
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setDispatcher((this.#dispatcher ??= await this.#createDispatcher()) as never);
  }

  override async applyToHTTPSOptions(
    opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0],
  ): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    (opts as RequestOptions).agent = this.#agent ??= new TunnelHttpsAgent(
      this.#client,
      this.cluster,
      KUBE_APISERVER_TARGET,
      await this.#tlsOptions(),
    );
  }

  /** Closes the pooled connections (streams) this config holds. Idempotent. */
  async close(): Promise<void> {
    this.#agent?.destroy();
    await this.#dispatcher?.close();
  }

  async #tlsOptions(): Promise<ConnectionOptions> {
    const opts: RequestOptions = {};
    await super.applyToHTTPSOptions(opts);
    const tls: ConnectionOptions = {};
    if (opts.ca !== undefined) tls.ca = opts.ca;
    if (opts.cert !== undefined) tls.cert = opts.cert;
    if (opts.key !== undefined) tls.key = opts.key;
    if (opts.servername !== undefined) tls.servername = opts.servername;
    if (opts.rejectUnauthorized !== undefined) tls.rejectUnauthorized = opts.rejectUnauthorized;
    return tls;
  }

  async #createDispatcher(): Promise<Dispatcher> {
    const tls = await this.#tlsOptions();
    return new UndiciAgent({
      connect: (options, callback) => {
        this.#client.dial(this.cluster, KUBE_APISERVER_TARGET).then(
          (stream) => {
            const isIp = /^[\d.]+$|:/.test(options.hostname);
            const servername = tls.servername ?? (isIp ? undefined : options.hostname);
            const socket = tlsConnect({
              ...tls,
              socket: stream,
              host: options.hostname,
              ...(servername === undefined ? {} : { servername }),
            });
            const onError = (err: Error) => callback(err, null);
            socket.once('error', onError);
            socket.once('secureConnect', () => {
              socket.off('error', onError);
              callback(null, socket);
            });
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
        );
      },
    });
  }
}
