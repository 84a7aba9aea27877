import { X509Certificate } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  createCa,
  fingerprintSha256,
  generateKeyPair,
  parseCertificate,
  splitPemBundle,
} from './index.ts';
import { expectCertError } from './test-support.ts';

const keys = generateKeyPair();
const first = createCa({ commonName: 'first-ca', keyPair: keys });
const second = createCa({ commonName: 'second-ca', keyPair: keys });

const body = first.certPem.split('\n').slice(1, -2).join(''); // base64 only, one line

describe('splitPemBundle', () => {
  it('splits a bundle into its certificates, in order', () => {
    expect(splitPemBundle(first.certPem + second.certPem)).toEqual([first.certPem, second.certPem]);
  });

  it('normalizes CRLF, odd line lengths and explanatory text', () => {
    const messy =
      'subject=CN = first-ca\r\n' +
      first.certPem.replace(/\n/g, '\r\n').replace(/([A-Za-z0-9+/=]{64})\r\n(?!-)/g, '$1') +
      '\r\n# trailing comment\r\n' +
      second.certPem;
    expect(splitPemBundle(messy)).toEqual([first.certPem, second.certPem]);
  });

  it('returns certificates node:crypto reads', () => {
    const [pem] = splitPemBundle(first.certPem);
    expect(
      new X509Certificate(pem as string).fingerprint256.replaceAll(':', '').toLowerCase(),
    ).toBe(fingerprintSha256(first.certPem));
  });

  it.each([
    {
      name: 'an empty string',
      pem: '',
      message: 'invalid certificate bundle PEM: no PEM block found',
    },
    {
      name: 'garbage',
      pem: 'ceci n’est pas un PEM',
      message: 'invalid certificate bundle PEM: no PEM block found',
    },
    {
      name: 'a key in the bundle',
      pem: first.certPem + keys.privateKeyPem,
      message:
        'invalid certificate bundle (certificate 2) PEM: expected a "CERTIFICATE" PEM block, found "PRIVATE KEY"',
    },
    {
      name: 'a missing END line',
      pem: first.certPem + '-----BEGIN CERTIFICATE-----\nAAAA\n',
      message: 'invalid certificate bundle PEM: a BEGIN line has no matching END line',
    },
    {
      name: 'mismatched labels',
      pem: `-----BEGIN CERTIFICATE-----\n${body}\n-----END X509 CRL-----\n`,
      message: 'invalid certificate bundle PEM: "BEGIN CERTIFICATE" is closed by "END X509 CRL"',
    },
    {
      name: 'base64 cut mid-quantum',
      pem: `-----BEGIN CERTIFICATE-----\n${body.slice(0, 101)}\n-----END CERTIFICATE-----\n`,
      message:
        'invalid certificate bundle PEM: "CERTIFICATE" block has a malformed or truncated base64 body',
    },
    {
      name: 'base64 cut on a quantum boundary',
      pem: `-----BEGIN CERTIFICATE-----\n${body.slice(0, 100)}\n-----END CERTIFICATE-----\n`,
      message: 'invalid certificate bundle: truncated DER at byte 0',
    },
    {
      name: 'characters outside base64',
      pem: `-----BEGIN CERTIFICATE-----\n${body.replace('A', '*')}\n-----END CERTIFICATE-----\n`,
      message:
        'invalid certificate bundle PEM: "CERTIFICATE" block has a malformed or truncated base64 body',
    },
    {
      name: 'an empty block',
      pem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
      message:
        'invalid certificate bundle PEM: "CERTIFICATE" block has a malformed or truncated base64 body',
    },
    {
      name: 'RFC 1421 headers',
      pem: `-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n${body}\n-----END CERTIFICATE-----\n`,
      message:
        'invalid certificate bundle PEM: "CERTIFICATE" block has RFC 1421 headers (an encrypted legacy key?), which are not supported',
    },
  ])('rejects $name with CERT_ERR_INVALID_PEM', ({ pem, message }) => {
    expectCertError(() => splitPemBundle(pem), 'CERT_ERR_INVALID_PEM', message);
  });

  it('rejects a non-string', () => {
    expectCertError(
      () => parseCertificate(undefined as unknown as string),
      'CERT_ERR_INVALID_PEM',
      'invalid certificate PEM: expected a PEM string, got undefined',
    );
  });
});
