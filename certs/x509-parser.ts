// Reads the parts of X.509 certificates (RFC 5280) and PKCS#10 requests (RFC 2986) that certs/
// needs. Works for any key algorithm (node-forge's pki parsers refuse non-RSA keys) and keeps
// the exact signed bytes for signature checks.

import { X509Certificate } from 'node:crypto';

import {
  children,
  contextTag,
  DerError,
  type DerNode,
  expectTag,
  readBitString,
  readBoolean,
  readDer,
  readOid,
  readString,
  readTime,
  sequence,
  TAG,
} from './der.ts';
import { CertError, describeError } from './errors.ts';
import { formatIp } from './ip.ts';
import {
  EXT_KEY_USAGE_NAMES,
  KEY_USAGE_BITS,
  type KeyUsageName,
  NAME_ATTRIBUTE_LABELS,
  OID,
} from './oids.ts';

const DNS_NAME_TAG = contextTag(2, false);
const IP_ADDRESS_TAG = contextTag(7, false);
const KEY_ID_TAG = contextTag(0, false);

/** A subject or issuer Name. */
export interface ParsedName {
  /** The DER Name, compared byte for byte when matching issuer to subject. */
  readonly der: Buffer;
  /** The last CN, as Go's crypto/x509 (and so Kubernetes authentication) reads it; '' when absent. */
  readonly commonName: string;
  readonly organizations: string[];
  /** RFC 4514-like text for messages, e.g. `CN=hub-ca,O=spokelink`. */
  readonly text: string;
}

/** The extensions certs/ understands. Unknown extensions are skipped. */
export interface ParsedExtensions {
  readonly isCa: boolean;
  /** Set bits of keyUsage, or undefined when the extension is absent. */
  readonly keyUsage: KeyUsageName[] | undefined;
  /** extKeyUsage purposes (names or dotted OIDs), or undefined when the extension is absent. */
  readonly extKeyUsage: string[] | undefined;
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
  readonly subjectKeyId: Buffer | undefined;
  readonly authorityKeyId: Buffer | undefined;
}

/** What certs/ reads from a certificate. */
export interface ParsedCertificate {
  readonly der: Buffer;
  /** Lowercase hex of the serial's magnitude, leading zero octets removed. */
  readonly serialHex: string;
  readonly issuer: ParsedName;
  readonly subject: ParsedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The DER SubjectPublicKeyInfo exactly as it appears in the certificate. */
  readonly spki: Buffer;
  /** The subjectPublicKey BIT STRING contents (the RFC 5280 key identifier input). */
  readonly subjectPublicKey: Buffer;
  readonly extensions: ParsedExtensions;
}

/** What certs/ reads from a certificate signing request. */
export interface ParsedCsr {
  /** The DER CertificationRequestInfo that the signature covers. */
  readonly info: Buffer;
  readonly subject: ParsedName;
  readonly spki: Buffer;
  readonly extensions: ParsedExtensions;
  readonly signatureAlgorithmOid: string;
  readonly signature: Buffer;
}

/**
 * Parses a DER certificate. `what` names it in messages ("CA certificate").
 * @throws CertError CERT_ERR_INVALID_PEM when the DER is not a well-formed v1-v3 certificate.
 */
export function parseCertificateDer(der: Buffer, what: string): ParsedCertificate {
  return wrap(what, () => {
    const [tbsNode, sigAlg, signature, ...extra] = sequence(readDer(der), 'Certificate');
    if (extra.length > 0) throw new DerError('extra fields after the signature');
    sequence(sigAlg, 'signatureAlgorithm');
    readBitString(signature, 'signatureValue');
    const tbs = sequence(tbsNode, 'TBSCertificate');
    let i = 0;
    if (tbs[0]?.tag === contextTag(0, true)) i++;
    const serial = expectTag(tbs[i++], TAG.INTEGER, 'serialNumber').value;
    if (serial.length === 0) throw new DerError('empty serialNumber');
    sequence(tbs[i++], 'signature');
    const issuer = readName(tbs[i++], 'issuer');
    const [notBefore, notAfter] = sequence(tbs[i++], 'validity');
    const subject = readName(tbs[i++], 'subject');
    const spki = readSpki(tbs[i++]);
    let extensions = emptyExtensions();
    for (const node of tbs.slice(i)) {
      if (node.tag === contextTag(3, true)) {
        extensions = readExtensions(expectTag(children(node)[0], TAG.SEQUENCE, 'extensions'));
      }
    }
    return {
      der,
      serialHex: serial.subarray(leadingZeros(serial)).toString('hex'),
      issuer,
      subject,
      notBefore: readTime(notBefore, 'notBefore'),
      notAfter: readTime(notAfter, 'notAfter'),
      spki: spki.raw,
      subjectPublicKey: spki.subjectPublicKey,
      extensions,
    };
  });
}

