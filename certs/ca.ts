import type { KeyObject } from 'node:crypto';

import { CertError } from './errors.ts';
import { generateKeyPair, type KeyPair, loadKeyPair, loadPrivateKey } from './keys.ts';
import { encodePem, readCertificatePem } from './pem.ts';
import { resolveNow, validateSubject, validityMs } from './subject.ts';
import {
  basicConstraints,
  buildCertificate,
  encodeName,
  keyIdentifier,
  keyUsage,
  randomSerial,
  subjectKeyIdentifier,
} from './x509-builder.ts';
import { nodeCertificate, type ParsedCertificate, parseSpkiDer } from './x509-parser.ts';

/** Default CA lifetime: ten years, as kubeadm does. */
export const DEFAULT_CA_VALIDITY_DAYS = 3650;
/**
 * Every certificate starts this much before "now", so that a peer whose clock is a little
 * behind still accepts it (as cfssl and the Kubernetes signer do).
 */
export const CLOCK_SKEW_BACKDATE_MS = 5 * 60_000;

/**
 * A certificate authority: its self-signed certificate and unencrypted private key, both PEM.
 * Treat `keyPem` as a secret (mode 0600 files, Secrets), never log it.
 */
export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

/** Options of {@link createCa}. */
export interface CreateCaOptions {
  commonName: string;
  organizations?: string[];
  /** Lifetime in days from `now` (fractions allowed); default {@link DEFAULT_CA_VALIDITY_DAYS}. */
  validityDays?: number;
  /** The issuing time (default: the current time); notBefore is backdated from it. */
  now?: Date;
  /** The CA key; by default a new 2048-bit RSA key. RSA, ECDSA and Ed25519 keys are accepted. */
  keyPair?: KeyPair;
}

/**
 * Creates a self-signed root CA: basicConstraints CA:true (critical), keyUsage keyCertSign and
 * cRLSign (critical), subjectKeyIdentifier, a random 128-bit serial, notBefore backdated by
 * {@link CLOCK_SKEW_BACKDATE_MS}. Synchronous; without `keyPair` it generates an RSA key
 * (tens of milliseconds). Each call creates a distinct CA, so callers persist the result.
 * @throws CertError CERT_ERR_INVALID_OPTIONS, or CERT_ERR_INVALID_PEM / CERT_ERR_INVALID_KEY
 *   for a bad `keyPair`.
 */
export function createCa(opts: CreateCaOptions): CertificateAuthority {
  const subject = validateSubject(opts);
  if (subject.dnsNames.length > 0 || subject.ipAddresses.length > 0) {
    throw new CertError(
      'CERT_ERR_INVALID_OPTIONS',
      'invalid options: a CA takes no dnsNames or ipAddresses',
    );
  }
  const now = resolveNow(opts.now);
  const lifetimeMs = validityMs(opts.validityDays, DEFAULT_CA_VALIDITY_DAYS);
  const keyPair = opts.keyPair ?? generateKeyPair();
  const { privateKey, spki } = loadKeyPair(keyPair, 'keyPair');
  const name = encodeName(subject.commonName, subject.organizations);
  const der = buildCertificate(
    {
      serial: randomSerial(),
      issuer: name,
      subject: name,
      notBefore: new Date(now.getTime() - CLOCK_SKEW_BACKDATE_MS),
      notAfter: new Date(now.getTime() + lifetimeMs),
      spki,
      extensions: [
        basicConstraints(true),
        keyUsage(['keyCertSign', 'cRLSign']),
        subjectKeyIdentifier(
          keyIdentifier(parseSpkiDer(spki, 'keyPair public key').subjectPublicKey),
        ),
      ],
    },
    privateKey,
  );
  return { certPem: encodePem('CERTIFICATE', der), keyPem: keyPair.privateKeyPem };
}

/** A CA ready to sign: parsed certificate, key, and the key id that leaves name as authority. */
export interface LoadedCa {
  readonly cert: ParsedCertificate;
  readonly key: KeyObject;
  readonly keyId: Buffer;
}

/**
 * Loads `ca` for signing at `now`: its certificate must be a CA allowed to sign certificates,
 * its key must match, and it must not have expired.
 * @throws CertError CERT_ERR_INVALID_PEM, CERT_ERR_INVALID_KEY, CERT_ERR_USAGE (not a CA),
 *   CERT_ERR_KEY_MISMATCH or CERT_ERR_EXPIRED.
 */
export function loadCa(ca: CertificateAuthority, now: Date): LoadedCa {
  if (typeof ca !== 'object' || ca === null) {
    throw new CertError(
      'CERT_ERR_INVALID_OPTIONS',
      'invalid options: ca must be a CertificateAuthority',
    );
  }
  const cert = readCertificatePem(ca.certPem, 'CA certificate');
  const key = loadPrivateKey(ca.keyPem, 'CA private key');
  const { extensions } = cert;
  if (
    !extensions.isCa ||
    (extensions.keyUsage !== undefined && !extensions.keyUsage.includes('keyCertSign'))
  ) {
    throw new CertError(
      'CERT_ERR_USAGE',
      `certificate "${cert.subject.text}" is not a CA allowed to sign certificates`,
    );
  }
  if (!nodeCertificate(cert, 'CA certificate').checkPrivateKey(key)) {
    throw new CertError(
      'CERT_ERR_KEY_MISMATCH',
      `CA private key does not match CA certificate "${cert.subject.text}"`,
    );
  }
  if (cert.notAfter.getTime() <= now.getTime()) {
    throw new CertError(
      'CERT_ERR_EXPIRED',
      `CA certificate expired at ${cert.notAfter.toISOString()}`,
    );
  }
  return { cert, key, keyId: extensions.subjectKeyId ?? keyIdentifier(cert.subjectPublicKey) };
}
