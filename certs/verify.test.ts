import forge from 'node-forge';
import { describe, expect, it } from 'vitest';

import {
  assertKeyMatchesCertificate,
  CertError,
  type CertUsage,
  createCa,
  generateKeyPair,
  issueCert,
  verifyCertificate,
} from './index.ts';
import { expectCertError } from './test-support.ts';

const NOW = new Date('2030-06-01T12:00:00.000Z');
const DAY_MS = 86_400_000;
const BACKDATE_MS = 5 * 60_000;

const caKeys = generateKeyPair();
const otherCaKeys = generateKeyPair();
const leafKeys = generateKeyPair();
const ca = createCa({ commonName: 'spokelink-hub-ca', now: NOW, keyPair: caKeys });
const otherCa = createCa({ commonName: 'someone-else-ca', now: NOW, keyPair: otherCaKeys });
/** Same name as `ca`, different key: what a CA rotation produces. */
const rotatedCa = createCa({ commonName: 'spokelink-hub-ca', now: NOW, keyPair: otherCaKeys });
const issue = (usage: CertUsage, opts: { validityDays?: number; now?: Date } = {}) =>
  issueCert(ca, { commonName: 'agent-c1', usage, now: NOW, keyPair: leafKeys, ...opts }).certPem;
const serverCert = issue('server', { validityDays: 30 });