/**
 * Parses a DER PKCS#10 certification request (the signature is not checked here).
 * @throws CertError CERT_ERR_INVALID_PEM when the DER is not a well-formed request.
 */
export function parseCsrDer(der: Buffer, what: string): ParsedCsr {
  return wrap(what, () => {
    const [infoNode, sigAlg, signature, ...extra] = sequence(readDer(der), 'CertificationRequest');
    if (extra.length > 0) throw new DerError('extra fields after the signature');
    const [algOid] = sequence(sigAlg, 'signatureAlgorithm');
    const info = sequence(infoNode, 'CertificationRequestInfo');
    const version = expectTag(info[0], TAG.INTEGER, 'version').value;
    if (version.length !== 1 || version[0] !== 0) throw new DerError('unsupported CSR version');
    const subject = readName(info[1], 'subject');
    const spki = readSpki(info[2]);
    let extensions = emptyExtensions();
    for (const attribute of sequence(info[3], 'attributes', contextTag(0, true))) {
      const [type, values] = sequence(attribute, 'attribute');
      if (readOid(type, 'attribute type') !== OID.extensionRequest) continue;
      extensions = readExtensions(
        expectTag(sequence(values, 'extensionRequest', TAG.SET)[0], TAG.SEQUENCE, 'extensions'),
      );
    }
    return {
      info: (infoNode as DerNode).raw,
      subject,
      spki: spki.raw,
      extensions,
      signatureAlgorithmOid: readOid(algOid, 'signature algorithm'),
      signature: readBitString(signature, 'signature').bytes,
    };
  });
}

function wrap<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof CertError) throw err;
    throw new CertError('CERT_ERR_INVALID_PEM', `invalid ${what}: ${describeError(err)}`, {
      cause: err,
    });
  }
}

/**
 * Parses a DER SubjectPublicKeyInfo.
 * @throws CertError CERT_ERR_INVALID_PEM when malformed.
 */
export function parseSpkiDer(der: Buffer, what: string): { raw: Buffer; subjectPublicKey: Buffer } {
  return wrap(what, () => readSpki(readDer(der)));
}

/**
 * The node:crypto view of a parsed certificate, for the checks OpenSSL does best (signatures,
 * key matching).
 * @throws CertError CERT_ERR_INVALID_PEM when OpenSSL refuses a certificate our reader accepted.
 */
export function nodeCertificate(cert: ParsedCertificate, what: string): X509Certificate {
  try {
    return new X509Certificate(cert.der);
  } catch (err) {
    throw new CertError('CERT_ERR_INVALID_PEM', `invalid ${what}: ${describeError(err)}`, {
      cause: err,
    });
  }
}

function readSpki(node: DerNode | undefined): { raw: Buffer; subjectPublicKey: Buffer } {
  const [algorithm, key] = sequence(node, 'subjectPublicKeyInfo');
  readOid(sequence(algorithm, 'subjectPublicKeyInfo algorithm')[0], 'public key algorithm');
  return {
    raw: (node as DerNode).raw,
    subjectPublicKey: readBitString(key, 'subjectPublicKey').bytes,
  };
}

