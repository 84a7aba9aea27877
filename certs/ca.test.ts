import { createPrivateKey, X509Certificate } from 'node:crypto';

import forge from 'node-forge';
import { describe, expect, it } from 'vitest';

import {
  CLOCK_SKEW_BACKDATE_MS,
  createCa,
  DEFAULT_CA_VALIDITY_DAYS,
  generateKeyPair,
} from './index.ts';
import { expectCertError, nodeKeyPair } from './test-support.ts';

const DAY_MS = 86_400_000;
const NOW = new Date('2030-06-01T12:00:00.000Z');

// RSA keys are generated once per file and shared by every test (STYLE.md §7).
const caKeys = generateKeyPair();
const otherKeys = generateKeyPair();
const ca = createCa({
  commonName: 'spokelink-hub-ca',
  organizations: ['spokelink'],
  now: NOW,
  keyPair: caKeys,
});
const caCert = new X509Certificate(ca.certPem);

/** An independent reading of the extensions, with node-forge's parser. */
function forgeExtensions(certPem: string) {
  const cert = forge.pki.certificateFromPem(certPem);
  return {
    cert,
    basicConstraints: cert.getExtension('basicConstraints') as { critical?: boolean; cA?: boolean },
    keyUsage: cert.getExtension('keyUsage') as Record<string, boolean>,
    subjectKeyIdentifier: cert.getExtension('subjectKeyIdentifier') as {
      subjectKeyIdentifier: string;
    },
    authorityKeyIdentifier: cert.getExtension('authorityKeyIdentifier') as { value: string } | null,
  };
}

describe('createCa', () => {
  it('creates a self-signed CA that node:crypto accepts', () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe('O=spokelink\nCN=spokelink-hub-ca');
    expect(caCert.issuer).toBe(caCert.subject);
    expect(caCert.checkIssued(caCert)).toBe(true);
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(caCert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expect(ca.keyPem).toBe(caKeys.privateKeyPem);
  });

  it('sets critical CA:true, keyCertSign + cRLSign and a subject key identifier', () => {
    const ext = forgeExtensions(ca.certPem);
    expect(ext.basicConstraints).toMatchObject({ critical: true, cA: true });
    expect(ext.keyUsage).toMatchObject({
      critical: true,
      keyCertSign: true,
      cRLSign: true,
      digitalSignature: false,
    });
    expect(ext.subjectKeyIdentifier.subjectKeyIdentifier).toMatch(/^[0-9a-f]{40}$/);
  });

  it('backdates notBefore and lasts validityDays (default ten years)', () => {
    expect(caCert.validFromDate.getTime()).toBe(NOW.getTime() - CLOCK_SKEW_BACKDATE_MS);
    expect(caCert.validToDate.getTime()).toBe(NOW.getTime() + DEFAULT_CA_VALIDITY_DAYS * DAY_MS);
    const short = new X509Certificate(
      createCa({ commonName: 'short', validityDays: 2, now: NOW, keyPair: caKeys }).certPem,
    );
    expect(short.validToDate.getTime()).toBe(NOW.getTime() + 2 * DAY_MS);
  });

  it('uses GeneralizedTime after 2049', () => {
    const longLived = createCa({
      commonName: 'long',
      validityDays: 365 * 30,
      now: NOW,
      keyPair: caKeys,
    });
    expect(new X509Certificate(longLived.certPem).validToDate.getUTCFullYear()).toBe(2060);
  });

  it('accepts ECDSA and Ed25519 keys', () => {
    for (const type of ['ec', 'ed25519'] as const) {
      const other = createCa({ commonName: `${type}-ca`, now: NOW, keyPair: nodeKeyPair(type) });
      const cert = new X509Certificate(other.certPem);
      expect(cert.ca).toBe(true);
      expect(cert.verify(cert.publicKey)).toBe(true);
    }
  });

  it.each([
    {
      name: 'empty commonName',
      opts: { commonName: '' },
      message: 'invalid options: commonName must be a non-empty string',
    },
    {
      name: 'blank commonName',
      opts: { commonName: '  ' },
      message: 'invalid options: commonName must be a non-empty string',
    },
    {
      name: 'empty organization',
      opts: { commonName: 'ca', organizations: ['ok', ''] },
      message: 'invalid options: organizations[1] must be a non-empty string',
    },
    {
      name: 'SANs on a CA',
      opts: { commonName: 'ca', dnsNames: ['ca.example'] },
      message: 'invalid options: a CA takes no dnsNames or ipAddresses',
    },
    {
      name: 'zero validityDays',
      opts: { commonName: 'ca', validityDays: 0 },
      message: 'invalid options: validityDays must be a positive number of days, got 0',
    },
    {
      name: 'negative validityDays',
      opts: { commonName: 'ca', validityDays: -1 },
      message: 'invalid options: validityDays must be a positive number of days, got -1',
    },
    {
      name: 'NaN validityDays',
      opts: { commonName: 'ca', validityDays: Number.NaN },
      message: 'invalid options: validityDays must be a positive number of days, got NaN',
    },
    {
      name: 'invalid now',
      opts: { commonName: 'ca', now: new Date('not a date') },
      message: 'invalid options: now must be a valid Date',
    },
  ])('rejects $name with CERT_ERR_INVALID_OPTIONS', ({ opts, message }) => {
    expectCertError(
      () => createCa({ ...opts, keyPair: caKeys }),
      'CERT_ERR_INVALID_OPTIONS',
      message,
    );
  });

  it.each([
    {
      name: 'halves of different pairs',
      keyPair: { privateKeyPem: caKeys.privateKeyPem, publicKeyPem: otherKeys.publicKeyPem },
      code: 'CERT_ERR_INVALID_KEY',
      message: 'keyPair: publicKeyPem does not belong to privateKeyPem',
    },
    {
      name: 'a 1024-bit RSA key',
      keyPair: nodeKeyPair('rsa1024'),
      code: 'CERT_ERR_INVALID_KEY',
      message: 'keyPair private key is a 1024-bit RSA key; at least 2048 bits are required',
    },
    {
      name: 'an encrypted key',
      keyPair: { privateKeyPem: encryptedPem(), publicKeyPem: caKeys.publicKeyPem },
      code: 'CERT_ERR_INVALID_KEY',
      message: 'keyPair private key is encrypted; only unencrypted keys are supported',
    },
    {
      name: 'a certificate as the private key',
      keyPair: { privateKeyPem: ca.certPem, publicKeyPem: caKeys.publicKeyPem },
      code: 'CERT_ERR_INVALID_PEM',
      message:
        'invalid keyPair private key PEM: expected a "PRIVATE KEY" PEM block, found "CERTIFICATE"',
    },
    {
      name: 'garbage',
      keyPair: { privateKeyPem: 'not a key', publicKeyPem: caKeys.publicKeyPem },
      code: 'CERT_ERR_INVALID_PEM',
      message: 'invalid keyPair private key PEM: no PEM block found',
    },
  ] as const)('rejects $name', ({ keyPair, code, message }) => {
    expectCertError(() => createCa({ commonName: 'ca', keyPair }), code, message);
  });
});

function encryptedPem(): string {
  return createPrivateKey(caKeys.privateKeyPem).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: 'secret',
  }) as string;
}
