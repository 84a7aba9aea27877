// ProxyServerOptions.gateway: defaults and refusals with the option named.
import { describe, expect, it } from 'vitest';

import { generateKeyPair, issueCert } from '../../certs/index.ts';
import { GATEWAY_ORGANIZATION } from '../../protocol/index.ts';
import { isServerError } from '../errors.ts';
import { createServerTestPki } from '../testing/test-pki.ts';
import { resolveGatewayOptions } from './gateway-options.ts';
import type { GatewayOptions } from './gateway-options.ts';

const keyPair = generateKeyPair();
const pki = createServerTestPki('gateway-options-test-ca', keyPair);
const gatewayCert = issueCert(pki.ca, {
  commonName: 'spokelink:gateway:test',
  organizations: [GATEWAY_ORGANIZATION],
  usage: 'client',
  keyPair,
});

const valid: GatewayOptions = {
  hub: { server: 'https://127.0.0.1:6443', caPem: pki.ca.certPem, token: 'reviewer-token' },
  cert: { certPem: gatewayCert.certPem, keyPem: gatewayCert.keyPem },
};

describe('resolveGatewayOptions', () => {
  it('fills in the defaults', () => {
    const resolved = resolveGatewayOptions(valid);
    expect(resolved?.listen).toEqual({ host: '127.0.0.1', port: 0, tls: true });
    expect(resolved?.identityPrefix).toBe('spokelink:hub:');
    expect(resolved?.clientCaPem).toBeUndefined();
    expect(resolved?.hub.server.href).toBe('https://127.0.0.1:6443/');
    expect(resolveGatewayOptions(undefined)).toBeUndefined();
  });

  it.each<{ name: string; options: GatewayOptions; message: string }>([
    {
      name: 'an http hub',
      options: { ...valid, hub: { ...valid.hub, server: 'http://127.0.0.1:6443' } },
      message:
        'invalid options: gateway.hub.server must be an https:// URL, got "http://127.0.0.1:6443"',
    },
    {
      name: 'a hub without credentials',
      options: { ...valid, hub: { server: 'https://h', caPem: pki.ca.certPem } },
      message:
        'invalid options: gateway.hub needs clientCertPem and clientKeyPem, a token or a tokenFile',
    },
    {
      name: 'a token and a token file',
      options: { ...valid, hub: { ...valid.hub, tokenFile: '/var/run/token' } },
      message: 'invalid options: gateway.hub.token and hub.tokenFile are exclusive',
    },
    {
      name: 'a certificate agents would refuse',
      options: { ...valid, cert: { certPem: pki.frontend.certPem, keyPem: pki.frontend.keyPem } },
      message:
        'invalid options: gateway.cert.certPem must carry Organization "spokelink:gateways" (agents refuse other callers), got ["spokelink:hub"]',
    },
    {
      name: 'a listen tls switch',
      options: { ...valid, listen: { tls: false } },
      message: 'invalid options: gateway.listen.tls: the gateway always serves HTTPS',
    },
    {
      name: 'a system: prefix',
      options: { ...valid, identityPrefix: 'system:hub:' },
      message:
        'invalid options: gateway.identityPrefix must be printable ASCII, not empty and not starting with "system:", got "system:hub:"',
    },
    {
      name: 'a client CA that is not a CA',
      options: { ...valid, clientCaPem: gatewayCert.certPem },
      message: 'invalid options: gateway.clientCaPem: a certificate in the bundle is not a CA',
    },
  ])('refuses $name', ({ options, message }) => {
    expect.assertions(2);
    try {
      resolveGatewayOptions(options);
    } catch (err) {
      expect(isServerError(err, 'SERVER_ERR_INVALID_OPTIONS')).toBe(true);
      expect((err as Error).message).toBe(message);
    }
  });
});
