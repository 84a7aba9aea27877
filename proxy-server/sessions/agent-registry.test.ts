import { describe, expect, it } from 'vitest';

import { AgentRegistry } from './agent-registry.ts';
import type { RoutableAgent } from './agent-registry.ts';

interface FakeAgent extends RoutableAgent {
  readonly name: string;
  isDraining: boolean;
  load: number;
}

function fake(name: string, cluster: string, extra: Partial<FakeAgent> = {}): FakeAgent {
  return { name, cluster, hosts: [cluster], isDraining: false, load: 0, ...extra };
}

function registryOf(agents: FakeAgent[], random = () => 0): AgentRegistry<FakeAgent> {
  const registry = new AgentRegistry<FakeAgent>({ random });
  for (const agent of agents) registry.add(agent);
  return registry;
}

function routed(registry: AgentRegistry<FakeAgent>, address: string, cluster?: string): string {
  const result = registry.route(address, cluster);
  return 'agent' in result ? result.agent.name : `${result.reason}: ${result.message}`;
}

describe('AgentRegistry.pick', () => {
  it.each([
    {
      name: 'prefers a non-draining agent over a less loaded draining one',
      agents: [fake('a1', 'a', { isDraining: true }), fake('a2', 'a', { load: 5 })],
      expected: 'a2',
    },
    {
      name: 'prefers the least loaded agent',
      agents: [
        fake('a1', 'a', { load: 3 }),
        fake('a2', 'a', { load: 1 }),
        fake('a3', 'a', { load: 2 }),
      ],
      expected: 'a2',
    },
    {
      name: 'falls back to a draining agent when it is the only one',
      agents: [fake('a1', 'a', { isDraining: true })],
      expected: 'a1',
    },
    {
      name: 'among draining agents, the least loaded',
      agents: [
        fake('a1', 'a', { isDraining: true, load: 4 }),
        fake('a2', 'a', { isDraining: true, load: 0 }),
      ],
      expected: 'a2',
    },
  ])('$name', ({ agents, expected }) => {
    expect(routed(registryOf(agents), 'a:443', 'a')).toBe(expected);
  });

  it('breaks ties at random', () => {
    const agents = [fake('a1', 'a'), fake('a2', 'a'), fake('a3', 'a')];
    expect(
      routed(
        registryOf(agents, () => 0),
        'x:1',
        'a',
      ),
    ).toBe('a1');
    expect(
      routed(
        registryOf(agents, () => 0.5),
        'x:1',
        'a',
      ),
    ).toBe('a2');
    expect(
      routed(
        registryOf(agents, () => 0.99),
        'x:1',
        'a',
      ),
    ).toBe('a3');
  });
});

describe('AgentRegistry.route', () => {
  const registry = registryOf([
    fake('a1', 'a', { hosts: ['a', 'a.ns', 'a.svc.local'] }),
    fake('b1', 'b'),
    fake('ab1', 'ab'),
  ]);

  it.each([
    {
      name: 'explicit cluster, address not interpreted',
      address: 'kube-apiserver:443',
      cluster: 'b',
      expected: 'b1',
    },
    {
      name: 'explicit cluster without agents',
      address: 'a:443',
      cluster: 'zz',
      expected: 'no-agent: No agent available for cluster "zz"',
    },
    { name: 'destHost: the cluster name', address: 'a:6443', expected: 'a1' },
    { name: 'destHost: an alias', address: 'a.ns:443', expected: 'a1' },
    {
      name: 'destHost: case-insensitive, trailing dot',
      address: 'A.SVC.Local.:443',
      expected: 'a1',
    },
    {
      name: 'destHost: no prefix matching',
      address: 'a.other:443',
      expected: 'no-agent: No agent available for host "a.other"',
    },
    { name: 'destHost: another cluster whose name starts alike', address: 'ab:1', expected: 'ab1' },
    {
      name: 'destHost: IPs are never identifiers',
      address: '10.0.0.1:443',
      expected: 'no-agent: No agent available for host "10.0.0.1"',
    },
    {
      name: 'bad address',
      address: 'no-port',
      expected: 'bad-request: dial address "no-port" is not host:port: missing port',
    },
  ])('$name', ({ address, cluster, expected }) => {
    expect(routed(registry, address, cluster)).toBe(expected);
  });

  it('forgets an agent on remove, and add/remove are idempotent', () => {
    const a1 = fake('a1', 'a', { hosts: ['a', 'a.ns'] });
    const r = registryOf([a1]);
    r.add(a1);
    expect(r.size).toBe(1);
    expect(r.remove(a1)).toBe(true);
    expect(r.remove(a1)).toBe(false);
    expect(r.size).toBe(0);
    expect(routed(r, 'a.ns:1')).toBe('no-agent: No agent available for host "a.ns"');
    expect(r.agentsOf('a')).toEqual([]);
  });
});

describe('AgentRegistry presence', () => {
  it('counts a cluster as reachable while one of its agents is not draining', () => {
    const a1 = fake('a1', 'a');
    const a2 = fake('a2', 'a');
    const b1 = fake('b1', 'b', { isDraining: true });
    const registry = registryOf([a1, a2, b1]);
    expect(registry.hasCluster('a')).toBe(true);
    expect(registry.hasCluster('b')).toBe(false);
    expect(registry.hasCluster('c')).toBe(false);
    expect([...registry.clusters()]).toEqual(['a']);

    a1.isDraining = true;
    expect(registry.hasCluster('a')).toBe(true);
    a2.isDraining = true;
    expect(registry.hasCluster('a')).toBe(false);
    expect(registry.clusters().size).toBe(0);
    // Still routable as a last resort (ANP), and still listed.
    expect(routed(registry, 'x:443', 'a')).toMatch(/^a[12]$/);
    expect(registry.size).toBe(3);
  });
});
