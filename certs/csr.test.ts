import { generateKeyPairSync, X509Certificate } from 'node:crypto';

import forge from 'node-forge';
import { describe, expect, it } from 'vitest';

import {
  createCa,
  createCsr,
  generateKeyPair,
  type KeyPair,
  parseCertificate,
  parseCsr,
  signCsr,
} from './index.ts';
import { expectCertError } from './test-support.ts';

const NOW = new Date('2030-06-01T12:00:00.000Z');
const DAY_MS = 86_400_000;

const caKeys = generateKeyPair();
const agentKeys = generateKeyPair();
const ca = createCa({ commonName: 'spokelink-hub-ca', now: NOW, keyPair: caKeys });
const caCert = new X509Certificate(ca.certPem);

const request = {
  commonName: 'system:open-cluster-management:cluster1:agent',
  organizations: ['system:open-cluster-management:cluster1', 'spokelink:agents'],
  dnsNames: ['agent.cluster1.example'],
  ipAddresses: ['10.0.0.7', '2001:DB8::7'],
};
const csrPem = createCsr({ ...request, keyPair: agentKeys });
// Too small to certify, but fine for node-forge to sign a CSR with (PKCS#1, which forge reads).
const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
const weakKeys: KeyPair = {
  privateKeyPem: weakRsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  publicKeyPem: weakRsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};

/** A CSR written by node-forge (an independent implementation), signed with `md`. */
function forgeCsr(
  keys: KeyPair,
  attrs: forge.pki.CertificateField[],
  md: forge.md.MessageDigest = forge.md.sha256.create(),
): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  csr.setSubject(attrs);
  csr.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem), md);
  return forge.pki.certificationRequestToPem(csr);
}

