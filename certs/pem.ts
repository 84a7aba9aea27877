import { CertError } from './errors.ts';
import { type ParsedCertificate, parseCertificateDer } from './x509-parser.ts';

const PEM_LINE_CHARS = 64;
const BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** One decoded PEM block. */
export interface PemBlock {
  readonly type: string;
  readonly der: Buffer;
}

/**
 * Every PEM block in `pem`, in order, with its base64 body checked strictly (RFC 7468: only
 * base64 characters and whitespace, correct padding; no RFC 1421 headers). Text outside blocks
 * is allowed, as RFC 7468 allows explanatory text. `what` names the input in messages.
 * @throws CertError CERT_ERR_INVALID_PEM when there is no block or a block is malformed.
 */
export function decodePemBlocks(pem: unknown, what: string): PemBlock[] {
  if (typeof pem !== 'string') throw invalid(what, `expected a PEM string, got ${typeof pem}`);
  const blocks: PemBlock[] = [];
  let consumed = 0;
  for (const match of pem.matchAll(BLOCK_RE)) {
    const [, type = '', body = '', endType] = match;
    if (pem.slice(consumed, match.index).includes('-----BEGIN')) {
      throw invalid(what, 'a BEGIN line has no matching END line');
    }
    consumed = match.index + match[0].length;
    if (type !== endType) throw invalid(what, `"BEGIN ${type}" is closed by "END ${endType}"`);
    if (body.includes(':')) {
      throw invalid(
        what,
        `"${type}" block has RFC 1421 headers (an encrypted legacy key?), which are not supported`,
      );
    }
    const base64 = body.replace(/[ \t\r\n]/g, '');
    if (base64.length === 0 || base64.length % 4 !== 0 || !BASE64_RE.test(base64)) {
      throw invalid(what, `"${type}" block has a malformed or truncated base64 body`);
    }
    blocks.push({ type, der: Buffer.from(base64, 'base64') });
  }
  if (pem.slice(consumed).includes('-----BEGIN'))
    throw invalid(what, 'a BEGIN line has no matching END line');
  if (blocks.length === 0) throw invalid(what, 'no PEM block found');
  return blocks;
}

/**
 * The first PEM block in `pem`, which must have one of `types`.
 * @throws CertError CERT_ERR_INVALID_PEM otherwise.
 */
export function decodeFirstPemBlock(
  pem: unknown,
  types: readonly string[],
  what: string,
): PemBlock {
  const block = decodePemBlocks(pem, what)[0] as PemBlock;
  if (!types.includes(block.type)) {
    throw invalid(what, `expected a "${types[0]}" PEM block, found "${block.type}"`);
  }
  return block;
}

/** PEM text of `der`: 64-character base64 lines and a trailing newline. */
export function encodePem(type: string, der: Buffer): string {
  const base64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += PEM_LINE_CHARS)
    lines.push(base64.slice(i, i + PEM_LINE_CHARS));
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/**
 * Parses the first block of `pem`, which must be a "CERTIFICATE". Later blocks (a chain after
 * the leaf, as in a `tls.crt`) are ignored.
 * @throws CertError CERT_ERR_INVALID_PEM.
 */
export function readCertificatePem(pem: unknown, what: string): ParsedCertificate {
  return parseCertificateDer(decodeFirstPemBlock(pem, ['CERTIFICATE'], what).der, what);
}

/**
 * Splits a PEM bundle (for example a CA file holding several certificates, or a `tls.crt` with
 * its chain) into one normalized PEM string per certificate, in order. Each certificate is
 * parsed, so a bundle that this returns is known to be well-formed. Pure and safe to repeat.
 * @throws CertError CERT_ERR_INVALID_PEM when there is no block, a block is not a "CERTIFICATE"
 *   or a certificate is malformed.
 */
export function splitPemBundle(pem: string): string[] {
  return readCertificateBundle(pem, 'certificate bundle').map((cert) =>
    encodePem('CERTIFICATE', cert.der),
  );
}

/**
 * Parses every block of a bundle; each must be a "CERTIFICATE".
 * @throws CertError CERT_ERR_INVALID_PEM.
 */
export function readCertificateBundle(pem: unknown, what: string): ParsedCertificate[] {
  const blocks = decodePemBlocks(pem, what);
  return blocks.map((block, i) => {
    const which = blocks.length === 1 ? what : `${what} (certificate ${i + 1})`;
    if (block.type !== 'CERTIFICATE')
      throw invalid(which, `expected a "CERTIFICATE" PEM block, found "${block.type}"`);
    return parseCertificateDer(block.der, which);
  });
}

function invalid(what: string, detail: string): CertError {
  return new CertError('CERT_ERR_INVALID_PEM', `invalid ${what} PEM: ${detail}`);
}
