import { CertError } from './errors.ts';
import { loadPrivateKey } from './keys.ts';
import { readCertificateBundle, readCertificatePem } from './pem.ts';
import { type CertUsage, resolveNow, validateUsage } from './subject.ts';
import { nodeCertificate, type ParsedCertificate } from './x509-parser.ts';

const REQUIRED_PURPOSES: Readonly<Record<CertUsage, readonly string[]>> = {
  server: ['serverAuth'],
  client: ['clientAuth'],
  'server-client': ['serverAuth', 'clientAuth'],
};
const PURPOSE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  serverAuth: 'server authentication',
  clientAuth: 'client authentication',
};

/** Options of {@link verifyCertificate}. */
export interface VerifyOptions {
  /** The time to check the validity windows at (default: the current time). */
  now?: Date;
  /** When set, the certificate's extKeyUsage must allow this TLS role. */
  usage?: CertUsage;
}

/**
 * Checks that `certPem` (its first certificate) was issued directly by one of the trusted CA
 * certificates in `caPem` (a PEM, a bundle, or a list of either), that the signature verifies,
 * that the issuer is a CA, that both are within their validity windows at `now`, and, with
 * `usage`, that extKeyUsage allows that role. Checks run in that order, so the first failure
 * decides the code. The issuer is found by subject name and key identifier, so a bundle holding
 * an old and a new CA with the same name (CA rotation) works. This is the check a TLS peer
 * makes, minus hostnames, name constraints and revocation. Pure; safe to repeat.
 * @throws CertError CERT_ERR_INVALID_PEM, CERT_ERR_INVALID_OPTIONS, CERT_ERR_UNKNOWN_ISSUER,
 *   CERT_ERR_BAD_SIGNATURE, CERT_ERR_USAGE, CERT_ERR_NOT_YET_VALID or CERT_ERR_EXPIRED.
 */
export function verifyCertificate(
  certPem: string,
  caPem: string | string[],
  opts: VerifyOptions = {},
): void {
  const now = resolveNow(opts.now);
  const usage = opts.usage === undefined ? undefined : validateUsage(opts.usage);
  const cert = readCertificatePem(certPem, 'certificate');
  const bundles = Array.isArray(caPem) ? caPem : [caPem];
  const anchors = bundles.flatMap((pem, i) =>
    readCertificateBundle(
      pem,
      bundles.length === 1 ? 'CA certificate' : `CA certificate bundle ${i + 1}`,
    ),
  );
  if (anchors.length === 0) {
    throw new CertError(
      'CERT_ERR_INVALID_OPTIONS',
      'invalid options: caPem holds no CA certificate',
    );
  }
  const candidates = anchors.filter((ca) => mayHaveIssued(ca, cert));
  if (candidates.length === 0) {
    throw new CertError(
      'CERT_ERR_UNKNOWN_ISSUER',
      `certificate "${cert.subject.text}" was issued by "${cert.issuer.text}", ` +
        `which is not one of the ${anchors.length} trusted CA certificate(s)`,
    );
  }
  const leaf = nodeCertificate(cert, 'certificate');
  const issuer = candidates.find((ca) =>
    leaf.verify(nodeCertificate(ca, 'CA certificate').publicKey),
  );
  if (issuer === undefined) {
    throw new CertError(
      'CERT_ERR_BAD_SIGNATURE',
      `certificate "${cert.subject.text}" has a signature that does not verify with the key of CA "${cert.issuer.text}"`,
    );
  }
  const { isCa, keyUsage } = issuer.extensions;
  if (!isCa || (keyUsage !== undefined && !keyUsage.includes('keyCertSign'))) {
    throw new CertError(
      'CERT_ERR_USAGE',
      `issuer "${issuer.subject.text}" is not a CA allowed to sign certificates`,
    );
  }
  checkValidity(cert, now, 'certificate');
  checkValidity(issuer, now, 'CA certificate');
  if (usage !== undefined) checkUsage(cert, usage);
}

/**
 * Checks that `keyPem` is the private key of `certPem` (its first certificate), e.g. before
 * serving a cert/key pair loaded from two files. Pure; safe to repeat.
 * @throws CertError CERT_ERR_KEY_MISMATCH, or CERT_ERR_INVALID_PEM / CERT_ERR_INVALID_KEY.
 */
export function assertKeyMatchesCertificate(certPem: string, keyPem: string): void {
  const cert = readCertificatePem(certPem, 'certificate');
  const key = loadPrivateKey(keyPem, 'private key');
  if (!nodeCertificate(cert, 'certificate').checkPrivateKey(key)) {
    throw new CertError(
      'CERT_ERR_KEY_MISMATCH',
      `private key does not match certificate "${cert.subject.text}"`,
    );
  }
}

/** Same name, and the key identifiers (when both are present) agree. */
function mayHaveIssued(ca: ParsedCertificate, cert: ParsedCertificate): boolean {
  if (!ca.subject.der.equals(cert.issuer.der)) return false;
  const { authorityKeyId } = cert.extensions;
  const { subjectKeyId } = ca.extensions;
  return (
    authorityKeyId === undefined ||
    subjectKeyId === undefined ||
    authorityKeyId.equals(subjectKeyId)
  );
}

function checkValidity(cert: ParsedCertificate, now: Date, what: string): void {
  if (now.getTime() < cert.notBefore.getTime()) {
    throw new CertError(
      'CERT_ERR_NOT_YET_VALID',
      `${what} is not valid before ${cert.notBefore.toISOString()}`,
    );
  }
  if (now.getTime() > cert.notAfter.getTime()) {
    throw new CertError('CERT_ERR_EXPIRED', `${what} expired at ${cert.notAfter.toISOString()}`);
  }
}

function checkUsage(cert: ParsedCertificate, usage: CertUsage): void {
  const purposes = cert.extensions.extKeyUsage;
  if (purposes === undefined || purposes.includes('anyExtendedKeyUsage')) return;
  for (const required of REQUIRED_PURPOSES[usage]) {
    if (!purposes.includes(required)) {
      throw new CertError(
        'CERT_ERR_USAGE',
        `certificate is not valid for ${PURPOSE_DESCRIPTIONS[required] ?? required} ` +
          `(extKeyUsage: ${purposes.join(', ') || 'none'})`,
      );
    }
  }
}
