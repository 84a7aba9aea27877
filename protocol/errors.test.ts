import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import {
  DIAL_FAILURE_REASONS,
  DIAL_FAILURE_WIRE,
  STREAM_RESET_CODES,
  STREAM_RESET_WIRE,
} from './error-codes.ts';
import { PROTOCOL_ERROR_CODES, ProtocolError, isProtocolError } from './errors.ts';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');

describe('ProtocolError', () => {
  it('carries code, message, cause and streamId', () => {
    const cause = new RangeError('inner');
    const error = new ProtocolError('PROTO_ERR_INVALID_ID', 'bad id', { cause, streamId: 4n });
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.code, error.message, error.cause, error.streamId]).toEqual([
      'ProtocolError',
      'PROTO_ERR_INVALID_ID',
      'bad id',
      cause,
      4n,
    ]);
    expect('cause' in new ProtocolError('PROTO_ERR_MALFORMED', 'x')).toBe(false);
  });

  it('isProtocolError checks class and optionally code', () => {
    const error = new ProtocolError('PROTO_ERR_TRUNCATED', 'x');
    expect(isProtocolError(error)).toBe(true);
    expect(isProtocolError(error, 'PROTO_ERR_TRUNCATED')).toBe(true);
    expect(isProtocolError(error, 'PROTO_ERR_MALFORMED')).toBe(false);
    expect(isProtocolError(new Error('x'))).toBe(false);
  });
});

describe('README stays in sync with the catalogs', () => {
  it('lists every error code in its table, and no other', () => {
    const inTable = [...readme.matchAll(/^\| `(PROTO_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(inTable).toEqual([...PROTOCOL_ERROR_CODES]);
    const mentioned = new Set(readme.match(/PROTO_ERR_[A-Z0-9_]+/g));
    expect(
      [...mentioned].filter((code) => !(PROTOCOL_ERROR_CODES as readonly string[]).includes(code)),
    ).toEqual([]);
  });

  it.each([
    ['DialFailureReason', DIAL_FAILURE_REASONS, DIAL_FAILURE_WIRE],
    ['StreamResetCode', STREAM_RESET_CODES, STREAM_RESET_WIRE],
  ] as const)('documents every %s with its wire number', (_name, codes, wire) => {
    for (const code of codes) {
      const n = (wire as Record<string, number>)[code];
      expect(readme, `${code} = ${n}`).toMatch(new RegExp(`\\| \`${code}\` \\| ${n} \\|`));
    }
  });
});
