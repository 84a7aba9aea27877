import { onTestFinished } from 'vitest';

import type { ExtensionName } from '../../protocol/index.ts';
import { type AgentApiOptions, type ProxyAgent, startProxyAgent } from '../../proxy-agent/index.ts';
import { createTunnelClient, type TunnelClient } from '../../proxy-server/client/index.ts';
import {
  type ProxyServer,
  type ProxyServerOptions,
  startProxyServer,
} from '../../proxy-server/index.ts';
import { eventually } from './kubectl.ts';
import { testPki } from './pki.ts';

export type Transport = 'grpc' | 'websocket';

export interface RigCluster {
  name: string;
  /** `host:port` the agent maps `<cluster>` and `kube-apiserver` to. */
  kubeApiserver: string;
  allow?: string[];
  /** Agents for this cluster (default 1), named a0, a1, … */
  agents?: number;
  /** Serve the `agent-api` target (the agent API proxy) with these options. */
  agentApi?: AgentApiOptions;
}

export interface TunnelRigOptions {
  /** The agents' transport. */
  transport: Transport;
  /** How the tunnel client reaches the server's frontend; default 'grpc'. */
  clientTransport?: Transport;
  clusters: RigCluster[];
  serverExtensions?: readonly ExtensionName[];
  agentExtensions?: readonly ExtensionName[];
  clientExtensions?: readonly ExtensionName[];
  /** Passed to the proxy-server as is: turns the cluster gateway on. */
  gateway?: ProxyServerOptions['gateway'];
}

const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

/**
 * A proxy-server, agents for each cluster and a tunnel client, all in this process over real
 * loopback sockets with mTLS from the test CA. Everything is closed after the test, and the
 * rig's `assertIdle()` checks that no stream or dial is left anywhere.
 */
export interface TunnelRig {
  server: ProxyServer;
  agents: Map<string, ProxyAgent[]>;
  client: TunnelClient;
  transport: Transport;
  clientTransport: Transport;
  /** Starts one more agent for `cluster` (e.g. after stopping one). */
  addAgent(cluster: RigCluster, agentName: string): Promise<ProxyAgent>;
  /** Waits until server, agents and client report no open streams and no pending dials. */
  assertIdle(): Promise<void>;
  close(): Promise<void>;
}

export async function startTunnelRig(options: TunnelRigOptions): Promise<TunnelRig> {
  const pki = testPki();
  const server = await startProxyServer({
    tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem },
    logger: quiet,
    ...(options.serverExtensions === undefined ? {} : { extensions: options.serverExtensions }),
    ...(options.gateway === undefined ? {} : { gateway: options.gateway }),
  });
  const agents = new Map<string, ProxyAgent[]>();
  const agentServer =
    options.transport === 'grpc' ? server.addresses.agentGrpc : server.addresses.agentWebSocket;
  if (!agentServer) throw new Error(`the proxy-server has no ${options.transport} agent listener`);

  const addAgent = async (cluster: RigCluster, agentName: string): Promise<ProxyAgent> => {
    const cert = pki.agent(cluster.name, agentName);
    const agent = startProxyAgent({
      clusterName: cluster.name,
      agentName,
      servers: [agentServer],
      transport: options.transport,
      tls: {
        certPem: cert.certPem,
        keyPem: cert.keyPem,
        caPem: pki.ca.certPem,
        serverName: 'localhost',
      },
      kubeApiserver: cluster.kubeApiserver,
      allow: cluster.allow ?? [],
      ...(cluster.agentApi === undefined ? {} : { agentApi: cluster.agentApi }),
      backoff: { initialMs: 50, maxMs: 500 },
      health: false,
      logger: quiet,
      ...(options.agentExtensions === undefined ? {} : { extensions: options.agentExtensions }),
    });
    const list = agents.get(cluster.name) ?? [];
    list.push(agent);
    agents.set(cluster.name, list);
    await agent.ready();
    return agent;
  };

  for (const cluster of options.clusters) {
    for (let i = 0; i < (cluster.agents ?? 1); i++) await addAgent(cluster, `a${i}`);
  }
  const clientTransport = options.clientTransport ?? 'grpc';
  const frontend =
    clientTransport === 'grpc' ? server.addresses.frontendGrpc : server.addresses.frontendWebSocket;
  if (!frontend) throw new Error(`the proxy-server has no ${clientTransport} frontend`);
  const client = createTunnelClient({
    server: frontend,
    transport: clientTransport,
    tls: {
      certPem: pki.hubClient.certPem,
      keyPem: pki.hubClient.keyPem,
      caPem: pki.ca.certPem,
      serverName: 'localhost',
    },
    ...(options.clientExtensions === undefined ? {} : { extensions: options.clientExtensions }),
  });

  let closed: Promise<void> | undefined;
  const rig: TunnelRig = {
    server,
    agents,
    client,
    transport: options.transport,
    clientTransport,
    addAgent,
    async assertIdle() {
      await eventually(
        'the tunnel to be idle',
        async () => {
          const parts = [
            server.stats(),
            client.stats(),
            ...[...agents.values()].flat().map((a) => a.stats()),
          ];
          return parts.every((s) => s.openStreams === 0 && s.pendingDials === 0) ? true : undefined;
        },
        10_000,
        50,
      );
    },
    close() {
      closed ??= (async () => {
        client.destroy();
        await Promise.all([...agents.values()].flat().map((a) => a.close()));
        await server.close();
      })();
      return closed;
    },
  };
  onTestFinished(() => rig.close());
  return rig;
}
