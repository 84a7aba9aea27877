// The error catalog and this folder's README error table must agree, both ways (STYLE §3.2).
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { isSpokeStatus, isWorkError, WORK_ERROR_CODES, WorkError } from './errors.ts';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
const documented = [...readme.matchAll(/^\|\s*`(HUB_ERR_[A-Z0-9_]+)`/gm)].map(
  (m) => m[1] as string,
);

describe('work controller error codes', () => {
  it('are each documented in the README error table', () => {
    expect(WORK_ERROR_CODES.filter((c) => !documented.includes(c))).toEqual([]);
  });

  it('are each real: the table names no code that does not exist', () => {
    const codes: readonly string[] = WORK_ERROR_CODES;
    expect(documented.filter((c) => !codes.includes(c))).toEqual([]);
  });

  it('carry the code, the HTTP status and reason, and the cause', () => {
    const cause = new Error('boom');
    const err = new WorkError('HUB_ERR_WORK_SPOKE_API', 'conflict', {
      status: 409,
      reason: 'Conflict',
      cause,
    });
    expect(err).toMatchObject({
      name: 'WorkError',
      code: 'HUB_ERR_WORK_SPOKE_API',
      message: 'conflict',
      status: 409,
      reason: 'Conflict',
      cause,
    });
    expect(isWorkError(err, 'HUB_ERR_WORK_SPOKE_API')).toBe(true);
    expect(isWorkError(err, 'HUB_ERR_WORK_UNKNOWN_KIND')).toBe(false);
    expect(isSpokeStatus(err, 409)).toBe(true);
    expect(isSpokeStatus(cause, 409)).toBe(false);
  });
});
