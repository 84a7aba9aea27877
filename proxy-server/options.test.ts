import { describe, expect, it } from 'vitest';

import { SUPPORTED_EXTENSIONS } from '../protocol/index.ts';
import { buildServerCommand, optionsFromFlags } from './cli-options.ts';
import type { ServerFlags } from './cli-options.ts';
import {
  DEFAULT_AGENT_ADMISSION_BURST,
  DEFAULT_AGENT_ADMISSION_RATE,
} from './agent-listener/admission-rate-limiter.ts';
import { DEFAULT_MAX_PENDING_HANDSHAKES } from './agent-listener/handshake-guard.ts';
import { ServerError } from './errors.ts';
import { SILENT_LOGGER } from './logger.ts';
import {
  DEFAULT_AGENT_DIAL_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  validateOptions,
} from './options.ts';
import type { ProxyServerOptions } from './options.ts';
import { createServerTestPki } from './testing/test-pki.ts';

const pki = createServerTestPki();
const base: ProxyServerOptions = { tls: pki.serverTls, logger: SILENT_LOGGER };

function invalid(options: unknown): string {
  try {
    validateOptions(options as ProxyServerOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe('SERVER_ERR_INVALID_OPTIONS');
    return (err as ServerError).message;
  }
  throw new Error('options were accepted');
}

describe('validateOptions', () => {
  it('fills in the defaults', () => {
    const resolved = validateOptions(base);
    expect(resolved.serverId).toMatch(/^[0-9a-f-]{36}$/);
    expect(resolved).toMatchObject({
      serverCount: 1,
      agentDialTimeoutMs: DEFAULT_AGENT_DIAL_TIMEOUT_MS,
      shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
      extensions: SUPPORTED_EXTENSIONS,
    });
    for (const name of [
      'agentGrpc',
      'agentWebSocket',
      'frontendGrpc',
      'frontendWebSocket',
      'connect',
      'health',
    ] as const) {
      expect(resolved.listen[name]).toEqual({ host: '127.0.0.1', port: 0, tls: false });
    }
  });

  it('keeps what is given', () => {
    const resolved = validateOptions({
      ...base,
      serverId: 's1',
      serverCount: 3,
      extensions: [],
      listen: { health: false, connect: { host: '::1', port: 8094, tls: true } },
    });
    expect(resolved).toMatchObject({ serverId: 's1', serverCount: 3, extensions: [] });
    expect(resolved.listen.health).toBe(false);
    expect(resolved.listen.connect).toEqual({ host: '::1', port: 8094, tls: true });
  });

  it.each([
    {
      name: 'no tls',
      options: { logger: SILENT_LOGGER },
      message: 'invalid options: tls { certPem, keyPem, caPem } is required',
    },
    {
      name: 'empty serverId',
      options: { ...base, serverId: '' },
      message: 'invalid options: serverId must be 1..256 printable ASCII characters without spaces',
    },
    {
      name: 'serverId with a space',
      options: { ...base, serverId: 'a b' },
      message: 'invalid options: serverId must be 1..256 printable ASCII characters without spaces',
    },
    {
      name: 'serverCount 0',
      options: { ...base, serverCount: 0 },
      message: 'invalid options: serverCount must be an integer in 1..10000, got 0',
    },
    {
      name: 'fractional timeout',
      options: { ...base, agentDialTimeoutMs: 1.5 },
      message:
        'invalid options: agentDialTimeoutMs must be an integer number of ms in 1..2147483647, got 1.5',
    },
    {
      name: 'unknown extension',
      options: { ...base, extensions: ['turbo'] },
      message:
        'invalid options: unknown extension "turbo"; known: flow-control, half-close, error-codes, ping, stream-id, initial-window-64k',
    },
    {
      name: 'bad port',
      options: { ...base, listen: { health: { port: 70000 } } },
      message: 'invalid options: listen.health.port must be an integer in 0..65535, got 70000',
    },
    {
      name: 'tls on an agent listener',
      options: { ...base, listen: { agentGrpc: { tls: true } } },
      message:
        'invalid options: listen.agentGrpc.tls: only the connect listener has a TLS switch (agent and frontend listeners always use mTLS, health never does)',
    },
    {
      name: 'logger without debug',
      options: { ...base, logger: { error() {}, warn() {}, info() {} } },
      message: 'invalid options: logger.debug must be a function',
    },
  ])('refuses $name', ({ options, message }) => {
    expect(invalid(options)).toBe(message);
  });

  it('refuses a key that does not belong to the certificate, with the certs/ error as cause', () => {
    const other = createServerTestPki('other-ca');
    let caught: unknown;
    try {
      validateOptions({ ...base, tls: { ...pki.serverTls, keyPem: other.server.keyPem } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'SERVER_ERR_INVALID_OPTIONS' });
    expect((caught as Error).message).toMatch(/^invalid options: tls\.certPem\/keyPem: /);
    expect((caught as Error).cause).toMatchObject({ code: 'CERT_ERR_KEY_MISMATCH' });
  });

  it('refuses a CA bundle holding a leaf certificate', () => {
    expect(invalid({ ...base, tls: { ...pki.serverTls, caPem: pki.server.certPem } })).toBe(
      'invalid options: tls.caPem: a certificate in the bundle is not a CA',
    );
  });
});

describe('optionsFromFlags', () => {
  const files: Record<string, string> = {
    '/c': pki.server.certPem,
    '/k': pki.server.keyPem,
    '/ca': pki.ca.certPem,
  };
  const read = (path: string): string => {
    const text = files[path];
    if (text === undefined) throw new Error('ENOENT');
    return text;
  };
  const parse = (args: string[]): ServerFlags =>
    buildServerCommand()
      .exitOverride()
      .parse(['node', 'main.ts', ...args])
      .opts<ServerFlags>();

  it('maps flags to options, "off" disables a listener', () => {
    const options = optionsFromFlags(
      parse([
        '--cert',
        '/c',
        '--key',
        '/k',
        '--ca',
        '/ca',
        '--ws-port',
        'off',
        '--server-id',
        's1',
        '--server-count',
        '2',
      ]),
      read,
    );
    expect(options.tls).toEqual(pki.serverTls);
    expect(options.listen).toEqual({
      agentGrpc: { host: '0.0.0.0', port: 8091 },
      agentWebSocket: false,
      frontendGrpc: { host: '0.0.0.0', port: 8090 },
      frontendWebSocket: { host: '0.0.0.0', port: 8095 },
      connect: { host: '127.0.0.1', port: 8094 },
      health: { host: '0.0.0.0', port: 8092 },
    });
    expect(options).toMatchObject({ serverId: 's1', serverCount: 2 });
    expect(() => validateOptions(options)).not.toThrow();
  });

  it.each([
    { args: ['--key', '/k', '--ca', '/ca'], message: '--cert <file> is required' },
    {
      args: ['--cert', '/nope', '--key', '/k', '--ca', '/ca'],
      message: '--cert: cannot read /nope: ENOENT',
    },
    {
      args: ['--cert', '/c', '--key', '/k', '--ca', '/ca', '--agent-port', '80a'],
      message: '--agent-port must be a non-negative integer, got "80a"',
    },
  ])('refuses $args', ({ args, message }) => {
    expect(() => optionsFromFlags(parse(args), read)).toThrow(message);
  });
});

describe('agentAdmissionRate', () => {
  const tls = ['--cert', '/c', '--key', '/k', '--ca', '/ca'];
  const files: Record<string, string> = {
    '/c': pki.server.certPem,
    '/k': pki.server.keyPem,
    '/ca': pki.ca.certPem,
  };
  const fromFlags = (args: string[]): ProxyServerOptions =>
    optionsFromFlags(
      buildServerCommand()
        .exitOverride()
        .parse(['node', 'main.ts', ...tls, ...args])
        .opts<ServerFlags>(),
      (path) => files[path] ?? '',
    );

  it.each([
    {
      name: 'the default',
      value: undefined,
      expected: {
        perSecond: DEFAULT_AGENT_ADMISSION_RATE,
        burst: DEFAULT_AGENT_ADMISSION_BURST,
        maxPendingHandshakes: DEFAULT_MAX_PENDING_HANDSHAKES,
      },
    },
    { name: 'false (off)', value: false as const, expected: undefined },
    {
      name: 'a rate, burst = rate',
      value: { perSecond: 50 },
      expected: { perSecond: 50, burst: 50, maxPendingHandshakes: DEFAULT_MAX_PENDING_HANDSHAKES },
    },
    {
      name: 'a fractional rate',
      value: { perSecond: 0.5 },
      expected: { perSecond: 0.5, burst: 1, maxPendingHandshakes: DEFAULT_MAX_PENDING_HANDSHAKES },
    },
    {
      name: 'a rate, a burst and a handshake cap',
      value: { perSecond: 50, burst: 200, maxPendingHandshakes: 16 },
      expected: { perSecond: 50, burst: 200, maxPendingHandshakes: 16 },
    },
  ])('resolves $name', ({ value, expected }) => {
    const options = value === undefined ? base : { ...base, agentAdmissionRate: value };
    expect(validateOptions(options).agentAdmissionRate).toEqual(expected);
  });

  it.each([
    {
      value: { perSecond: 0 },
      message: 'agentAdmissionRate.perSecond must be a number > 0, got 0',
    },
    {
      value: { perSecond: 10, burst: 0.5 },
      message: 'agentAdmissionRate.burst must be an integer ≥ 1, got 0.5',
    },
    {
      value: { perSecond: 10, maxPendingHandshakes: 0 },
      message: 'agentAdmissionRate.maxPendingHandshakes must be an integer ≥ 1, got 0',
    },
    {
      value: 300,
      message: 'agentAdmissionRate must be { perSecond, burst?, maxPendingHandshakes? } or false',
    },
  ])('refuses $value', ({ value, message }) => {
    expect(invalid({ ...base, agentAdmissionRate: value })).toBe(`invalid options: ${message}`);
  });

  it.each([
    { args: [], expected: undefined },
    { args: ['--agent-admission-rate', 'off'], expected: false },
    { args: ['--agent-admission-rate', '50'], expected: { perSecond: 50 } },
    {
      args: ['--agent-admission-rate', '50', '--agent-admission-burst', '500'],
      expected: { perSecond: 50, burst: 500 },
    },
    {
      args: ['--agent-max-pending-handshakes', '32'],
      expected: { perSecond: DEFAULT_AGENT_ADMISSION_RATE, maxPendingHandshakes: 32 },
    },
    {
      args: ['--agent-admission-burst', '500'],
      expected: { perSecond: DEFAULT_AGENT_ADMISSION_RATE, burst: 500 },
    },
  ])('maps flags $args', ({ args, expected }) => {
    expect(fromFlags(args).agentAdmissionRate).toEqual(expected);
  });

  it('refuses a burst with the limit off', () => {
    expect(() =>
      fromFlags(['--agent-admission-rate', 'off', '--agent-admission-burst', '5']),
    ).toThrow(
      '--agent-admission-burst and --agent-max-pending-handshakes cannot be set with --agent-admission-rate off',
    );
  });
});
