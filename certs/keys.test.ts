import { createPrivateKey, createPublicKey } from 'node:crypto';

import forge from 'node-forge';
import { describe, expect, it } from 'vitest';

import { CertError, generateKeyPair, RSA_KEY_BITS } from './index.ts';

// Generated once for the file: the default size, and one other size to see `bits` applied.
const defaultPair = generateKeyPair();
const pair3072 = generateKeyPair({ bits: 3072 });

describe('generateKeyPair', () => {
  it('returns a 2048-bit RSA key as PKCS#8 and SPKI PEM', () => {
    expect(defaultPair.privateKeyPem).toMatch(
      /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/,
    );
    expect(defaultPair.publicKeyPem).toMatch(
      /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/,
    );
    const key = createPrivateKey(defaultPair.privateKeyPem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
  });

  it('returns matching halves', () => {
    const derived = createPublicKey(defaultPair.privateKeyPem).export({
      type: 'spki',
      format: 'pem',
    });
    expect(derived).toBe(defaultPair.publicKeyPem);
  });

  it('honours bits', () => {
    expect(createPrivateKey(pair3072.privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(3072);
  });

  it('writes keys node-forge can read back', () => {
    const privateKey = forge.pki.privateKeyFromPem(defaultPair.privateKeyPem);
    const publicKey = forge.pki.publicKeyFromPem(defaultPair.publicKeyPem);
    expect(privateKey.n.equals(publicKey.n)).toBe(true);
    expect(privateKey.n.bitLength()).toBe(2048);
  });

  it('returns a new key each call', () => {
    expect(pair3072.publicKeyPem).not.toBe(defaultPair.publicKeyPem);
  });

  it.each([1024, 2047, 8192, Number.NaN])('rejects bits = %s', (bits) => {
    expect(() => generateKeyPair({ bits: bits as 2048 })).toThrow(
      expect.objectContaining({
        name: 'CertError',
        code: 'CERT_ERR_INVALID_OPTIONS',
        message: `invalid options: bits must be one of ${RSA_KEY_BITS.join(', ')}, got ${bits}`,
      }),
    );
    expect(() => generateKeyPair({ bits: bits as 2048 })).toThrow(CertError);
  });
});
