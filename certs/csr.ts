import { createPublicKey, type KeyObject, verify } from 'node:crypto';

import { CertError, describeError } from './errors.ts';
import { type KeyPair, loadKeyPair } from './keys.ts';
import { OID } from './oids.ts';
import { decodeFirstPemBlock, encodePem } from './pem.ts';
import { type SubjectOptions, validateSubject } from './subject.ts';
import { buildCsr, encodeName, subjectAltName } from './x509-builder.ts';
import { type ParsedCsr, parseCsrDer } from './x509-parser.ts';

/** "NEW CERTIFICATE REQUEST" is what some older tools (Netscape, old OpenSSL) write. */
const CSR_PEM_TYPES = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

/** CSR signature algorithms we verify, with the key type each requires and its digest. */
const CSR_SIGNATURE_ALGORITHMS: Readonly<Record<string, { keyType: string; hash: string | null }>> =
  {
    [OID.sha256WithRSAEncryption]: { keyType: 'rsa', hash: 'sha256' },
    [OID.sha384WithRSAEncryption]: { keyType: 'rsa', hash: 'sha384' },
    [OID.sha512WithRSAEncryption]: { keyType: 'rsa', hash: 'sha512' },
    [OID.ecdsaWithSha256]: { keyType: 'ec', hash: 'sha256' },
    [OID.ecdsaWithSha384]: { keyType: 'ec', hash: 'sha384' },
    [OID.ecdsaWithSha512]: { keyType: 'ec', hash: 'sha512' },
    [OID.ed25519]: { keyType: 'ed25519', hash: null },
  };

/** Options of {@link createCsr}. */
export interface CreateCsrOptions extends SubjectOptions {
  /** The key the certificate will certify; the CSR is signed with its private half. */
  keyPair: KeyPair;
}

/** What {@link parseCsr} reads from a CSR. */
export interface CsrInfo {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  /** Canonical text (RFC 5952 for IPv6). */
  ipAddresses: string[];
  /** The requested key as SubjectPublicKeyInfo PEM ("PUBLIC KEY"). */
  publicKeyPem: string;
}

/**
 * Creates a PKCS#10 certificate signing request: subject O and CN, the SANs as an
 * extensionRequest, signed with `keyPair`. The result can be signed by signCsr() or submitted as
 * a Kubernetes CertificateSigningRequest (`spec.request` is its base64). Usage is not requested:
 * the signer decides it. Pure apart from the signature; safe to repeat.
 * @returns PEM "CERTIFICATE REQUEST".
 * @throws CertError CERT_ERR_INVALID_OPTIONS, CERT_ERR_INVALID_PEM or CERT_ERR_INVALID_KEY.
 */
export function createCsr(opts: CreateCsrOptions): string {
  const subject = validateSubject(opts);
  const { privateKey, spki } = loadKeyPair(opts.keyPair, 'keyPair');
  const hasSans = subject.dnsNames.length > 0 || subject.ipAddresses.length > 0;
  const der = buildCsr(
    encodeName(subject.commonName, subject.organizations),
    spki,
    hasSans ? [subjectAltName(subject.dnsNames, subject.ipAddresses)] : [],
    privateKey,
  );
  return encodePem('CERTIFICATE REQUEST', der);
}

/**
 * Reads a CSR after verifying its self-signature (which proves the requester holds the private
 * key). Only dNSName and iPAddress SANs are reported. Pure; safe to repeat.
 * @throws CertError CERT_ERR_INVALID_PEM (not a well-formed CSR), CERT_ERR_INVALID_KEY (unreadable
 *   public key) or CERT_ERR_CSR_SIGNATURE (bad or unsupported signature).
 */
export function parseCsr(csrPem: string): CsrInfo {
  const csr = readVerifiedCsr(csrPem);
  return {
    commonName: csr.subject.commonName,
    organizations: csr.subject.organizations,
    dnsNames: csr.extensions.dnsNames,
    ipAddresses: csr.extensions.ipAddresses,
    publicKeyPem: csr.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A parsed CSR whose signature has been checked, with its public key loaded. */
export interface VerifiedCsr extends ParsedCsr {
  readonly publicKey: KeyObject;
}

/**
 * Decodes, parses and verifies a CSR PEM.
 * @throws CertError as parseCsr() does.
 */
export function readVerifiedCsr(csrPem: unknown): VerifiedCsr {
  const block = decodeFirstPemBlock(csrPem, CSR_PEM_TYPES, 'CSR');
  const csr = parseCsrDer(block.der, 'CSR');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: csr.spki, format: 'der', type: 'spki' });
  } catch (err) {
    throw new CertError(
      'CERT_ERR_INVALID_KEY',
      `CSR public key cannot be read: ${describeError(err)}`,
      {
        cause: err,
      },
    );
  }
  const algorithm = CSR_SIGNATURE_ALGORITHMS[csr.signatureAlgorithmOid];
  if (algorithm === undefined) {
    throw new CertError(
      'CERT_ERR_CSR_SIGNATURE',
      `CSR signature algorithm ${csr.signatureAlgorithmOid} is not supported`,
    );
  }
  if (algorithm.keyType !== publicKey.asymmetricKeyType) {
    throw new CertError(
      'CERT_ERR_CSR_SIGNATURE',
      `CSR signature algorithm ${csr.signatureAlgorithmOid} does not fit its ${publicKey.asymmetricKeyType ?? ''} key`,
    );
  }
  let isValid = false;
  try {
    isValid = verify(algorithm.hash, csr.info, publicKey, csr.signature);
  } catch {
    // A structurally broken signature (e.g. a bad ECDSA DER value) is simply not valid.
  }
  if (!isValid)
    throw new CertError('CERT_ERR_CSR_SIGNATURE', 'CSR signature does not match its public key');
  return { ...csr, publicKey };
}
