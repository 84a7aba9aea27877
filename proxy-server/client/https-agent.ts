import type { ClientRequestArgs } from 'node:http';
import { Agent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

import type { TunnelClient } from './tunnel-client.ts';

/**
 * An `https.Agent` whose connections are tunnel streams to one cluster's target, with TLS end
 * to end (the agent's TLS options — `ca`, `cert`, `key`, `servername` — are the spoke's).
 * Keep-alive is on by default, so consecutive requests reuse one stream.
 */
export class TunnelHttpsAgent extends Agent {
  readonly cluster: string;
  readonly target: string;
  #client: TunnelClient;

  constructor(client: TunnelClient, cluster: string, target: string, options: AgentOptions = {}) {
    super({ keepAlive: true, ...options });
    this.#client = client;
    this.cluster = cluster;
    this.target = target;
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const done = callback ?? (() => {});
    this.#client.dial(this.cluster, this.target).then(
      (stream) => {
        const tlsOptions = options as ConnectionOptions;
        const socket = tlsConnect({ ...tlsOptions, socket: stream });
        done(null, socket);
      },
      (err: unknown) =>
        done(err instanceof Error ? err : new Error(String(err)), undefined as never),
    );
    return undefined;
  }
}