function tamper(pem: string, from: string, to: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const at = der.indexOf(from);
  expect(at).toBeGreaterThan(0);
  der.write(to, at, 'latin1');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('createCsr / parseCsr', () => {
  it('round-trips subject, SANs and public key', () => {
    expect(csrPem).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+\n-----END CERTIFICATE REQUEST-----\n$/,
    );
    expect(parseCsr(csrPem)).toEqual({
      commonName: request.commonName,
      organizations: request.organizations,
      dnsNames: ['agent.cluster1.example'],
      ipAddresses: ['10.0.0.7', '2001:db8::7'],
      publicKeyPem: agentKeys.publicKeyPem,
    });
  });

  it('writes a CSR that node-forge verifies, with the SANs as an extensionRequest', () => {
    const csr = forge.pki.certificationRequestFromPem(csrPem);
    expect(csr.verify()).toBe(true);
    expect(csr.subject.getField('CN').value).toBe(request.commonName);
    const extensionRequest = csr.getAttribute({ name: 'extensionRequest' }) as unknown as {
      extensions: { name: string; altNames: { type: number; value: string }[] }[];
    };
    const san = extensionRequest.extensions.find((e) => e.name === 'subjectAltName');
    expect(san?.altNames.map((n) => n.type)).toEqual([2, 7, 7]);
  });

  it('omits the extensionRequest when there are no SANs', () => {
    const plain = createCsr({ commonName: 'plain', keyPair: agentKeys });
    expect(
      forge.pki.certificationRequestFromPem(plain).getAttribute({ name: 'extensionRequest' }),
    ).toBeNull();
    expect(parseCsr(plain)).toMatchObject({
      commonName: 'plain',
      organizations: [],
      dnsNames: [],
      ipAddresses: [],
    });
  });

  it('reads a CSR written by node-forge', () => {
    const pem = forgeCsr(agentKeys, [
      { name: 'commonName', value: 'forge-agent' },
      { name: 'organizationName', value: 'forge' },
    ]);
    expect(parseCsr(pem)).toMatchObject({ commonName: 'forge-agent', organizations: ['forge'] });
  });

  it('reads ECDSA and Ed25519 CSRs', () => {
    for (const type of ['ec', 'ed25519'] as const) {
      const pair =
        type === 'ec'
          ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
          : generateKeyPairSync('ed25519');
      const keyPair = {
        privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
      expect(parseCsr(createCsr({ commonName: type, keyPair }))).toMatchObject({
        commonName: type,
        publicKeyPem: keyPair.publicKeyPem,
      });
    }
  });

  it('rejects a CSR whose signed content was altered', () => {
    expectCertError(
      () => parseCsr(tamper(csrPem, 'cluster1:agent', 'cluster2:agent')),
      'CERT_ERR_CSR_SIGNATURE',
      'CSR signature does not match its public key',
    );
  });

  it('rejects a SHA-1 signed CSR', () => {
    const pem = forgeCsr(agentKeys, [{ name: 'commonName', value: 'old' }], forge.md.sha1.create());
    expectCertError(
      () => parseCsr(pem),
      'CERT_ERR_CSR_SIGNATURE',
      'CSR signature algorithm 1.2.840.113549.1.1.5 is not supported',
    );
  });

  it.each([
    { name: 'garbage', pem: 'hello', message: 'invalid CSR PEM: no PEM block found' },
    {
      name: 'a certificate',
      pem: ca.certPem,
      message: 'invalid CSR PEM: expected a "CERTIFICATE REQUEST" PEM block, found "CERTIFICATE"',
    },
    {
      name: 'a truncated CSR',
      pem: `-----BEGIN CERTIFICATE REQUEST-----\n${csrPem.split('\n').slice(1, 5).join('\n')}\n-----END CERTIFICATE REQUEST-----\n`,
      message: 'invalid CSR: truncated DER at byte 0',
    },
  ])('rejects $name with CERT_ERR_INVALID_PEM', ({ pem, message }) => {
    expectCertError(() => parseCsr(pem), 'CERT_ERR_INVALID_PEM', message);
  });

  it('rejects a non-IP in ipAddresses', () => {
    expectCertError(
      () => createCsr({ commonName: 'x', ipAddresses: ['10.0.0.256'], keyPair: agentKeys }),
      'CERT_ERR_INVALID_OPTIONS',
      'invalid options: ipAddresses[0] "10.0.0.256" is not an IPv4 or IPv6 address',
    );
  });
});

describe('signCsr', () => {
  it("certifies the CSR's key, subject and SANs with the requested usage", () => {
    const certPem = signCsr(ca, csrPem, { usage: 'client', validityDays: 30, now: NOW });
    const cert = new X509Certificate(certPem);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(agentKeys.publicKeyPem);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.validToDate.getTime()).toBe(NOW.getTime() + 30 * DAY_MS);
    expect(parseCertificate(certPem)).toMatchObject({
      commonName: request.commonName,
      organizations: request.organizations,
      issuerCommonName: 'spokelink-hub-ca',
      dnsNames: ['agent.cluster1.example'],
      ipAddresses: ['10.0.0.7', '2001:db8::7'],
      isCa: false,
    });
  });

  it('certifies a CSR written by node-forge', () => {
    const pem = forgeCsr(agentKeys, [{ name: 'commonName', value: 'forge-agent' }]);
    const cert = new X509Certificate(signCsr(ca, pem, { usage: 'server-client', now: NOW }));
    expect(cert.subject).toBe('CN=forge-agent');
    expect(cert.verify(caCert.publicKey)).toBe(true);
  });

  it('rejects a CSR without a commonName', () => {
    const pem = forgeCsr(agentKeys, [{ name: 'organizationName', value: 'only-o' }]);
    expectCertError(
      () => signCsr(ca, pem, { usage: 'client', now: NOW }),
      'CERT_ERR_INVALID_CSR',
      'CSR: commonName must be a non-empty string',
    );
  });

  it('rejects a CSR for a 1024-bit RSA key', () => {
    const pem = forgeCsr(weakKeys, [{ name: 'commonName', value: 'weak' }]);
    expectCertError(
      () => signCsr(ca, pem, { usage: 'client', now: NOW }),
      'CERT_ERR_INVALID_KEY',
      'CSR public key is a 1024-bit RSA key; at least 2048 bits are required',
    );
  });

  it('rejects a tampered CSR', () => {
    expectCertError(
      () =>
        signCsr(ca, tamper(csrPem, 'agent.cluster1', 'agent.cluster9'), {
          usage: 'client',
          now: NOW,
        }),
      'CERT_ERR_CSR_SIGNATURE',
      'CSR signature does not match its public key',
    );
  });

  it('rejects an unknown usage before reading the CSR', () => {
    expectCertError(
      () => signCsr(ca, 'not a csr', { usage: 'both' as 'client' }),
      'CERT_ERR_INVALID_OPTIONS',
      'invalid options: usage must be one of server, client, server-client, got "both"',
    );
  });
});