function readName(node: DerNode | undefined, what: string): ParsedName {
  const organizations: string[] = [];
  const parts: string[] = [];
  let commonName = '';
  for (const rdn of sequence(node, what)) {
    for (const attribute of sequence(rdn, `${what} RDN`, TAG.SET)) {
      const [typeNode, valueNode] = sequence(attribute, `${what} attribute`);
      const type = readOid(typeNode, `${what} attribute type`);
      if (valueNode === undefined) throw new DerError(`missing ${what} attribute value`);
      const label = NAME_ATTRIBUTE_LABELS[type] ?? type;
      const value =
        label === type
          ? `#${valueNode.raw.toString('hex')}`
          : readString(valueNode, `${what} ${label}`);
      if (type === OID.commonName) commonName = value;
      if (type === OID.organizationName) organizations.push(value);
      parts.push(`${label}=${value}`);
    }
  }
  return { der: (node as DerNode).raw, commonName, organizations, text: parts.reverse().join(',') };
}

function emptyExtensions(): ParsedExtensions {
  return {
    isCa: false,
    keyUsage: undefined,
    extKeyUsage: undefined,
    dnsNames: [],
    ipAddresses: [],
    subjectKeyId: undefined,
    authorityKeyId: undefined,
  };
}

function readExtensions(node: DerNode): ParsedExtensions {
  const seen = new Set<string>();
  let isCa = false;
  let keyUsage: KeyUsageName[] | undefined;
  let extKeyUsage: string[] | undefined;
  let names = { dnsNames: [] as string[], ipAddresses: [] as string[] };
  let subjectKeyId: Buffer | undefined;
  let authorityKeyId: Buffer | undefined;
  for (const extension of children(node)) {
    const fields = sequence(extension, 'extension');
    const id = readOid(fields[0], 'extension id');
    if (seen.has(id)) throw new DerError(`duplicate extension ${id}`);
    seen.add(id);
    let valueNode = fields[1];
    if (valueNode?.tag === TAG.BOOLEAN) {
      readBoolean(valueNode, `extension ${id} critical`);
      valueNode = fields[2];
    }
    const value = readDer(expectTag(valueNode, TAG.OCTET_STRING, `extension ${id} value`).value);
    switch (id) {
      case OID.basicConstraints: {
        const [flag] = sequence(value, 'basicConstraints');
        isCa = flag?.tag === TAG.BOOLEAN && readBoolean(flag, 'basicConstraints cA');
        break;
      }
      case OID.keyUsage:
        keyUsage = readKeyUsage(value);
        break;
      case OID.extKeyUsage:
        extKeyUsage = sequence(value, 'extKeyUsage').map((n) => {
          const oid = readOid(n, 'extKeyUsage purpose');
          return EXT_KEY_USAGE_NAMES[oid] ?? oid;
        });
        break;
      case OID.subjectAltName:
        names = readAltNames(value);
        break;
      case OID.subjectKeyIdentifier:
        subjectKeyId = expectTag(value, TAG.OCTET_STRING, 'subjectKeyIdentifier').value;
        break;
      case OID.authorityKeyIdentifier:
        authorityKeyId = sequence(value, 'authorityKeyIdentifier').find(
          (n) => n.tag === KEY_ID_TAG,
        )?.value;
        break;
      default:
        break;
    }
  }
  return { isCa, keyUsage, extKeyUsage, ...names, subjectKeyId, authorityKeyId };
}

function readKeyUsage(node: DerNode): KeyUsageName[] {
  const { bytes } = readBitString(node, 'keyUsage');
  return KEY_USAGE_BITS.filter((_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
}

function readAltNames(node: DerNode): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const name of sequence(node, 'subjectAltName')) {
    if (name.tag === DNS_NAME_TAG) {
      dnsNames.push(name.value.toString('latin1'));
    } else if (name.tag === IP_ADDRESS_TAG) {
      const ip = formatIp(name.value);
      if (ip === undefined) throw new DerError(`iPAddress SAN of ${name.value.length} octets`);
      ipAddresses.push(ip);
    }
  }
  return { dnsNames, ipAddresses };
}

function leadingZeros(bytes: Buffer): number {
  let n = 0;
  while (n < bytes.length - 1 && bytes[n] === 0) n++;
  return n;
}
