import { CertError } from './errors.ts';
import { ipToBytes } from './ip.ts';

const MS_PER_DAY = 86_400_000;
const MAX_DNS_NAME_CHARS = 253;
// Letters, digits, '-' and '_' (seen in real service names), labels of 1-63 characters, and an
// optional leading '*.' wildcard label.
const DNS_NAME_RE =
  /^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;

/**
 * Which TLS role a leaf certificate may play: extKeyUsage serverAuth, clientAuth, or both.
 */
export type CertUsage = 'server' | 'client' | 'server-client';

/** The usages, in a fixed order (also the order of the extKeyUsage purposes they map to). */
export const CERT_USAGES: readonly CertUsage[] = ['server', 'client', 'server-client'];

/**
 * Who a certificate or CSR names. `commonName` is the Kubernetes user name and `organizations`
 * its groups when the certificate is used as a client certificate.
 */
export interface SubjectOptions {
  commonName: string;
  organizations?: string[];
  /** dNSName SANs; a leading `*.` wildcard label is allowed. */
  dnsNames?: string[];
  /** iPAddress SANs, IPv4 or IPv6 text; they are stored as octets and read back canonicalized. */
  ipAddresses?: string[];
}

/** SubjectOptions after validation, with duplicates removed and IPs as octets. */
export interface ValidSubject {
  readonly commonName: string;
  readonly organizations: string[];
  readonly dnsNames: string[];
  readonly ipAddresses: Buffer[];
}

/**
 * Validates SubjectOptions. `where` prefixes messages ("invalid options", "CSR").
 * @throws CertError `code` (CERT_ERR_INVALID_OPTIONS by default) naming the bad field.
 */
export function validateSubject(
  opts: SubjectOptions,
  where = 'invalid options',
  code: 'CERT_ERR_INVALID_OPTIONS' | 'CERT_ERR_INVALID_CSR' = 'CERT_ERR_INVALID_OPTIONS',
): ValidSubject {
  const fail = (detail: string): CertError => new CertError(code, `${where}: ${detail}`);
  if (typeof opts !== 'object' || opts === null) throw fail('expected an options object');
  if (typeof opts.commonName !== 'string' || opts.commonName.trim() === '') {
    throw fail('commonName must be a non-empty string');
  }
  const organizations = stringList(opts.organizations, 'organizations', fail);
  organizations.forEach((o, i) => {
    if (o.trim() === '') throw fail(`organizations[${i}] must be a non-empty string`);
  });
  const dnsNames = stringList(opts.dnsNames, 'dnsNames', fail);
  dnsNames.forEach((name, i) => {
    if (name.length > MAX_DNS_NAME_CHARS || !DNS_NAME_RE.test(name)) {
      throw fail(`dnsNames[${i}] ${JSON.stringify(name)} is not a valid DNS name`);
    }
  });
  const ipAddresses = stringList(opts.ipAddresses, 'ipAddresses', fail).map((ip, i) => {
    const bytes = ipToBytes(ip);
    if (bytes === undefined)
      throw fail(`ipAddresses[${i}] ${JSON.stringify(ip)} is not an IPv4 or IPv6 address`);
    return bytes;
  });
  return {
    commonName: opts.commonName,
    organizations: unique(organizations),
    dnsNames: unique(dnsNames),
    ipAddresses: ipAddresses.filter(
      (ip, i) => ipAddresses.findIndex((other) => other.equals(ip)) === i,
    ),
  };
}

function stringList(value: unknown, field: string, fail: (detail: string) => CertError): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw fail(`${field} must be an array of strings`);
  }
  return value;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * Validates a usage option.
 * @throws CertError CERT_ERR_INVALID_OPTIONS when it is not a {@link CertUsage}.
 */
export function validateUsage(usage: unknown): CertUsage {
  if (!CERT_USAGES.includes(usage as CertUsage)) {
    throw new CertError(
      'CERT_ERR_INVALID_OPTIONS',
      `invalid options: usage must be one of ${CERT_USAGES.join(', ')}, got ${JSON.stringify(usage)}`,
    );
  }
  return usage as CertUsage;
}

/**
 * The `now` option, or the current time.
 * @throws CertError CERT_ERR_INVALID_OPTIONS for something other than a valid Date.
 */
export function resolveNow(now: unknown): Date {
  if (now === undefined) return new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new CertError('CERT_ERR_INVALID_OPTIONS', 'invalid options: now must be a valid Date');
  }
  return now;
}

/**
 * The `validityDays` option in milliseconds (fractions of a day are allowed).
 * @throws CertError CERT_ERR_INVALID_OPTIONS unless it is a finite number above zero.
 */
export function validityMs(validityDays: unknown, defaultDays: number): number {
  const days = validityDays ?? defaultDays;
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0) {
    throw new CertError(
      'CERT_ERR_INVALID_OPTIONS',
      `invalid options: validityDays must be a positive number of days, got ${String(days)}`,
    );
  }
  return days * MS_PER_DAY;
}
