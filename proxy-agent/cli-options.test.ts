import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';

import { parseAgentArgs } from './cli-options.ts';

const FILES: Record<string, string> = {
  'a.crt': 'CERT',
  'a.key': 'KEY',
  'ca.crt': 'CA',
  'spoke-ca.crt': 'SPOKE CA',
};
const read = (path: string): string => {
  const text = FILES[path];
  if (text === undefined) throw new Error(`ENOENT: no such file ${path}`);
  return text;
};
const REQUIRED = [
  '--cluster-name',
  'c1',
  '--agent-name',
  'a0',
  '--server',
  'hub:8091',
  '--cert',
  'a.crt',
  '--key',
  'a.key',
  '--ca',
  'ca.crt',
  '--kube-apiserver',
  '127.0.0.1:6443',
];

describe('parseAgentArgs', () => {
  it('maps the flags to ProxyAgentOptions', () => {
    const options = parseAgentArgs(
      [
        ...REQUIRED,
        '--server',
        'hub2:8091',
        '--allow',
        'svc.ns:80',
        '--allow',
        '10.0.0.1:53',
        '--transport',
        'grpc',
        '--dial-timeout-ms',
        '2500',
        '--health-port',
        '0',
        '--server-name',
        'hub.local',
      ],
      read,
    );
    expect(options).toMatchObject({
      clusterName: 'c1',
      agentName: 'a0',
      servers: ['hub:8091', 'hub2:8091'],
      transport: 'grpc',
      tls: { certPem: 'CERT', keyPem: 'KEY', caPem: 'CA', serverName: 'hub.local' },
      kubeApiserver: '127.0.0.1:6443',
      allow: ['svc.ns:80', '10.0.0.1:53'],
      dialTimeoutMs: 2500,
      health: { host: '0.0.0.0', port: 0 },
    });
  });

  it('defaults to gRPC and health port 8093', () => {
    const options = parseAgentArgs(REQUIRED, read);
    expect(options.transport).toBe('grpc');
    expect(options.health).toEqual({ host: '0.0.0.0', port: 8093 });
    expect(options).not.toHaveProperty('dialTimeoutMs');
  });

  it('maps the agent API flags, leaving the token file to the agent', () => {
    const options = parseAgentArgs(
      [
        ...REQUIRED,
        '--agent-api-token-file',
        '/var/run/secrets/tokens/token',
        '--kube-apiserver-ca',
        'spoke-ca.crt',
        '--agent-api-identity-prefix',
        'acme:',
      ],
      read,
    );
    expect(options.agentApi).toEqual({
      tokenFile: '/var/run/secrets/tokens/token',
      kubeApiserverCaPem: 'SPOKE CA',
      identityPrefix: 'acme:',
    });
    expect(parseAgentArgs(REQUIRED, read)).not.toHaveProperty('agentApi');
  });

  it('fails on a missing required flag', () => {
    expect(() => parseAgentArgs(REQUIRED.slice(2), read)).toThrow(CommanderError);
  });

  it.each([
    {
      args: ['--transport', 'quic'],
      message: 'invalid options: --transport must be grpc or websocket',
    },
    {
      args: ['--log-level', 'loud'],
      message: 'invalid options: --log-level must be one of error, warn, info, debug',
    },
    {
      args: ['--agent-api-token-file', '/t'],
      message: 'invalid options: --agent-api-token-file needs --kube-apiserver-ca',
    },
    {
      args: ['--kube-apiserver-ca', 'spoke-ca.crt'],
      message:
        'invalid options: --kube-apiserver-ca and --agent-api-identity-prefix need --agent-api-token-file',
    },
  ])('rejects $args', ({ args, message }) => {
    expect(() => parseAgentArgs([...REQUIRED, ...args], read)).toThrow(
      expect.objectContaining({ code: 'AGENT_ERR_INVALID_OPTIONS', message }),
    );
  });

  it('names the unreadable file', () => {
    expect(() => parseAgentArgs([...REQUIRED, '--key', 'missing.key'], read)).toThrow(
      expect.objectContaining({
        code: 'AGENT_ERR_INVALID_OPTIONS',
        message: 'invalid options: --key missing.key: ENOENT: no such file missing.key',
      }),
    );
  });
});
