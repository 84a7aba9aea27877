import { createPrivateKey, X509Certificate } from 'node:crypto';

import forge from 'node-forge';
import { describe, expect, it } from 'vitest';

import {
  type CertUsage,
  CLOCK_SKEW_BACKDATE_MS,
  createCa,
  DEFAULT_CERT_VALIDITY_DAYS,
  generateKeyPair,
  issueCert,
} from './index.ts';
import { expectCertError, nodeKeyPair } from './test-support.ts';

const DAY_MS = 86_400_000;
const NOW = new Date('2030-06-01T12:00:00.000Z');
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

// RSA keys are generated once per file and shared by every test (STYLE.md §7).
const caKeys = generateKeyPair();
const leafKeys = generateKeyPair();
const otherKeys = generateKeyPair();
const ca = createCa({
  commonName: 'spokelink-hub-ca',
  organizations: ['spokelink'],
  now: NOW,
  keyPair: caKeys,
});
const caCert = new X509Certificate(ca.certPem);

/** ECDSA and Ed25519 keys are cheap to generate, unlike RSA. */

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

describe('issueCert', () => {
  const subject = {
    commonName: 'agent-cluster1',
    organizations: ['spokelink:agents'],
    dnsNames: ['agent.cluster1.svc', 'localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  };

  it.each([
    { usage: 'server', purposes: [SERVER_AUTH] },
    { usage: 'client', purposes: [CLIENT_AUTH] },
    { usage: 'server-client', purposes: [SERVER_AUTH, CLIENT_AUTH] },
  ] satisfies { usage: CertUsage; purposes: string[] }[])(
    'issues a $usage cert chained to the CA',
    ({ usage, purposes }) => {
      const issued = issueCert(ca, { ...subject, usage, now: NOW, keyPair: leafKeys });
      const cert = new X509Certificate(issued.certPem);
      expect(cert.verify(caCert.publicKey)).toBe(true);
      expect(cert.checkIssued(caCert)).toBe(true);
      expect(cert.ca).toBe(false);
      expect(cert.subject).toBe('O=spokelink:agents\nCN=agent-cluster1');
      expect(cert.issuer).toBe(caCert.subject);
      expect(cert.subjectAltName).toBe(
        'DNS:agent.cluster1.svc, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
      );
      expect(cert.keyUsage).toEqual(purposes);
      expect(cert.checkPrivateKey(createPrivateKey(issued.keyPem))).toBe(true);
      expect(issued.keyPem).toBe(leafKeys.privateKeyPem);
    },
  );

  it('sets critical CA:false, digitalSignature + keyEncipherment and both key identifiers', () => {
    const issued = issueCert(ca, { ...subject, usage: 'server', now: NOW, keyPair: leafKeys });
    const ext = forgeExtensions(issued.certPem);
    expect(ext.basicConstraints).toMatchObject({ critical: true, cA: false });
    expect(ext.keyUsage).toMatchObject({
      critical: true,
      digitalSignature: true,
      keyEncipherment: true,
      keyCertSign: false,
    });
    const caKeyId = forgeExtensions(ca.certPem).subjectKeyIdentifier.subjectKeyIdentifier;
    // authorityKeyIdentifier = SEQUENCE { [0] keyIdentifier }: 30 16 80 14 <20-byte id>
    const aki = forge.util.bytesToHex(ext.authorityKeyIdentifier?.value ?? '');
    expect(aki).toBe(`30168014${caKeyId}`);
    expect(ext.subjectKeyIdentifier.subjectKeyIdentifier).toMatch(/^[0-9a-f]{40}$/);
  });

  it('gives each certificate a random positive serial of at most 128 bits', () => {
    const serials = Array.from({ length: 5 }, () => {
      const issued = issueCert(ca, {
        commonName: 'serial',
        usage: 'client',
        now: NOW,
        keyPair: leafKeys,
      });
      return forge.pki.certificateFromPem(issued.certPem).serialNumber; // hex of the DER INTEGER
    });
    expect(new Set(serials).size).toBe(serials.length);
    for (const serial of serials) {
      expect(parseInt(serial.slice(0, 2), 16) & 0x80).toBe(0); // positive
      expect(BigInt(`0x${serial}`) < 1n << 128n).toBe(true);
      expect(BigInt(`0x${serial}`) > 0n).toBe(true);
    }
  });

  it('backdates notBefore for clock skew and lasts validityDays (default one year)', () => {
    const byDefault = new X509Certificate(
      issueCert(ca, { commonName: 'a', usage: 'client', now: NOW, keyPair: leafKeys }).certPem,
    );
    expect(byDefault.validFromDate.getTime()).toBe(NOW.getTime() - CLOCK_SKEW_BACKDATE_MS);
    expect(byDefault.validToDate.getTime()).toBe(
      NOW.getTime() + DEFAULT_CERT_VALIDITY_DAYS * DAY_MS,
    );
    const hourLong = issueCert(ca, {
      commonName: 'a',
      usage: 'client',
      validityDays: 1 / 24,
      now: NOW,
      keyPair: leafKeys,
    });
    expect(new X509Certificate(hourLong.certPem).validToDate.getTime()).toBe(
      NOW.getTime() + 3_600_000,
    );
  });

  it("caps notAfter at the CA's notAfter", () => {
    const issued = issueCert(ca, {
      commonName: 'a',
      usage: 'client',
      validityDays: 100_000,
      now: NOW,
      keyPair: leafKeys,
    });
    expect(new X509Certificate(issued.certPem).validTo).toBe(caCert.validTo);
  });

  it('issues Ed25519 and ECDSA leaves with digitalSignature only', () => {
    for (const type of ['ed25519', 'ec'] as const) {
      const issued = issueCert(ca, {
        commonName: type,
        usage: 'client',
        now: NOW,
        keyPair: nodeKeyPair(type),
      });
      const cert = new X509Certificate(issued.certPem);
      expect(cert.verify(caCert.publicKey)).toBe(true);
      expect(cert.publicKey.asymmetricKeyType).toBe(type);
    }
  });

  it('signs with an ECDSA CA', () => {
    const ecCa = createCa({ commonName: 'ec-ca', now: NOW, keyPair: nodeKeyPair('ec') });
    const issued = issueCert(ecCa, {
      commonName: 'leaf',
      usage: 'server',
      now: NOW,
      keyPair: leafKeys,
    });
    expect(
      new X509Certificate(issued.certPem).verify(new X509Certificate(ecCa.certPem).publicKey),
    ).toBe(true);
  });

  it.each([
    {
      name: 'a non-IP in ipAddresses',
      opts: { ipAddresses: ['127.0.0.1', 'localhost'] },
      message: 'invalid options: ipAddresses[1] "localhost" is not an IPv4 or IPv6 address',
    },
    {
      name: 'a DNS name with a space',
      opts: { dnsNames: ['bad name'] },
      message: 'invalid options: dnsNames[0] "bad name" is not a valid DNS name',
    },
    {
      name: 'a DNS name with an empty label',
      opts: { dnsNames: ['a..b'] },
      message: 'invalid options: dnsNames[0] "a..b" is not a valid DNS name',
    },
    {
      name: 'an unknown usage',
      opts: { usage: 'peer' as CertUsage },
      message: 'invalid options: usage must be one of server, client, server-client, got "peer"',
    },
    {
      name: 'validityDays of zero',
      opts: { validityDays: 0 },
      message: 'invalid options: validityDays must be a positive number of days, got 0',
    },
    {
      name: 'an empty commonName',
      opts: { commonName: '' },
      message: 'invalid options: commonName must be a non-empty string',
    },
  ])('rejects $name with CERT_ERR_INVALID_OPTIONS', ({ opts, message }) => {
    expectCertError(
      () =>
        issueCert(ca, {
          commonName: 'leaf',
          usage: 'server',
          now: NOW,
          keyPair: leafKeys,
          ...opts,
        }),
      'CERT_ERR_INVALID_OPTIONS',
      message,
    );
  });

  it('refuses a CA whose key does not match its certificate', () => {
    expectCertError(
      () =>
        issueCert(
          { certPem: ca.certPem, keyPem: otherKeys.privateKeyPem },
          { commonName: 'x', usage: 'server', keyPair: leafKeys },
        ),
      'CERT_ERR_KEY_MISMATCH',
      'CA private key does not match CA certificate "CN=spokelink-hub-ca,O=spokelink"',
    );
  });

  it('refuses a leaf certificate as CA', () => {
    const leaf = issueCert(ca, {
      commonName: 'not-a-ca',
      usage: 'server',
      now: NOW,
      keyPair: leafKeys,
    });
    expectCertError(
      () => issueCert(leaf, { commonName: 'x', usage: 'server', now: NOW, keyPair: otherKeys }),
      'CERT_ERR_USAGE',
      'certificate "CN=not-a-ca" is not a CA allowed to sign certificates',
    );
  });

  it('refuses to issue from an expired CA', () => {
    const later = new Date(caCert.validToDate.getTime() + 1000);
    expectCertError(
      () => issueCert(ca, { commonName: 'x', usage: 'server', now: later, keyPair: leafKeys }),
      'CERT_ERR_EXPIRED',
      `CA certificate expired at ${caCert.validToDate.toISOString()}`,
    );
  });

  it('refuses a CA that is not PEM', () => {
    expectCertError(
      () =>
        issueCert(
          { certPem: 'garbage', keyPem: caKeys.privateKeyPem },
          { commonName: 'x', usage: 'server' },
        ),
      'CERT_ERR_INVALID_PEM',
      'invalid CA certificate PEM: no PEM block found',
    );
  });
});