/** Re-encodes `certPem` with the last signature byte flipped. */
function withBadSignature(certPem: string): string {
  const der = Buffer.from(certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
}

/** A certificate signed by a non-CA leaf, written with node-forge (our issuer refuses to). */
function issuedByLeaf(leafPem: string): string {
  const issuer = forge.pki.certificateFromPem(leafPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(caKeys.publicKeyPem);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(NOW.getTime() - DAY_MS);
  cert.validity.notAfter = new Date(NOW.getTime() + DAY_MS);
  cert.setSubject([{ name: 'commonName', value: 'grandchild' }]);
  cert.setIssuer(issuer.subject.attributes);
  cert.sign(forge.pki.privateKeyFromPem(leafKeys.privateKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

describe('verifyCertificate', () => {
  it('accepts a certificate issued by the CA', () => {
    expect(() => verifyCertificate(serverCert, ca.certPem, { now: NOW })).not.toThrow();
  });

  it('accepts the CA in a bundle or a list, and accepts the CA itself', () => {
    expect(() =>
      verifyCertificate(serverCert, otherCa.certPem + ca.certPem, { now: NOW }),
    ).not.toThrow();
    expect(() =>
      verifyCertificate(serverCert, [otherCa.certPem, ca.certPem], { now: NOW }),
    ).not.toThrow();
    expect(() => verifyCertificate(ca.certPem, ca.certPem, { now: NOW })).not.toThrow();
  });

  it('finds the right CA among old and new CAs of the same name (rotation)', () => {
    expect(() =>
      verifyCertificate(serverCert, [rotatedCa.certPem, ca.certPem], { now: NOW }),
    ).not.toThrow();
  });

  it('rejects a certificate from another CA', () => {
    expectCertError(
      () => verifyCertificate(serverCert, otherCa.certPem, { now: NOW }),
      'CERT_ERR_UNKNOWN_ISSUER',
      'certificate "CN=agent-c1" was issued by "CN=spokelink-hub-ca", which is not one of the 1 trusted CA certificate(s)',
    );
  });

  it('rejects a certificate from a same-name CA with another key', () => {
    expectCertError(
      () => verifyCertificate(serverCert, rotatedCa.certPem, { now: NOW }),
      'CERT_ERR_UNKNOWN_ISSUER',
      'certificate "CN=agent-c1" was issued by "CN=spokelink-hub-ca", which is not one of the 1 trusted CA certificate(s)',
    );
  });

  it('rejects a certificate whose signature does not verify', () => {
    expectCertError(
      () => verifyCertificate(withBadSignature(serverCert), ca.certPem, { now: NOW }),
      'CERT_ERR_BAD_SIGNATURE',
      'certificate "CN=agent-c1" has a signature that does not verify with the key of CA "CN=spokelink-hub-ca"',
    );
  });

  it('rejects a certificate issued by a non-CA', () => {
    const leaf = issue('server');
    expectCertError(
      () => verifyCertificate(issuedByLeaf(leaf), leaf, { now: NOW }),
      'CERT_ERR_USAGE',
      'issuer "CN=agent-c1" is not a CA allowed to sign certificates',
    );
  });

  it('rejects an expired certificate', () => {
    const notAfter = new Date(NOW.getTime() + 30 * DAY_MS);
    expect(() => verifyCertificate(serverCert, ca.certPem, { now: notAfter })).not.toThrow();
    expectCertError(
      () => verifyCertificate(serverCert, ca.certPem, { now: new Date(notAfter.getTime() + 1000) }),
      'CERT_ERR_EXPIRED',
      `certificate expired at ${notAfter.toISOString()}`,
    );
  });

  it('rejects a certificate that is not valid yet', () => {
    const notBefore = new Date(NOW.getTime() - BACKDATE_MS);
    expectCertError(
      () =>
        verifyCertificate(serverCert, ca.certPem, { now: new Date(notBefore.getTime() - 1000) }),
      'CERT_ERR_NOT_YET_VALID',
      `certificate is not valid before ${notBefore.toISOString()}`,
    );
  });

  it('rejects a CA that is not valid yet', () => {
    const futureCa = createCa({
      commonName: 'future-ca',
      now: new Date(NOW.getTime() + DAY_MS),
      keyPair: caKeys,
    });
    const early = issueCert(futureCa, {
      commonName: 'early',
      usage: 'client',
      now: NOW,
      keyPair: leafKeys,
    });
    expectCertError(
      () => verifyCertificate(early.certPem, futureCa.certPem, { now: NOW }),
      'CERT_ERR_NOT_YET_VALID',
      `CA certificate is not valid before ${new Date(NOW.getTime() + DAY_MS - BACKDATE_MS).toISOString()}`,
    );
  });

  it.each([
    { issued: 'server', wanted: 'server', error: undefined },
    { issued: 'client', wanted: 'client', error: undefined },
    { issued: 'server-client', wanted: 'server', error: undefined },
    { issued: 'server-client', wanted: 'server-client', error: undefined },
    {
      issued: 'server',
      wanted: 'client',
      error: 'certificate is not valid for client authentication (extKeyUsage: serverAuth)',
    },
    {
      issued: 'client',
      wanted: 'server',
      error: 'certificate is not valid for server authentication (extKeyUsage: clientAuth)',
    },
    {
      issued: 'client',
      wanted: 'server-client',
      error: 'certificate is not valid for server authentication (extKeyUsage: clientAuth)',
    },
  ] satisfies { issued: CertUsage; wanted: CertUsage; error: string | undefined }[])(
    'a $issued cert used as $wanted',
    ({ issued, wanted, error }) => {
      const check = () => verifyCertificate(issue(issued), ca.certPem, { now: NOW, usage: wanted });
      if (error === undefined) expect(check).not.toThrow();
      else expectCertError(check, 'CERT_ERR_USAGE', error);
    },
  );

  it.each([
    {
      name: 'bad certificate PEM',
      cert: 'x',
      cas: ca.certPem,
      code: 'CERT_ERR_INVALID_PEM',
      message: 'invalid certificate PEM: no PEM block found',
    },
    {
      name: 'bad CA PEM',
      cert: serverCert,
      cas: caKeys.publicKeyPem,
      code: 'CERT_ERR_INVALID_PEM',
      message: 'invalid CA certificate PEM: expected a "CERTIFICATE" PEM block, found "PUBLIC KEY"',
    },
    {
      name: 'no CAs',
      cert: serverCert,
      cas: [],
      code: 'CERT_ERR_INVALID_OPTIONS',
      message: 'invalid options: caPem holds no CA certificate',
    },
  ] as const)('rejects $name', ({ cert, cas, code, message }) => {
    expectCertError(
      () => verifyCertificate(cert, cas as string | string[], { now: NOW }),
      code,
      message,
    );
  });
});

describe('assertKeyMatchesCertificate', () => {
  it('accepts the matching key, in PKCS#8 or PKCS#1', () => {
    expect(() => assertKeyMatchesCertificate(serverCert, leafKeys.privateKeyPem)).not.toThrow();
    const pkcs1 = forge.pki.privateKeyToPem(forge.pki.privateKeyFromPem(leafKeys.privateKeyPem));
    expect(pkcs1).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(() => assertKeyMatchesCertificate(serverCert, pkcs1)).not.toThrow();
  });

  it('rejects another key', () => {
    expectCertError(
      () => assertKeyMatchesCertificate(serverCert, caKeys.privateKeyPem),
      'CERT_ERR_KEY_MISMATCH',
      'private key does not match certificate "CN=agent-c1"',
    );
  });

  it.each([
    {
      name: 'garbage',
      key: 'nope',
      code: 'CERT_ERR_INVALID_PEM',
      message: 'invalid private key PEM: no PEM block found',
    },
    {
      name: 'a public key',
      key: leafKeys.publicKeyPem,
      code: 'CERT_ERR_INVALID_PEM',
      message: 'invalid private key PEM: expected a "PRIVATE KEY" PEM block, found "PUBLIC KEY"',
    },
    {
      name: 'a corrupted key',
      key: '-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n',
      code: 'CERT_ERR_INVALID_KEY',
      message: /^private key cannot be read: /,
    },
  ] as const)('rejects $name', ({ key, code, message }) => {
    let thrown: unknown;
    try {
      assertKeyMatchesCertificate(serverCert, key);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CertError);
    expect(thrown).toMatchObject({
      code,
      message: typeof message === 'string' ? message : expect.stringMatching(message),
    });
  });
});
