import { createHash } from 'node:crypto';

import { CertError } from './errors.ts';
import { readCertificatePem } from './pem.ts';
import { resolveNow } from './subject.ts';

/** shouldRotate() default: renew once 80% of the lifetime has passed (as kubelet and OCM do, roughly). */
export const DEFAULT_ROTATION_FRACTION = 0.8;

/** What {@link parseCertificate} reads from a certificate. */
export interface CertInfo {
  /** Subject CN ('' when absent); the Kubernetes user name of a client certificate. */
  commonName: string;
  /** Subject O values, in order; the Kubernetes groups of a client certificate. */
  organizations: string[];
  issuerCommonName: string;
  /** Lowercase hex of the serial number, leading zero octets removed (even length). */
  serialNumber: string;
  /** Second precision, as encoded. */
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  /** Canonical text (RFC 5952 for IPv6). */
  ipAddresses: string[];
  /** basicConstraints CA:true. */
  isCa: boolean;
  /** Same as {@link fingerprintSha256}. */
  fingerprintSha256: string;
  /** Set keyUsage bits by name (`digitalSignature`, `keyCertSign`, ...); [] when absent. */
  keyUsage: string[];
  /** extKeyUsage purposes (`serverAuth`, `clientAuth`, or a dotted OID); [] when absent. */
  extKeyUsage: string[];
}

/**
 * Reads the fields of a certificate that hub code needs (identity, validity, SANs). Only the
 * first certificate of a bundle is read. Any key algorithm is accepted. Does not check the
 * signature or the validity window: use verifyCertificate() for that. Pure; safe to repeat.
 * @throws CertError CERT_ERR_INVALID_PEM.
 */
export function parseCertificate(certPem: string): CertInfo {
  const cert = readCertificatePem(certPem, 'certificate');
  return {
    commonName: cert.subject.commonName,
    organizations: cert.subject.organizations,
    issuerCommonName: cert.issuer.commonName,
    serialNumber: cert.serialHex,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    dnsNames: cert.extensions.dnsNames,
    ipAddresses: cert.extensions.ipAddresses,
    isCa: cert.extensions.isCa,
    fingerprintSha256: sha256Hex(cert.der),
    keyUsage: cert.extensions.keyUsage ?? [],
    extKeyUsage: cert.extensions.extKeyUsage ?? [],
  };
}

/**
 * SHA-256 of the certificate's DER, lowercase hex without separators: the value to log in
 * place of a certificate. Only the first certificate of a bundle counts. Pure.
 * @throws CertError CERT_ERR_INVALID_PEM.
 */
export function fingerprintSha256(certPem: string): string {
  return sha256Hex(readCertificatePem(certPem, 'certificate').der);
}

/**
 * `sha256:<hex>` over the certificate's DER SubjectPublicKeyInfo, byte for byte as in the
 * certificate: the format of kubeadm's `--discovery-token-ca-cert-hash`, used by
 * `spokelink join --ca-hash` to pin the hub CA. It survives CA re-issuance with the same key.
 * @throws CertError CERT_ERR_INVALID_PEM.
 */
export function publicKeyHashSha256(certPem: string): string {
  return `sha256:${sha256Hex(readCertificatePem(certPem, 'certificate').spki)}`;
}

/**
 * Milliseconds from `now` (default: the current time) until notAfter; negative once expired.
 * @throws CertError CERT_ERR_INVALID_PEM or CERT_ERR_INVALID_OPTIONS (bad `now`).
 */
export function remainingLifetimeMs(certPem: string, now?: Date): number {
  const at = resolveNow(now);
  return readCertificatePem(certPem, 'certificate').notAfter.getTime() - at.getTime();
}

/**
 * Whether a certificate is due for renewal: true once `fraction` (default
 * {@link DEFAULT_ROTATION_FRACTION}) of notBefore..notAfter has elapsed at `now`, and also when
 * it has already expired. Pure; call it from a periodic check.
 * @throws CertError CERT_ERR_INVALID_PEM, or CERT_ERR_INVALID_OPTIONS unless 0 < fraction <= 1.
 */
export function shouldRotate(
  certPem: string,
  opts: { now?: Date; fraction?: number } = {},
): boolean {
  const fraction = opts.fraction ?? DEFAULT_ROTATION_FRACTION;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1)) {
    throw new CertError(
      'CERT_ERR_INVALID_OPTIONS',
      `invalid options: fraction must be a number in (0, 1], got ${String(fraction)}`,
    );
  }
  const now = resolveNow(opts.now);
  const cert = readCertificatePem(certPem, 'certificate');
  const start = cert.notBefore.getTime();
  const lifetimeMs = cert.notAfter.getTime() - start;
  return now.getTime() >= start + fraction * lifetimeMs;
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
