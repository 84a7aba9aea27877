import { isIPv6 } from 'node:net';

import { MAX_DIAL_ADDRESS_LENGTH } from './constants.ts';
import { ProtocolError } from './errors.ts';

/** A DIAL_REQ address split into its parts. */
export interface DialAddress {
  /** DNS name or IPv4 literal, or an IPv6 literal without brackets (zone kept, e.g. "fe80::1%eth0"). */
  readonly host: string;
  /** TCP port, 1–65535. */
  readonly port: number;
}

// DNS names (RFC 1123 letters, digits, hyphen; underscore as seen in SRV-style names), dotted
// IPv4, optional trailing dot. Deliberately ASCII-only: anything else never resolves anyway.
const HOST_PATTERN = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;
const PORT_PATTERN = /^[0-9]{1,5}$/;

function invalid(address: string, why: string): ProtocolError {
  // JSON.stringify keeps control characters visible and the message on one line.
  return new ProtocolError(
    'PROTO_ERR_INVALID_ADDRESS',
    `dial address ${JSON.stringify(address.slice(0, 80))} is not host:port: ${why}`,
  );
}

/**
 * Splits a dial address "host:port" (IPv6 as "[addr]:port") the way Go's net.SplitHostPort
 * does, and checks it: non-empty host, numeric port 1–65535, at most
 * {@link MAX_DIAL_ADDRESS_LENGTH} characters. Pure; throws ProtocolError
 * `PROTO_ERR_INVALID_ADDRESS` with the reason.
 */
export function parseDialAddress(address: string): DialAddress {
  if (address.length === 0) throw invalid(address, 'empty');
  if (address.length > MAX_DIAL_ADDRESS_LENGTH) {
    throw invalid(address, `longer than ${MAX_DIAL_ADDRESS_LENGTH} characters`);
  }
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) throw invalid(address, 'missing "]" after IPv6 host');
    if (address[close + 1] !== ':') throw invalid(address, 'missing ":port" after "]"');
    host = address.slice(1, close);
    portText = address.slice(close + 2);
    const zone = host.indexOf('%');
    const bare = zone < 0 ? host : host.slice(0, zone);
    if (!isIPv6(bare)) throw invalid(address, 'bracketed host is not an IPv6 address');
    if (zone >= 0 && !/^[A-Za-z0-9_.-]+$/.test(host.slice(zone + 1))) {
      throw invalid(address, 'invalid IPv6 zone');
    }
  } else {
    const colon = address.lastIndexOf(':');
    if (colon < 0) throw invalid(address, 'missing port');
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
    if (host.includes(':')) throw invalid(address, 'too many colons (bracket IPv6 hosts)');
    if (host.length === 0) throw invalid(address, 'empty host');
    if (!HOST_PATTERN.test(host)) throw invalid(address, 'host has invalid characters');
  }
  if (!PORT_PATTERN.test(portText)) throw invalid(address, 'port is not a decimal number');
  const port = Number(portText);
  if (port < 1 || port > 65535) throw invalid(address, 'port out of range 1-65535');
  return { host, port };
}

/** Joins host and port into a dial address, bracketing IPv6 hosts. Inverse of {@link parseDialAddress}. */
export function formatDialAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
