import { describe, expect, it } from 'vitest';

import { formatDialAddress, parseDialAddress } from './dial-address.ts';
import { ProtocolError } from './errors.ts';

describe('parseDialAddress', () => {
  it.each([
    ['10.0.0.1:443', '10.0.0.1', 443],
    ['kubernetes.default.svc.cluster.local.:6443', 'kubernetes.default.svc.cluster.local.', 6443],
    ['cluster-a:1', 'cluster-a', 1],
    ['prometheus.monitoring:9090', 'prometheus.monitoring', 9090],
    ['_srv.example:65535', '_srv.example', 65535],
    ['[::1]:443', '::1', 443],
    ['[fe80::1%eth0]:80', 'fe80::1%eth0', 80],
  ])('%s → host %s port %i', (address, host, port) => {
    expect(parseDialAddress(address)).toEqual({ host, port });
    expect(formatDialAddress(host, port)).toBe(address);
  });

  it.each([
    ['', 'empty'],
    ['host', 'missing port'],
    [':443', 'empty host'],
    ['host:', 'port is not a decimal number'],
    ['host:http', 'port is not a decimal number'],
    ['host:+80', 'port is not a decimal number'],
    ['host:0', 'port out of range 1-65535'],
    ['host:65536', 'port out of range 1-65535'],
    ['::1:443', 'too many colons (bracket IPv6 hosts)'],
    ['[::1]443', 'missing ":port" after "]"'],
    ['[::1:443', 'missing "]" after IPv6 host'],
    ['[example.com]:443', 'bracketed host is not an IPv6 address'],
    ['[fe80::1%e/0]:80', 'invalid IPv6 zone'],
    ['a b:80', 'host has invalid characters'],
    ['user@host:80', 'host has invalid characters'],
    ['host/path:80', 'host has invalid characters'],
    ['-host:80', 'host has invalid characters'],
    ['h\n:80', 'host has invalid characters'],
    [`${'a'.repeat(600)}:80`, 'longer than 512 characters'],
  ])('rejects %j: %s', (address, why) => {
    try {
      parseDialAddress(address);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('PROTO_ERR_INVALID_ADDRESS');
      expect((err as ProtocolError).message).toBe(
        `dial address ${JSON.stringify(address.slice(0, 80))} is not host:port: ${why}`,
      );
    }
  });
});
