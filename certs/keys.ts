import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';

import { CertError, describeError } from './errors.ts';
import { decodeFirstPemBlock, decodePemBlocks } from './pem.ts';
import { OID } from './oids.ts';

/** RSA sizes generateKeyPair() accepts. */
export const RSA_KEY_BITS = [2048, 3072, 4096] as const;
const DEFAULT_RSA_KEY_BITS = 2048;
/** Smaller RSA keys are refused everywhere: OpenSSL's default security level rejects them too. */
const MIN_RSA_KEY_BITS = 2048;
const RSA_PUBLIC_EXPONENT = 0x10001;

const PRIVATE_KEY_FORMATS: Readonly<Record<string, 'pkcs8' | 'pkcs1' | 'sec1'>> = {
  'PRIVATE KEY': 'pkcs8',
  'RSA PRIVATE KEY': 'pkcs1',
  'EC PRIVATE KEY': 'sec1',
};
const PUBLIC_KEY_FORMATS: Readonly<Record<string, 'spki' | 'pkcs1'>> = {
  'PUBLIC KEY': 'spki',
  'RSA PUBLIC KEY': 'pkcs1',
};
const EC_CURVE_HASHES: Readonly<Record<string, { hash: string; oid: string }>> = {
  prime256v1: { hash: 'sha256', oid: OID.ecdsaWithSha256 },
  secp384r1: { hash: 'sha384', oid: OID.ecdsaWithSha384 },
  secp521r1: { hash: 'sha512', oid: OID.ecdsaWithSha512 },
};

/**
 * A private key and its public key, both PEM. `privateKeyPem` is unencrypted: store it with
 * file mode 0600 or in a Secret, and never log it.
 */
export interface KeyPair {
  /** PKCS#8 ("PRIVATE KEY") from generateKeyPair(); PKCS#1 and SEC1 are accepted as input. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo ("PUBLIC KEY"). */
  publicKeyPem: string;
}

/**
 * Generates an RSA key pair with Node's native crypto (milliseconds, where a pure-JS keygen
 * takes seconds). Synchronous and CPU-bound: a 4096-bit key can block the event loop for
 * about a second, so prefer the 2048-bit default on hot paths. Every call returns a new key.
 * @param opts.bits modulus size in bits (default 2048).
 * @throws CertError CERT_ERR_INVALID_OPTIONS for an unsupported size.
 */
