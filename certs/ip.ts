import { isIPv4, isIPv6 } from 'node:net';

const IPV6_GROUPS = 8;

/**
 * The 4 or 16 octets of an IP address in text form, as stored in an iPAddress SAN, or
 * undefined when `text` is not a plain IPv4/IPv6 address (zone ids such as `%eth0` are refused:
 * they mean nothing outside one host).
 */
export function ipToBytes(text: string): Buffer | undefined {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let hexText = text;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // IPv4-mapped or -compatible form: the low 32 bits are written as a dotted quad.
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number];
    hexText = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const [headText, tailText] = hexText.split('::') as [string, string | undefined];
  const head = parse(headText);
  const tail = tailText === undefined ? [] : parse(tailText);
  const zeros = new Array<number>(IPV6_GROUPS - head.length - tail.length).fill(0);
  const groups = [...head, ...zeros, ...tail];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/**
 * Text form of a 4- or 16-octet address: dotted quad for IPv4, RFC 5952 canonical form for IPv6
 * (lowercase, leading zeros dropped, the longest run of two or more zero groups as `::`).
 */
export function formatIp(bytes: Buffer): string | undefined {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) return undefined;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < IPV6_GROUPS;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < IPV6_GROUPS && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
