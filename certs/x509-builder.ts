// Writes X.509 v3 certificates (RFC 5280) and PKCS#10 requests (RFC 2986) with node-forge's
// ASN.1 encoder, and signs them with node:crypto: native signing is much faster than forge's
// pure-JS RSA, and works for any key node:crypto supports.

import { createHash, randomBytes, type KeyObject } from 'node:crypto';

import forge from 'node-forge';

import { signatureAlgorithmFor, signData } from './keys.ts';
import { type KeyUsageName, KEY_USAGE_BITS, OID } from './oids.ts';

type Asn1 = forge.asn1.Asn1;
const { asn1 } = forge;
const { UNIVERSAL, CONTEXT_SPECIFIC } = asn1.Class;
const { Type } = asn1;

const SERIAL_BYTES = 16;
const X509_V3 = 2;
/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
const UTC_TIME_END = Date.UTC(2050, 0, 1);
const UTC_TIME_START = Date.UTC(1950, 0, 1);

/** One extension: its id, criticality and DER value (what goes inside the OCTET STRING). */
export interface Extension {
  readonly oid: string;
  readonly isCritical: boolean;
  readonly value: Asn1;
}

/** Everything that goes into a TBSCertificate apart from the algorithm, which the signer fixes. */
export interface CertificateFields {
  readonly serial: Buffer;
  /** DER Name of the issuer: the issuing CA's subject, copied byte for byte. */
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** DER SubjectPublicKeyInfo of the certified key. */
  readonly spki: Buffer;
  readonly extensions: Extension[];
}

/** Encodes and signs a certificate; returns its DER. */
export function buildCertificate(fields: CertificateFields, signerKey: KeyObject): Buffer {
  const algorithm = algorithmIdentifier(signerKey);
  const tbs = sequence([
    explicit(0, integer(Buffer.from(asn1.integerToDer(X509_V3).getBytes(), 'latin1'))),
    integer(fields.serial),
    algorithm,
    fromDer(fields.issuer),
    sequence([time(fields.notBefore), time(fields.notAfter)]),
    fromDer(fields.subject),
    fromDer(fields.spki),
    explicit(3, sequence(fields.extensions.map(extensionNode))),
  ]);
  return signed(tbs, algorithm, signerKey);
}

/** Encodes and signs a CSR for `subject` and `spki`, with `extensions` as its extensionRequest. */
export function buildCsr(
  subject: Buffer,
  spki: Buffer,
  extensions: Extension[],
  signerKey: KeyObject,
): Buffer {
  const attributes =
    extensions.length === 0
      ? []
      : [sequence([oid(OID.extensionRequest), set([sequence(extensions.map(extensionNode))])])];
  const info = sequence([
    integer(Buffer.from([0])),
    fromDer(subject),
    fromDer(spki),
    asn1.create(CONTEXT_SPECIFIC, 0, true, attributes),
  ]);
  return signed(info, algorithmIdentifier(signerKey), signerKey);
}

/**
 * DER Name with one RDN per attribute: each organization, then the common name, as UTF8String
 * (the order Go's crypto/x509 writes, so `openssl x509 -subject` reads "O = ..., CN = ...").
 */
export function encodeName(commonName: string, organizations: readonly string[]): Buffer {
  const rdn = (type: string, value: string): Asn1 =>
    set([
      sequence([
        oid(type),
        asn1.create(UNIVERSAL, Type.UTF8, false, latin1(Buffer.from(value, 'utf8'))),
      ]),
    ]);
  return toDer(
    sequence([
      ...organizations.map((o) => rdn(OID.organizationName, o)),
      rdn(OID.commonName, commonName),
    ]),
  );
}

/** A random positive serial of {@link SERIAL_BYTES} random octets, minimally DER-encoded. */
export function randomSerial(): Buffer {
  for (;;) {
    const bytes = randomBytes(SERIAL_BYTES);
    let start = 0;
    while (start < bytes.length && bytes[start] === 0) start++;
    if (start === bytes.length) continue; // zero is not a valid serial; 2^-128 odds
    const magnitude = bytes.subarray(start);
    // A set top bit would make the INTEGER negative: prefix a zero octet.
    return (magnitude[0] as number) & 0x80
      ? Buffer.concat([Buffer.from([0]), magnitude])
      : magnitude;
  }
}

/** RFC 5280 §4.2.1.2 method 1 key identifier: SHA-1 of the subjectPublicKey BIT STRING. */
export function keyIdentifier(subjectPublicKey: Buffer): Buffer {
  return createHash('sha1').update(subjectPublicKey).digest();
}

/** basicConstraints (critical). */
export function basicConstraints(isCa: boolean): Extension {
  return {
    oid: OID.basicConstraints,
    isCritical: true,
    value: sequence(isCa ? [boolean(true)] : []),
  };
}

