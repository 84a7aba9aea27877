// Agents come and go: restart, drain, several per cluster, identity checks.
import { describe, expect, it } from 'vitest';

import { startProxyAgent } from '../../proxy-agent/index.ts';
import { eventually } from '../framework/kubectl.ts';
import { testPki } from '../framework/pki.ts';
import { startEchoTarget } from '../framework/targets.ts';
import { startTunnelRig } from '../framework/tunnel-rig.ts';

describe('tunnel agents', () => {
  it('reconnects an agent that restarted, and dials work again', async () => {
    const echo = await startEchoTarget();
    const cluster = { name: 'c1', kubeApiserver: echo.address };
    const rig = await startTunnelRig({ transport: 'grpc', clusters: [cluster] });
    await rig.agents.get('c1')?.[0]?.close();
    await eventually('the server to drop the agent', async () =>
      rig.server.agents().length === 0 ? true : undefined,
    );
    await rig.addAgent(cluster, 'a0');
    const stream = await rig.client.dial('c1', 'kube-apiserver');
    stream.end('ping');
    let echoed = '';
    for await (const chunk of stream) echoed += String(chunk);
    expect(echoed).toBe('ping');
  });

  it('moves new dials to the other agent of a cluster when one drains', async () => {
    const echo = await startEchoTarget();
    const rig = await startTunnelRig({
      transport: 'websocket',
      clusters: [{ name: 'c1', kubeApiserver: echo.address, agents: 2 }],
    });
    const [a0, a1] = rig.agents.get('c1') ?? [];
    if (!a0 || !a1) throw new Error('two agents expected');
    // One open stream on each agent (the server picks the agent with the fewest streams), so
    // that a0 stays connected while it drains.
    const held = await Promise.all([
      rig.client.dial('c1', 'kube-apiserver'),
      rig.client.dial('c1', 'kube-apiserver'),
    ]);
    expect([a0.stats().openStreams, a1.stats().openStreams]).toEqual([1, 1]);
    const draining = a0.drain({ timeoutMs: 5_000 });
    await eventually('the server to see the drain', async () =>
      rig.server.agents().some((a) => a.agentId === 'c1/a0' && a.isDraining) ? true : undefined,
    );
    const streams = await Promise.all(
      Array.from({ length: 5 }, () => rig.client.dial('c1', 'kube-apiserver')),
    );
    expect(a1.stats().openStreams).toBe(6);
    expect(a0.stats().openStreams).toBe(1);
    for (const s of [...streams, ...held]) s.destroy();
    await draining;
    expect(a0.connections()).toEqual([]);
  });

  it('refuses an agent whose certificate names cluster A while it claims cluster B', async () => {
    const echo = await startEchoTarget();
    const rig = await startTunnelRig({
      transport: 'grpc',
      clusters: [{ name: 'a', kubeApiserver: echo.address }],
    });
    const pki = testPki();
    const certForA = pki.agent('a', 'x1');
    const errors: string[] = [];
    const impostor = startProxyAgent({
      clusterName: 'b',
      agentName: 'x1',
      servers: [rig.server.addresses.agentGrpc as string],
      transport: 'grpc',
      tls: {
        certPem: certForA.certPem,
        keyPem: certForA.keyPem,
        caPem: pki.ca.certPem,
        serverName: 'localhost',
      },
      kubeApiserver: echo.address,
      backoff: { initialMs: 50, maxMs: 200 },
      health: false,
      logger: {
        error: (msg, fields) => errors.push(`${msg} ${JSON.stringify(fields)}`),
        warn: () => {},
        info: () => {},
        debug: () => {},
      },
    });
    try {
      await eventually('the refusal to be logged', async () =>
        errors.length > 0 ? true : undefined,
      );
      expect(errors.join('\n')).toMatch(/cluster/i);
      expect(impostor.connections()).toEqual([]);
      expect(rig.server.agents().map((a) => a.cluster)).toEqual(['a']);
    } finally {
      await impostor.close();
    }
  });
});
