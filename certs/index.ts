// The public surface of certs/: PKI for the hub and agents (CAs, leaf certificates, CSRs,
// inspection and verification, kubeconfig rendering). Other folders import only this file.
// Imports nothing of ours; never logs; throws only CertError.

export { CERT_ERROR_CODES, CertError } from './errors.ts';
export type { CertErrorCode } from './errors.ts';

export { generateKeyPair, RSA_KEY_BITS } from './keys.ts';
export type { KeyPair } from './keys.ts';

export { CLOCK_SKEW_BACKDATE_MS, createCa, DEFAULT_CA_VALIDITY_DAYS } from './ca.ts';
export type { CertificateAuthority, CreateCaOptions } from './ca.ts';

export { DEFAULT_CERT_VALIDITY_DAYS, issueCert, signCsr } from './issue.ts';
export type { IssueCertOptions, IssuedCert, LeafOptions } from './issue.ts';

export { CERT_USAGES } from './subject.ts';
export type { CertUsage, SubjectOptions } from './subject.ts';

export { createCsr, parseCsr } from './csr.ts';
export type { CreateCsrOptions, CsrInfo } from './csr.ts';

export {
  DEFAULT_ROTATION_FRACTION,
  fingerprintSha256,
  parseCertificate,
  publicKeyHashSha256,
  remainingLifetimeMs,
  shouldRotate,
} from './inspect.ts';
export type { CertInfo } from './inspect.ts';

export { assertKeyMatchesCertificate, verifyCertificate } from './verify.ts';
export type { VerifyOptions } from './verify.ts';

export { splitPemBundle } from './pem.ts';

export { renderKubeconfig } from './kubeconfig.ts';
export type { KubeconfigOptions } from './kubeconfig.ts';
