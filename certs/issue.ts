import type { KeyObject } from 'node:crypto';

import { CLOCK_SKEW_BACKDATE_MS, type CertificateAuthority, type LoadedCa, loadCa } from './ca.ts';
import { readVerifiedCsr } from './csr.ts';
import { CertError } from './errors.ts';
import { assertSupportedKey, generateKeyPair, type KeyPair, loadKeyPair } from './keys.ts';
import { OID } from './oids.ts';
import { encodePem } from './pem.ts';
import {
  type CertUsage,
  resolveNow,
  type SubjectOptions,
  type ValidSubject,
  validateSubject,
  validateUsage,
  validityMs,
} from './subject.ts';
import {
  authorityKeyIdentifier,
  basicConstraints,
  buildCertificate,
  encodeName,
  type Extension,
  extKeyUsage,
  keyIdentifier,
  keyUsage,
  randomSerial,
  subjectAltName,
  subjectKeyIdentifier,
} from './x509-builder.ts';
import { parseSpkiDer } from './x509-parser.ts';

/** Default leaf lifetime: one year, as kubeadm does. Rotate with shouldRotate(). */
export const DEFAULT_CERT_VALIDITY_DAYS = 365;

const EXT_KEY_USAGES: Readonly<Record<CertUsage, readonly string[]>> = {
  server: [OID.serverAuth],
  client: [OID.clientAuth],
  'server-client': [OID.serverAuth, OID.clientAuth],
};

/** A leaf certificate and its unencrypted private key, both PEM. Never log `keyPem`. */
export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

/** How long a leaf lives and what it may do; shared by issueCert() and signCsr(). */
export interface LeafOptions {
  usage: CertUsage;
  /**
   * Lifetime in days from `now` (fractions allowed), default {@link DEFAULT_CERT_VALIDITY_DAYS}.
   * Capped at the CA's own notAfter, so a leaf never outlives its issuer.
   */
  validityDays?: number;
  /** The issuing time (default: the current time); notBefore is backdated from it. */
  now?: Date;
}

/** Options of {@link issueCert}. */
export interface IssueCertOptions extends SubjectOptions, LeafOptions {
  /** The leaf key; by default a new 2048-bit RSA key. RSA, ECDSA and Ed25519 are accepted. */
  keyPair?: KeyPair;
}

/**
 * Issues a leaf certificate signed by `ca`: basicConstraints CA:false, keyUsage
 * digitalSignature (+ keyEncipherment for RSA keys), extKeyUsage serverAuth and/or clientAuth
 * per `usage`, dNSName/iPAddress SANs, subject and authority key identifiers, a random 128-bit
 * serial, notBefore backdated by {@link CLOCK_SKEW_BACKDATE_MS}. Synchronous; without `keyPair`
 * it generates an RSA key (tens of milliseconds). Every call issues a new certificate with a
 * new serial; it keeps no state, so concurrent calls with the same CA are fine.
 * @throws CertError CERT_ERR_INVALID_OPTIONS; CERT_ERR_INVALID_PEM / CERT_ERR_INVALID_KEY for a bad
 *   CA or key pair; CERT_ERR_USAGE when `ca` is not a CA; CERT_ERR_KEY_MISMATCH when the CA key
 *   does not match its certificate; CERT_ERR_EXPIRED when the CA has expired at `now`.
 */
export function issueCert(ca: CertificateAuthority, opts: IssueCertOptions): IssuedCert {
  const subject = validateSubject(opts);
  const leaf = prepareLeaf(ca, opts);
  const keyPair = opts.keyPair ?? generateKeyPair();
  const { privateKey, spki } = loadKeyPair(keyPair, 'keyPair');
  return {
    certPem: encodePem('CERTIFICATE', buildLeaf(leaf, subject, spki, privateKey)),
    keyPem: keyPair.privateKeyPem,
  };
}

/**
 * Signs a PKCS#10 request with `ca`. Subject (CN, O) and SANs (dNSName, iPAddress; other SAN
 * types are dropped) come from the CSR, whose self-signature is checked first; usage and
 * lifetime come from `opts`, never from the CSR. The caller decides whether the requested
 * identity is allowed (e.g. that the CN names the registering cluster) before calling this.
 * Stateless and safe to call concurrently.
 * @returns the certificate PEM.
 * @throws CertError CERT_ERR_INVALID_PEM, CERT_ERR_CSR_SIGNATURE, CERT_ERR_INVALID_CSR (no CN,
 *   bad SAN), CERT_ERR_INVALID_KEY (unsupported CSR key), plus the CA errors of issueCert().
 */
export function signCsr(ca: CertificateAuthority, csrPem: string, opts: LeafOptions): string {
  const leaf = prepareLeaf(ca, opts);
  const csr = readVerifiedCsr(csrPem);
  assertSupportedKey(csr.publicKey, 'CSR public key');
  const subject = validateSubject(
    {
      commonName: csr.subject.commonName,
      organizations: csr.subject.organizations,
      dnsNames: csr.extensions.dnsNames,
      ipAddresses: csr.extensions.ipAddresses,
    },
    'CSR',
    'CERT_ERR_INVALID_CSR',
  );
  return encodePem('CERTIFICATE', buildLeaf(leaf, subject, csr.spki, csr.publicKey));
}

interface PreparedLeaf {
  readonly usage: CertUsage;
  readonly issuer: LoadedCa;
  readonly now: Date;
  readonly notAfter: Date;
}

/** Validates the leaf options and loads the CA: everything except the subject and its key. */
function prepareLeaf(ca: CertificateAuthority, opts: LeafOptions): PreparedLeaf {
  if (typeof opts !== 'object' || opts === null) {
    throw new CertError('CERT_ERR_INVALID_OPTIONS', 'invalid options: expected an options object');
  }
  const usage = validateUsage(opts.usage);
  const lifetimeMs = validityMs(opts.validityDays, DEFAULT_CERT_VALIDITY_DAYS);
  const now = resolveNow(opts.now);
  const issuer = loadCa(ca, now);
  const notAfter = new Date(Math.min(now.getTime() + lifetimeMs, issuer.cert.notAfter.getTime()));
  return { usage, issuer, now, notAfter };
}

function buildLeaf(
  leaf: PreparedLeaf,
  subject: ValidSubject,
  spki: Buffer,
  subjectKey: KeyObject,
): Buffer {
  const { issuer, now } = leaf;
  const extensions: Extension[] = [
    basicConstraints(false),
    keyUsage(
      subjectKey.asymmetricKeyType === 'rsa'
        ? ['digitalSignature', 'keyEncipherment']
        : ['digitalSignature'],
    ),
    extKeyUsage(EXT_KEY_USAGES[leaf.usage]),
    subjectKeyIdentifier(keyIdentifier(parseSpkiDer(spki, 'public key').subjectPublicKey)),
    authorityKeyIdentifier(issuer.keyId),
  ];
  if (subject.dnsNames.length > 0 || subject.ipAddresses.length > 0) {
    extensions.push(subjectAltName(subject.dnsNames, subject.ipAddresses));
  }
  return buildCertificate(
    {
      serial: randomSerial(),
      issuer: issuer.cert.subject.der,
      subject: encodeName(subject.commonName, subject.organizations),
      notBefore: new Date(now.getTime() - CLOCK_SKEW_BACKDATE_MS),
      notAfter: leaf.notAfter,
      spki,
      extensions,
    },
    issuer.key,
  );
}
