// A small, strict DER reader. node-forge's asn1.fromDer builds a tree without byte offsets,
// but signature checks and key hashes need the exact bytes that were signed or hashed
// (TBSCertificate, CertificationRequestInfo, SubjectPublicKeyInfo), so we walk DER ourselves.
// Only what X.509 and PKCS#10 use is supported: low tag numbers and definite, minimal lengths.

/** Universal and context-specific tags used by X.509 and PKCS#10, with class and constructed bits. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

const MAX_LENGTH_OCTETS = 4;

/** One decoded TLV. `raw` is the whole encoding (tag + length + value), `value` the contents. */
export interface DerNode {
  readonly tag: number;
  readonly raw: Buffer;
  readonly value: Buffer;
}

/** Thrown by the reader; callers wrap it in a CertError that names what was being read. */
export class DerError extends Error {
  override readonly name = 'DerError';
}

/** Context-specific tag number `n`, constructed (`[n] EXPLICIT`, `[n] IMPLICIT SET`) or not. */
export function contextTag(n: number, isConstructed: boolean): number {
  return 0x80 | (isConstructed ? 0x20 : 0) | n;
}

function readNode(buf: Buffer, offset: number): DerNode {
  if (offset + 2 > buf.length) throw new DerError(`truncated DER at byte ${offset}`);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`unsupported high tag number at byte ${offset}`);
  let length = buf[offset + 1] as number;
  let headerBytes = 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0) throw new DerError(`indefinite length at byte ${offset}`);
    if (octets > MAX_LENGTH_OCTETS) throw new DerError(`length too large at byte ${offset}`);
    if (offset + 2 + octets > buf.length) throw new DerError(`truncated DER at byte ${offset}`);
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    if (length < 0x80 || buf[offset + 2] === 0) {
      throw new DerError(`non-minimal length encoding at byte ${offset}`);
    }
    headerBytes += octets;
  }
  const end = offset + headerBytes + length;
  if (end > buf.length) throw new DerError(`truncated DER at byte ${offset}`);
  return {
    tag,
    raw: buf.subarray(offset, end),
    value: buf.subarray(offset + headerBytes, end),
  };
}

/** Decodes exactly one TLV that must span all of `buf`. */
export function readDer(buf: Buffer): DerNode {
  const node = readNode(buf, 0);
  if (node.raw.length !== buf.length) {
    throw new DerError(`${buf.length - node.raw.length} trailing bytes after DER value`);
  }
  return node;
}

/** The TLVs inside a constructed node, in order. */
export function children(node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0) throw new DerError(`tag 0x${hex(node.tag)} is not constructed`);
  const out: DerNode[] = [];
  for (let offset = 0; offset < node.value.length;) {
    const child = readNode(node.value, offset);
    out.push(child);
    offset += child.raw.length;
  }
  return out;
}

/** Asserts the tag of `node` (which may be missing) and returns it. */
export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined) throw new DerError(`missing ${what}`);
  if (node.tag !== tag) {
    throw new DerError(`expected tag 0x${hex(tag)} for ${what}, found 0x${hex(node.tag)}`);
  }
  return node;
}

/** The children of a SEQUENCE (or other constructed node with the given tag). */
export function sequence(
  node: DerNode | undefined,
  what: string,
  tag: number = TAG.SEQUENCE,
): DerNode[] {
  return children(expectTag(node, tag, what));
}

/** Dotted-decimal text of an OBJECT IDENTIFIER node. */
export function readOid(node: DerNode | undefined, what: string): string {
  const bytes = expectTag(node, TAG.OID, what).value;
  if (bytes.length === 0) throw new DerError(`empty OID for ${what}`);
  const arcs: number[] = [];
  let arc = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (arc === 0 && byte === 0x80) throw new DerError(`non-minimal OID arc for ${what}`);
    arc = arc * 128 + (byte & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER / 128) throw new DerError(`OID arc too large for ${what}`);
    if ((byte & 0x80) === 0) {
      arcs.push(arc);
      arc = 0;
    } else if (i === bytes.length - 1) {
      throw new DerError(`truncated OID for ${what}`);
    }
  }
  const first = arcs[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** BOOLEAN node value (DER: 0x00 or 0xff). */
export function readBoolean(node: DerNode | undefined, what: string): boolean {
  const bytes = expectTag(node, TAG.BOOLEAN, what).value;
  if (bytes.length !== 1 || (bytes[0] !== 0x00 && bytes[0] !== 0xff)) {
    throw new DerError(`invalid BOOLEAN for ${what}`);
  }
  return bytes[0] === 0xff;
}

/** BIT STRING contents without the leading unused-bits octet, plus that count. */
export function readBitString(
  node: DerNode | undefined,
  what: string,
): { bytes: Buffer; unusedBits: number } {
  const value = expectTag(node, TAG.BIT_STRING, what).value;
  const unusedBits = value[0];
  if (unusedBits === undefined || unusedBits > 7 || (value.length === 1 && unusedBits !== 0)) {
    throw new DerError(`invalid BIT STRING for ${what}`);
  }
  return { bytes: value.subarray(1), unusedBits };
}

/** UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5: seconds present, UTC "Z", no fractions). */
export function readTime(node: DerNode | undefined, what: string): Date {
  if (node === undefined) throw new DerError(`missing ${what}`);
  const text = node.value.toString('latin1');
  let match: RegExpExecArray | null;
  let year: number;
  if (
    node.tag === TAG.UTC_TIME &&
    (match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))
  ) {
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (
    node.tag === TAG.GENERALIZED_TIME &&
    (match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))
  ) {
    year = Number(match[1]);
  } else {
    throw new DerError(`invalid time for ${what}`);
  }
  const [month, day, hour, minute, second] = match.slice(2).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  if (
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new DerError(`invalid time for ${what}`);
  }
  return date;
}

/** Text of a DirectoryString-like node (UTF8String, PrintableString, IA5String, BMPString, ...). */
export function readString(node: DerNode, what: string): string {
  switch (node.tag) {
    case TAG.UTF8_STRING:
      return node.value.toString('utf8');
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.TELETEX_STRING:
      return node.value.toString('latin1');
    case TAG.BMP_STRING:
      return decodeUtf16Be(node.value, what);
    case TAG.UNIVERSAL_STRING:
      return decodeUtf32Be(node.value, what);
    default:
      throw new DerError(`unsupported string type 0x${hex(node.tag)} for ${what}`);
  }
}

function decodeUtf16Be(bytes: Buffer, what: string): string {
  if (bytes.length % 2 !== 0) throw new DerError(`odd-length BMPString for ${what}`);
  const swapped = Buffer.from(bytes);
  swapped.swap16();
  return swapped.toString('utf16le');
}

function decodeUtf32Be(bytes: Buffer, what: string): string {
  if (bytes.length % 4 !== 0) throw new DerError(`bad UniversalString length for ${what}`);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) out += String.fromCodePoint(bytes.readUInt32BE(i));
  return out;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
