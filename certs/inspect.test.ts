import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';

import forge from 'node-forge';
import { describe, expect, it } from 'vitest';

import {
  createCa,
  fingerprintSha256,
  generateKeyPair,
  issueCert,
  parseCertificate,
  publicKeyHashSha256,
  remainingLifetimeMs,
  shouldRotate,
} from './index.ts';
import { expectCertError } from './test-support.ts';

const NOW = new Date('2030-06-01T12:00:00.000Z');
const DAY_MS = 86_400_000;
const BACKDATE_MS = 5 * 60_000;

const caKeys = generateKeyPair();
const leafKeys = generateKeyPair();
const ca = createCa({
  commonName: 'spokelink-hub-ca',
  organizations: ['spokelink'],
  now: NOW,
  keyPair: caKeys,
});
const leaf = issueCert(ca, {
  commonName: 'proxy-server',
  organizations: ['spokelink:hub', 'spokelink:servers'],
  dnsNames: ['proxy.spokelink.svc', 'localhost'],
  ipAddresses: ['127.0.0.1', 'fd00:0:0:0:0:0:0:10'],
  usage: 'server-client',
  validityDays: 10,
  now: NOW,
  keyPair: leafKeys,
});

describe('parseCertificate', () => {
  it('reads a leaf', () => {
    const x509 = new X509Certificate(leaf.certPem);
    expect(parseCertificate(leaf.certPem)).toEqual({
      commonName: 'proxy-server',
      organizations: ['spokelink:hub', 'spokelink:servers'],
      issuerCommonName: 'spokelink-hub-ca',
      serialNumber: x509.serialNumber.toLowerCase(),
      notBefore: new Date(NOW.getTime() - BACKDATE_MS),
      notAfter: new Date(NOW.getTime() + 10 * DAY_MS),
      dnsNames: ['proxy.spokelink.svc', 'localhost'],
      ipAddresses: ['127.0.0.1', 'fd00::10'],
      isCa: false,
      fingerprintSha256: x509.fingerprint256.replaceAll(':', '').toLowerCase(),
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extKeyUsage: ['serverAuth', 'clientAuth'],
    });
  });

  it('reads a CA', () => {
    expect(parseCertificate(ca.certPem)).toMatchObject({
      commonName: 'spokelink-hub-ca',
      organizations: ['spokelink'],
      issuerCommonName: 'spokelink-hub-ca',
      isCa: true,
      dnsNames: [],
      ipAddresses: [],
      keyUsage: ['keyCertSign', 'cRLSign'],
      extKeyUsage: [],
    });
  });

  it('reads the first certificate of a bundle', () => {
    expect(parseCertificate(leaf.certPem + ca.certPem).commonName).toBe('proxy-server');
  });

  it('reads a certificate written by node-forge (PrintableString names, v3 extensions)', () => {
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(leafKeys.publicKeyPem);
    cert.serialNumber = '00ff01';
    cert.validity.notBefore = new Date('2030-01-01T00:00:00Z');
    cert.validity.notAfter = new Date('2031-01-01T00:00:00Z');
    const name = [
      { shortName: 'C', value: 'DE' },
      { name: 'organizationName', value: 'Forge Org' },
      { name: 'commonName', value: 'forge.example' },
    ];
    cert.setSubject(name);
    cert.setIssuer(name);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'forge.example' },
          { type: 7, ip: '192.0.2.9' },
        ],
      },
    ]);
    cert.sign(forge.pki.privateKeyFromPem(leafKeys.privateKeyPem), forge.md.sha256.create());
    expect(parseCertificate(forge.pki.certificateToPem(cert))).toMatchObject({
      commonName: 'forge.example',
      organizations: ['Forge Org'],
      serialNumber: 'ff01',
      notAfter: new Date('2031-01-01T00:00:00Z'),
      dnsNames: ['forge.example'],
      ipAddresses: ['192.0.2.9'],
      isCa: true,
      keyUsage: [],
    });
  });

  it('reads a certificate with an ECDSA key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecCa = createCa({
      commonName: 'ec-ca',
      now: NOW,
      keyPair: {
        privateKeyPem: ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
        publicKeyPem: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    });
    expect(parseCertificate(ecCa.certPem)).toMatchObject({ commonName: 'ec-ca', isCa: true });
  });

  it.each([
    {
      name: 'garbage',
      pem: 'not a certificate',
      message: 'invalid certificate PEM: no PEM block found',
    },
    {
      name: 'a key',
      pem: leafKeys.privateKeyPem,
      message: 'invalid certificate PEM: expected a "CERTIFICATE" PEM block, found "PRIVATE KEY"',
    },
    {
      name: 'base64 text that is not DER',
      pem: '-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQh\n-----END CERTIFICATE-----\n',
      message: 'invalid certificate: truncated DER at byte 0',
    },
    {
      name: 'DER that is not a certificate',
      pem: '-----BEGIN CERTIFICATE-----\nBAA=\n-----END CERTIFICATE-----\n',
      message: 'invalid certificate: expected tag 0x30 for Certificate, found 0x04',
    },
  ])('rejects $name with CERT_ERR_INVALID_PEM', ({ pem, message }) => {
    expectCertError(() => parseCertificate(pem), 'CERT_ERR_INVALID_PEM', message);
  });
});

