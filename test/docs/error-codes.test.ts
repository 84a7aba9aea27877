// The error catalog and the README's error table must agree, in both directions (STYLE §3.2).
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { CERT_ERROR_CODES } from '../../certs/index.ts';
import { PROTOCOL_ERROR_CODES, REGISTRATION_ERROR_CODES } from '../../protocol/index.ts';
import { SERVER_ERROR_CODES } from '../../proxy-server/index.ts';
import { AGENT_ERROR_CODES } from '../../proxy-agent/index.ts';
import { SANDBOX_ERROR_CODES } from '../../sandbox/index.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Codes named in the README's table rows: lines like "| `SANDBOX_ERR_X` | … |". */
function documentedCodes(prefix: string): string[] {
  const re = new RegExp(`^\\|\\s*\`(${prefix}[A-Z0-9_]+)\``, 'gm');
  return [...readme.matchAll(re)].map((m) => m[1] as string);
}

describe.each([
  { prefix: 'SANDBOX_ERR_', codes: SANDBOX_ERROR_CODES as readonly string[] },
  { prefix: 'CERT_ERR_', codes: CERT_ERROR_CODES as readonly string[] },
  { prefix: 'PROTO_ERR_', codes: PROTOCOL_ERROR_CODES as readonly string[] },
  { prefix: 'SERVER_ERR_', codes: SERVER_ERROR_CODES as readonly string[] },
  { prefix: 'AGENT_ERR_', codes: AGENT_ERROR_CODES as readonly string[] },
  { prefix: 'REG_ERR_', codes: REGISTRATION_ERROR_CODES as readonly string[] },
])('error codes $prefix', ({ prefix, codes }) => {
  it('are each documented in the README error table', () => {
    expect(codes.filter((c) => !documentedCodes(prefix).includes(c))).toEqual([]);
  });
  it('are each real: the table names no code that does not exist', () => {
    expect(documentedCodes(prefix).filter((c) => !codes.includes(c))).toEqual([]);
  });
});