export function generateKeyPair(opts: { bits?: 2048 | 3072 | 4096 } = {}): KeyPair {
  const bits = opts.bits ?? DEFAULT_RSA_KEY_BITS;
  if (!(RSA_KEY_BITS as readonly number[]).includes(bits)) {
    throw new CertError(
      'CERT_ERR_INVALID_OPTIONS',
      `invalid options: bits must be one of ${RSA_KEY_BITS.join(', ')}, got ${String(bits)}`,
    );
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: RSA_PUBLIC_EXPONENT,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * Loads an unencrypted private key PEM (PKCS#8, PKCS#1 or SEC1) and checks that certs/ can
 * sign with it: RSA of at least 2048 bits, ECDSA on P-256/P-384/P-521, or Ed25519.
 * @throws CertError CERT_ERR_INVALID_PEM (not a private key PEM) or CERT_ERR_INVALID_KEY.
 */
export function loadPrivateKey(pem: unknown, what: string): KeyObject {
  const blocks = decodePemBlocks(pem, what).filter((b) => b.type !== 'EC PARAMETERS');
  const block = blocks[0];
  if (block?.type === 'ENCRYPTED PRIVATE KEY') {
    throw new CertError(
      'CERT_ERR_INVALID_KEY',
      `${what} is encrypted; only unencrypted keys are supported`,
    );
  }
  const format = block === undefined ? undefined : PRIVATE_KEY_FORMATS[block.type];
  if (block === undefined || format === undefined) {
    throw new CertError(
      'CERT_ERR_INVALID_PEM',
      `invalid ${what} PEM: expected a "PRIVATE KEY" PEM block, found "${block?.type ?? 'EC PARAMETERS'}"`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: block.der, format: 'der', type: format });
  } catch (err) {
    throw new CertError('CERT_ERR_INVALID_KEY', `${what} cannot be read: ${describeError(err)}`, {
      cause: err,
    });
  }
  assertSupportedKey(key, what);
  return key;
}

/**
 * Loads `pair`, checking that its public half belongs to its private half.
 * @returns the private key and the DER SubjectPublicKeyInfo of the public key.
 * @throws CertError CERT_ERR_INVALID_PEM or CERT_ERR_INVALID_KEY.
 */
export function loadKeyPair(pair: KeyPair, what: string): { privateKey: KeyObject; spki: Buffer } {
  if (typeof pair !== 'object' || pair === null) {
    throw new CertError('CERT_ERR_INVALID_OPTIONS', `invalid options: ${what} must be a KeyPair`);
  }
  const privateKey = loadPrivateKey(pair.privateKeyPem, `${what} private key`);
  const spki = spkiOf(createPublicKey(privateKey));
  const block = decodeFirstPemBlock(
    pair.publicKeyPem,
    Object.keys(PUBLIC_KEY_FORMATS),
    `${what} public key`,
  );
  let given: Buffer;
  try {
    const format = PUBLIC_KEY_FORMATS[block.type] as 'spki' | 'pkcs1';
    given = spkiOf(createPublicKey({ key: block.der, format: 'der', type: format }));
  } catch (err) {
    throw new CertError(
      'CERT_ERR_INVALID_KEY',
      `${what} public key cannot be read: ${describeError(err)}`,
      {
        cause: err,
      },
    );
  }
  if (!given.equals(spki)) {
    throw new CertError(
      'CERT_ERR_INVALID_KEY',
      `${what}: publicKeyPem does not belong to privateKeyPem`,
    );
  }
  return { privateKey, spki };
}

/**
 * Checks that certs/ can use `key` (public or private) in a certificate or as a signer.
 * @throws CertError CERT_ERR_INVALID_KEY naming the key type or size.
 */
export function assertSupportedKey(key: KeyObject, what: string): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_KEY_BITS) {
      throw new CertError(
        'CERT_ERR_INVALID_KEY',
        `${what} is a ${bits}-bit RSA key; at least ${MIN_RSA_KEY_BITS} bits are required`,
      );
    }
  } else if (type === 'ec') {
    if (EC_CURVE_HASHES[details.namedCurve ?? ''] === undefined) {
      throw new CertError(
        'CERT_ERR_INVALID_KEY',
        `${what} uses unsupported curve ${details.namedCurve ?? '(unnamed)'}`,
      );
    }
  } else if (type !== 'ed25519') {
    throw new CertError(
      'CERT_ERR_INVALID_KEY',
      `${what} is a ${type ?? 'symmetric'} key; only RSA, ECDSA (P-256/384/521) and Ed25519 are supported`,
    );
  }
}

/** DER SubjectPublicKeyInfo of a public key (or of the public half of a private key). */
export function spkiOf(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** How a signer key signs certificates and CSRs. */
export interface SignatureAlgorithm {
  readonly oid: string;
  /** RSA PKCS#1 v1.5 algorithm identifiers carry an explicit NULL; ECDSA and Ed25519 carry none. */
  readonly hasNullParams: boolean;
  /** Digest for node:crypto sign(); null for Ed25519, which hashes internally. */
  readonly hash: string | null;
}

/** The signature algorithm certs/ uses for a (supported) signer key. */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'rsa')
    return { oid: OID.sha256WithRSAEncryption, hasNullParams: true, hash: 'sha256' };
  if (key.asymmetricKeyType === 'ed25519')
    return { oid: OID.ed25519, hasNullParams: false, hash: null };
  const curve = EC_CURVE_HASHES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType === 'ec' && curve !== undefined) {
    return { oid: curve.oid, hasNullParams: false, hash: curve.hash };
  }
  throw new CertError(
    'CERT_ERR_INVALID_KEY',
    `cannot sign with a ${key.asymmetricKeyType ?? 'symmetric'} key`,
  );
}

/** Signs `data` with `key` using {@link signatureAlgorithmFor}(key). */
export function signData(key: KeyObject, data: Buffer): Buffer {
  return sign(signatureAlgorithmFor(key).hash, data, key);
}
