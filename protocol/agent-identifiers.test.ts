import { describe, expect, it } from 'vitest';

import {
  formatAgentIdentifiers,
  parseAgentIdentifiers,
  type AgentIdentifiers,
} from './agent-identifiers.ts';
import { ProtocolError } from './errors.ts';

const none: AgentIdentifiers = { ipv4: [], ipv6: [], host: [], cidr: [], defaultRoute: false };

describe('parseAgentIdentifiers', () => {
  it.each<{ name: string; value: string; expected: Partial<AgentIdentifiers> }>([
    { name: 'empty', value: '', expected: {} },
    {
      name: 'cluster-proxy style hosts, order kept',
      value: 'host=cluster1&host=cluster1.open-cluster-management-agent-addon&ipv4=10.0.0.5',
      expected: {
        host: ['cluster1', 'cluster1.open-cluster-management-agent-addon'],
        ipv4: ['10.0.0.5'],
      },
    },
    {
      name: 'escapes: %3A and + for space',
      value: 'ipv6=fe80%3A%3A1&host=a+b&cidr=10.0.0.0%2F8',
      expected: { ipv6: ['fe80::1'], host: ['a b'], cidr: ['10.0.0.0/8'] },
    },
    { name: 'default-route=true', value: 'default-route=true', expected: { defaultRoute: true } },
    {
      name: 'default-route=1 (Go ParseBool)',
      value: 'default-route=1',
      expected: { defaultRoute: true },
    },
    { name: 'default-route=T', value: 'default-route=T', expected: { defaultRoute: true } },
    { name: 'default-route=yes is false', value: 'default-route=yes', expected: {} },
    {
      name: 'default-route uses its first value',
      value: 'default-route=false&default-route=true',
      expected: {},
    },
    {
      name: 'unknown keys (uid, future) ignored',
      value: 'uid=123&zone=a&host=h',
      expected: { host: ['h'] },
    },
    {
      name: 'empty pieces skipped, key without =',
      value: '&&host&host=x&',
      expected: { host: ['', 'x'] },
    },
  ])('$name', ({ value, expected }) => {
    expect(parseAgentIdentifiers(value)).toEqual({ ...none, ...expected });
  });

  it.each([
    [
      'semicolon separator',
      'host=a;host=b',
      'agentIdentifiers uses ";" as a separator, only "&" is allowed',
    ],
    ['bad escape', 'host=%zz', 'agentIdentifiers has an invalid escape in "%zz"'],
    ['truncated escape', 'host=a%2', 'agentIdentifiers has an invalid escape in "a%2"'],
  ])('rejects %s like Go url.ParseQuery', (_name, value, message) => {
    let error: unknown;
    try {
      parseAgentIdentifiers(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('PROTO_ERR_INVALID_AGENT_IDENTIFIERS');
    expect((error as ProtocolError).message).toBe(message);
  });
});

describe('formatAgentIdentifiers', () => {
  it('sorts keys like url.Values.Encode and escapes like url.QueryEscape', () => {
    expect(
      formatAgentIdentifiers({
        ipv4: ['10.0.0.5'],
        host: ['c1', "a b!'()*~"],
        ipv6: ['::1'],
        cidr: ['10.0.0.0/8'],
        defaultRoute: true,
      }),
    ).toBe(
      'cidr=10.0.0.0%2F8&default-route=true&host=c1&host=a+b%21%27%28%29%2A~&ipv4=10.0.0.5&ipv6=%3A%3A1',
    );
    expect(formatAgentIdentifiers({})).toBe('');
  });

  it('round-trips', () => {
    const ids: AgentIdentifiers = {
      ipv4: ['1.2.3.4'],
      ipv6: ['2001:db8::1'],
      host: ['cluster-a', 'cluster-a.ns', 'ünï'],
      cidr: ['10.0.0.0/8'],
      defaultRoute: true,
    };
    expect(parseAgentIdentifiers(formatAgentIdentifiers(ids))).toEqual(ids);
  });
});
