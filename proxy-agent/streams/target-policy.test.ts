import { describe, expect, it } from 'vitest';

import type { TargetDecision, TargetPolicy } from './target-policy.ts';
import { resolveTarget } from './target-policy.ts';

const POLICY: TargetPolicy = {
  clusterName: 'c1',
  kubeApiserver: { host: '127.0.0.1', port: 6443 },
  allow: new Set(['prometheus.monitoring:9090', '10.0.0.7:8080', '[fd00::1]:53']),
};

const API = { isAllowed: true, target: { host: '127.0.0.1', port: 6443 }, kind: 'kube-apiserver' };

describe('resolveTarget', () => {
  it.each<{ name: string; address: string; expected: TargetDecision }>([
    { name: 'cluster name, any port', address: 'c1:443', expected: API as TargetDecision },
    { name: 'cluster name, other port', address: 'c1:1', expected: API as TargetDecision },
    { name: 'cluster name, upper case', address: 'C1:443', expected: API as TargetDecision },
    { name: 'kube-apiserver', address: 'kube-apiserver:6443', expected: API as TargetDecision },
    {
      name: 'kube-apiserver, trailing dot',
      address: 'kube-apiserver.:443',
      expected: API as TargetDecision,
    },
    {
      name: 'allow-listed DNS name',
      address: 'Prometheus.Monitoring:9090',
      expected: {
        isAllowed: true,
        target: { host: 'Prometheus.Monitoring', port: 9090 },
        kind: 'allow-list',
      },
    },
    {
      name: 'allow-listed IPv4',
      address: '10.0.0.7:8080',
      expected: { isAllowed: true, target: { host: '10.0.0.7', port: 8080 }, kind: 'allow-list' },
    },
    {
      name: 'allow-listed IPv6',
      address: '[fd00::1]:53',
      expected: { isAllowed: true, target: { host: 'fd00::1', port: 53 }, kind: 'allow-list' },
    },
    {
      name: 'allow-listed host on another port',
      address: 'prometheus.monitoring:9091',
      expected: {
        isAllowed: false,
        reason: 'not-allowed',
        message: 'target prometheus.monitoring:9091 is not allowed on cluster c1',
      },
    },
    {
      name: 'another cluster',
      address: 'c2:443',
      expected: {
        isAllowed: false,
        reason: 'not-allowed',
        message: 'target c2:443 is not allowed on cluster c1',
      },
    },
    {
      name: 'a name under the cluster is not the API server',
      address: 'c1.default:443',
      expected: {
        isAllowed: false,
        reason: 'not-allowed',
        message: 'target c1.default:443 is not allowed on cluster c1',
      },
    },
    {
      name: 'the API server address itself is not implicitly allowed',
      address: '127.0.0.1:6443',
      expected: {
        isAllowed: false,
        reason: 'not-allowed',
        message: 'target 127.0.0.1:6443 is not allowed on cluster c1',
      },
    },
    {
      name: 'garbage',
      address: 'no-port',
      expected: {
        isAllowed: false,
        reason: 'bad-request',
        message: 'target "no-port" is not host:port',
      },
    },
  ])('$name', ({ address, expected }) => {
    expect(resolveTarget(address, POLICY)).toEqual(expected);
  });

  it.each<{ name: string; address: string; policy: TargetPolicy; expected: TargetDecision }>([
    {
      name: 'agent-api, on',
      address: 'agent-api:443',
      policy: { ...POLICY, agentApi: {} },
      expected: { isAllowed: true, kind: 'agent-api' },
    },
    {
      name: 'agent-api, any port, any case',
      address: 'Agent-API:1',
      policy: { ...POLICY, agentApi: {} },
      expected: { isAllowed: true, kind: 'agent-api' },
    },
    {
      name: 'agent-api, off',
      address: 'agent-api:443',
      policy: POLICY,
      expected: {
        isAllowed: false,
        reason: 'not-allowed',
        message: 'target agent-api:443 is not allowed on cluster c1: the agent API is off',
      },
    },
    {
      name: 'agent-api, off, even if allow-listed (the name is reserved)',
      address: 'agent-api:443',
      policy: { ...POLICY, allow: new Set(['agent-api:443']) },
      expected: {
        isAllowed: false,
        reason: 'not-allowed',
        message: 'target agent-api:443 is not allowed on cluster c1: the agent API is off',
      },
    },
    {
      name: 'a cluster named agent-api keeps its API server alias while the agent API is off',
      address: 'agent-api:443',
      policy: { ...POLICY, clusterName: 'agent-api' },
      expected: API as TargetDecision,
    },
  ])('$name', ({ address, policy, expected }) => {
    expect(resolveTarget(address, policy)).toEqual(expected);
  });
});