/** keyUsage (critical) with the named bits set, DER named-bit-list encoded. */
export function keyUsage(names: readonly KeyUsageName[]): Extension {
  const bits = names.map((n) => KEY_USAGE_BITS.indexOf(n));
  const lastBit = Math.max(...bits);
  const bytes = Buffer.alloc((lastBit >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] as number) | (0x80 >> (bit & 7));
  const unusedBits = 7 - (lastBit & 7);
  return {
    oid: OID.keyUsage,
    isCritical: true,
    value: asn1.create(
      UNIVERSAL,
      Type.BITSTRING,
      false,
      String.fromCharCode(unusedBits) + latin1(bytes),
    ),
  };
}

/** extKeyUsage (not critical) with the given purpose OIDs. */
export function extKeyUsage(purposes: readonly string[]): Extension {
  return { oid: OID.extKeyUsage, isCritical: false, value: sequence(purposes.map(oid)) };
}

/** subjectAltName (not critical: every subject here has a CN) with dNSName and iPAddress entries. */
export function subjectAltName(
  dnsNames: readonly string[],
  ipAddresses: readonly Buffer[],
): Extension {
  return {
    oid: OID.subjectAltName,
    isCritical: false,
    value: sequence([
      ...dnsNames.map((name) => asn1.create(CONTEXT_SPECIFIC, 2, false, name)),
      ...ipAddresses.map((ip) => asn1.create(CONTEXT_SPECIFIC, 7, false, latin1(ip))),
    ]),
  };
}

/** subjectKeyIdentifier (not critical). */
export function subjectKeyIdentifier(keyId: Buffer): Extension {
  return { oid: OID.subjectKeyIdentifier, isCritical: false, value: octetString(keyId) };
}

/** authorityKeyIdentifier (not critical) holding only keyIdentifier. */
export function authorityKeyIdentifier(keyId: Buffer): Extension {
  return {
    oid: OID.authorityKeyIdentifier,
    isCritical: false,
    value: sequence([asn1.create(CONTEXT_SPECIFIC, 0, false, latin1(keyId))]),
  };
}

function signed(body: Asn1, algorithm: Asn1, signerKey: KeyObject): Buffer {
  const signature = signData(signerKey, toDer(body));
  return toDer(
    sequence([
      body,
      algorithm,
      asn1.create(UNIVERSAL, Type.BITSTRING, false, `\0${latin1(signature)}`),
    ]),
  );
}

function algorithmIdentifier(signerKey: KeyObject): Asn1 {
  const algorithm = signatureAlgorithmFor(signerKey);
  return sequence([
    oid(algorithm.oid),
    ...(algorithm.hasNullParams ? [asn1.create(UNIVERSAL, Type.NULL, false, '')] : []),
  ]);
}

function extensionNode(extension: Extension): Asn1 {
  return sequence([
    oid(extension.oid),
    ...(extension.isCritical ? [boolean(true)] : []),
    octetString(toDer(extension.value)),
  ]);
}

function time(date: Date): Asn1 {
  const ms = date.getTime();
  return ms >= UTC_TIME_START && ms < UTC_TIME_END
    ? asn1.create(UNIVERSAL, Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(UNIVERSAL, Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

function sequence(items: Asn1[]): Asn1 {
  return asn1.create(UNIVERSAL, Type.SEQUENCE, true, items);
}

function set(items: Asn1[]): Asn1 {
  return asn1.create(UNIVERSAL, Type.SET, true, items);
}

function explicit(tag: number, inner: Asn1): Asn1 {
  return asn1.create(CONTEXT_SPECIFIC, tag, true, [inner]);
}

function oid(dotted: string): Asn1 {
  return asn1.create(UNIVERSAL, Type.OID, false, asn1.oidToDer(dotted).getBytes());
}

function integer(bytes: Buffer): Asn1 {
  return asn1.create(UNIVERSAL, Type.INTEGER, false, latin1(bytes));
}

function boolean(value: boolean): Asn1 {
  return asn1.create(UNIVERSAL, Type.BOOLEAN, false, value ? '\xff' : '\0');
}

function octetString(bytes: Buffer): Asn1 {
  return asn1.create(UNIVERSAL, Type.OCTETSTRING, false, latin1(bytes));
}

/** Embeds already-encoded DER (forge re-encodes a parsed DER tree byte for byte). */
function fromDer(der: Buffer): Asn1 {
  return asn1.fromDer(latin1(der));
}

function toDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'latin1');
}

/** forge represents bytes as "binary strings", one char per octet. */
function latin1(bytes: Buffer): string {
  return bytes.toString('latin1');
}
