// The error catalog and this folder's README error table must agree, both ways (STYLE §3.2).
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { isMsaError, MSA_ERROR_CODES, MsaError } from './errors.ts';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
const documented = [...readme.matchAll(/^\|\s*`(HUB_ERR_[A-Z0-9_]+)`/gm)].map(
  (m) => m[1] as string,
);

describe('managed-service-account error codes', () => {
  it('are each documented in the README error table', () => {
    expect(MSA_ERROR_CODES.filter((c) => !documented.includes(c))).toEqual([]);
  });

  it('are each real: the table names no code that does not exist', () => {
    const codes: readonly string[] = MSA_ERROR_CODES;
    expect(documented.filter((c) => !codes.includes(c))).toEqual([]);
  });

  it('carry the code and the cause', () => {
    const cause = new Error('boom');
    const err = new MsaError('HUB_ERR_MSA_SPOKE', 'requesting a token', { cause });
    expect(err).toMatchObject({
      name: 'MsaError',
      code: 'HUB_ERR_MSA_SPOKE',
      message: 'requesting a token',
      cause,
    });
    expect(isMsaError(err, 'HUB_ERR_MSA_SPOKE')).toBe(true);
    expect(isMsaError(err, 'HUB_ERR_MSA_HUB')).toBe(false);
    expect(isMsaError(cause)).toBe(false);
  });
});
