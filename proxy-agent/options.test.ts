import { describe, expect, it } from 'vitest';

import { createCa } from '../certs/index.ts';
import { AgentError } from './errors.ts';
import { silentLogger } from './logger.ts';
import type { ProxyAgentOptions } from './options.ts';
import { validateOptions } from './options.ts';

const BASE: ProxyAgentOptions = {
  clusterName: 'c1',
  agentName: 'a0',
  servers: ['hub.example:8091'],
  transport: 'grpc',
  tls: { certPem: 'CERT', keyPem: 'KEY', caPem: 'CA' },
  kubeApiserver: '127.0.0.1:6443',
  logger: silentLogger,
};

// One CA certificate (one RSA key) for the agentApi CA bundle checks.
const API_CA_PEM = createCa({ commonName: 'spoke api ca' }).certPem;

describe('validateOptions', () => {
  it('applies the documented defaults', () => {
    const resolved = validateOptions(BASE);
    expect(resolved).toMatchObject({
      agentId: 'c1/a0',
      commonName: 'spokelink:agent:c1:a0',
      kubeApiserver: { host: '127.0.0.1', port: 6443 },
      dialTimeoutMs: 10_000,
      backoff: { initialMs: 1000, maxMs: 30_000, multiplier: 1.6, jitter: 0.2 },
      extensions: [
        'flow-control',
        'half-close',
        'error-codes',
        'ping',
        'stream-id',
        'initial-window-64k',
      ],
      health: { host: '127.0.0.1', port: 0 },
      identifiersValue: 'host=c1',
    });
    expect([...resolved.allow]).toEqual([]);
  });

  it('normalizes the allow-list and merges identifiers', () => {
    const resolved = validateOptions({
      ...BASE,
      allow: ['Prometheus.Monitoring:9090', '[FD00::1]:53'],
      identifiers: { host: ['c1', 'C1.NS'], ipv4: ['10.0.0.5'], defaultRoute: true },
      extensions: [],
      health: false,
    });
    expect([...resolved.allow]).toEqual(['prometheus.monitoring:9090', '[fd00::1]:53']);
    expect(resolved.identifiersValue).toBe('default-route=true&host=c1&host=c1.ns&ipv4=10.0.0.5');
    expect(resolved.extensions).toEqual([]);
    expect(resolved.health).toBe(false);
  });

  it('leaves the agent API off by default and applies its prefix default', () => {
    expect(validateOptions(BASE).agentApi).toBeUndefined();
    expect(
      validateOptions({
        ...BASE,
        agentApi: { tokenFile: '/var/run/token', kubeApiserverCaPem: API_CA_PEM },
      }).agentApi,
    ).toEqual({
      tokenFile: '/var/run/token',
      kubeApiserverCaPem: API_CA_PEM,
      identityPrefix: 'spokelink:hub:',
    });
  });

  it('accepts wss:// servers for the websocket transport', () => {
    const resolved = validateOptions({
      ...BASE,
      transport: 'websocket',
      servers: ['wss://hub:443/tunnel'],
    });
    expect(resolved.servers).toEqual(['wss://hub:443/tunnel']);
  });

  it.each<{ name: string; patch: Partial<ProxyAgentOptions>; message: string }>([
    {
      name: 'bad cluster name',
      patch: { clusterName: 'C_1' },
      message: 'cluster name "C_1" is not a DNS label',
    },
    {
      name: 'empty agent name',
      patch: { agentName: '' },
      message: 'agentName must be a non-empty string',
    },
    {
      name: 'no servers',
      patch: { servers: [] },
      message: 'servers must list at least one address',
    },
    {
      name: 'grpc server without port',
      patch: { servers: ['hub'] },
      message: 'servers[0] "hub" is not host:port',
    },
    {
      name: 'ws:// without TLS',
      patch: { transport: 'websocket', servers: ['ws://hub/tunnel'] },
      message: 'servers[0] "ws://hub/tunnel" must be a wss:// URL (TLS is required)',
    },
    {
      name: 'unknown transport',
      patch: { transport: 'quic' as 'grpc' },
      message: 'transport must be "grpc" or "websocket", got "quic"',
    },
    {
      name: 'missing key',
      patch: { tls: { certPem: 'C', keyPem: '', caPem: 'A' } },
      message: 'tls.keyPem must be a non-empty string',
    },
    {
      name: 'bad apiserver',
      patch: { kubeApiserver: '127.0.0.1' },
      message: 'kubeApiserver "127.0.0.1" is not host:port',
    },
    {
      name: 'bad allow entry',
      patch: { allow: ['ok:1', 'nope'] },
      message: 'allow[1] "nope" is not host:port',
    },
    {
      name: 'identifier host of another cluster',
      patch: { identifiers: { host: ['c2'] } },
      message: 'identifiers.host "c2" must be "c1" or start with "c1."',
    },
    {
      name: 'dial timeout 0',
      patch: { dialTimeoutMs: 0 },
      message: 'dialTimeoutMs must be a number > 0',
    },
    {
      name: 'bad backoff',
      patch: { backoff: { jitter: 2 } },
      message: 'backoff.jitter must be a number in [0, 1]',
    },
    {
      name: 'unknown extension',
      patch: { extensions: ['teleport' as 'ping'] },
      message: 'extensions: unknown extension "teleport"',
    },
    {
      name: 'agentApi without a token file',
      patch: { agentApi: { tokenFile: '', kubeApiserverCaPem: API_CA_PEM } },
      message: 'agentApi.tokenFile must be a non-empty string',
    },
    {
      name: 'agentApi with a CA that is not PEM',
      patch: { agentApi: { tokenFile: '/t', kubeApiserverCaPem: 'not a certificate' } },
      message: 'agentApi.kubeApiserverCaPem is not a PEM certificate bundle',
    },
    {
      name: 'agentApi with a system: prefix',
      patch: {
        agentApi: { tokenFile: '/t', kubeApiserverCaPem: API_CA_PEM, identityPrefix: 'system:' },
      },
      message: 'agentApi.identityPrefix must not start with "system:"',
    },
    {
      name: 'bad health port',
      patch: { health: { port: 70_000 } },
      message: 'health.port must be an integer in [0, 65535]',
    },
  ])('rejects $name', ({ patch, message }) => {
    let error: unknown;
    try {
      validateOptions({ ...BASE, ...patch });
    } catch (err: unknown) {
      error = err;
    }
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({
      code: 'AGENT_ERR_INVALID_OPTIONS',
      message: `invalid options: ${message}`,
    });
  });
});
