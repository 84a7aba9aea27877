// Helpers shared by certs/ unit tests (never imported by the library itself).
import { generateKeyPairSync } from 'node:crypto';

import { expect } from 'vitest';

import { CertError, type CertErrorCode } from './errors.ts';
import type { KeyPair } from './keys.ts';

/** Asserts that `fn` throws a CertError with exactly this code and message. */
export function expectCertError(fn: () => unknown, code: CertErrorCode, message: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(CertError);
  expect(thrown).toMatchObject({ code, message });
}

/** Cheap non-RSA (or deliberately weak RSA) keys made by node:crypto, for key-type tests. */
export function nodeKeyPair(type: 'ec' | 'ed25519' | 'rsa1024'): KeyPair {
  const { privateKey, publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 1024 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
