// The proxy-server process's --gateway-* flags → ProxyServerOptions.gateway.
import { describe, expect, it } from 'vitest';

import { isServerError } from '../errors.ts';
import { gatewayFromFlags } from './gateway-flags.ts';

const files: Record<string, string> = {
  'hub-ca.crt': 'HUB CA',
  'reviewer.token': 'abc\n',
  'client-ca.crt': 'CLIENT CA',
  'gw.crt': 'GW CERT',
  'gw.key': 'GW KEY',
};
const readFile = (path: string): string => {
  const content = files[path];
  if (content === undefined) throw new Error('ENOENT');
  return content;
};

describe('gatewayFromFlags', () => {
  it('is off without --gateway-hub-server, or with --gateway-port off', () => {
    expect(gatewayFromFlags({ gatewayPort: '9092' }, '0.0.0.0', readFile)).toEqual({});
    expect(
      gatewayFromFlags(
        { gatewayPort: 'off', gatewayHubServer: 'https://hub:6443' },
        '0.0.0.0',
        readFile,
      ),
    ).toEqual({});
  });

  it('reads every file it names', () => {
    expect(
      gatewayFromFlags(
        {
          gatewayPort: '9092',
          gatewayHubServer: 'https://hub:6443',
          gatewayHubCa: 'hub-ca.crt',
          gatewayHubTokenFile: 'reviewer.token',
          gatewayClientCa: 'client-ca.crt',
          gatewayCert: 'gw.crt',
          gatewayKey: 'gw.key',
          gatewayIdentityPrefix: 'acme:hub:',
        },
        '0.0.0.0',
        readFile,
      ),
    ).toEqual({
      gateway: {
        listen: { host: '0.0.0.0', port: 9092 },
        hub: { server: 'https://hub:6443', caPem: 'HUB CA', token: 'abc' },
        clientCaPem: 'CLIENT CA',
        identityPrefix: 'acme:hub:',
        cert: { certPem: 'GW CERT', keyPem: 'GW KEY' },
      },
    });
  });

  it('names a missing file', () => {
    expect.assertions(2);
    try {
      gatewayFromFlags(
        { gatewayPort: '9092', gatewayHubServer: 'https://hub:6443' },
        '::',
        readFile,
      );
    } catch (err) {
      expect(isServerError(err, 'SERVER_ERR_INVALID_OPTIONS')).toBe(true);
      expect((err as Error).message).toBe('--gateway-hub-ca <file> is required');
    }
  });
});