describe('fingerprints', () => {
  it('fingerprintSha256 is lowercase hex SHA-256 of the DER', () => {
    const x509 = new X509Certificate(leaf.certPem);
    expect(fingerprintSha256(leaf.certPem)).toBe(
      createHash('sha256').update(x509.raw).digest('hex'),
    );
    expect(fingerprintSha256(leaf.certPem)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('publicKeyHashSha256 hashes the SubjectPublicKeyInfo, as kubeadm does', () => {
    const spki = new X509Certificate(ca.certPem).publicKey.export({ type: 'spki', format: 'der' });
    expect(publicKeyHashSha256(ca.certPem)).toBe(
      `sha256:${createHash('sha256').update(spki).digest('hex')}`,
    );
  });

  it('publicKeyHashSha256 is stable when a CA is re-issued with the same key', () => {
    const reissued = createCa({
      commonName: 'spokelink-hub-ca',
      organizations: ['spokelink'],
      keyPair: caKeys,
    });
    expect(fingerprintSha256(reissued.certPem)).not.toBe(fingerprintSha256(ca.certPem));
    expect(publicKeyHashSha256(reissued.certPem)).toBe(publicKeyHashSha256(ca.certPem));
  });
});

describe('lifetime', () => {
  const notBefore = NOW.getTime() - BACKDATE_MS;
  const notAfter = NOW.getTime() + 10 * DAY_MS;
  const at = (fractionOfLifetime: number): Date =>
    new Date(notBefore + fractionOfLifetime * (notAfter - notBefore));

  it('remainingLifetimeMs counts down to notAfter and goes negative', () => {
    expect(remainingLifetimeMs(leaf.certPem, NOW)).toBe(10 * DAY_MS);
    expect(remainingLifetimeMs(leaf.certPem, new Date(notAfter + 1000))).toBe(-1000);
  });

  it.each([
    { name: 'at issue', now: at(0), fraction: undefined, expected: false },
    {
      name: 'just before 80%',
      now: new Date(at(0.8).getTime() - 1),
      fraction: undefined,
      expected: false,
    },
    { name: 'at 80%', now: at(0.8), fraction: undefined, expected: true },
    { name: 'after expiry', now: at(1.5), fraction: undefined, expected: true },
    { name: 'at 50% with fraction 0.5', now: at(0.5), fraction: 0.5, expected: true },
    { name: 'at 90% with fraction 1', now: at(0.9), fraction: 1, expected: false },
  ])('shouldRotate $name → $expected', ({ now, fraction, expected }) => {
    expect(shouldRotate(leaf.certPem, fraction === undefined ? { now } : { now, fraction })).toBe(
      expected,
    );
  });

  it.each([0, -0.1, 1.5, Number.NaN])('shouldRotate rejects fraction %s', (fraction) => {
    expectCertError(
      () => shouldRotate(leaf.certPem, { fraction }),
      'CERT_ERR_INVALID_OPTIONS',
      `invalid options: fraction must be a number in (0, 1], got ${fraction}`,
    );
  });
});
