// The error catalog and this folder's README error table must agree, both ways (STYLE §3.2).
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import {
  LEADER_ELECTION_ERROR_CODES,
  LeaderElectionError,
  describeError,
  isLeaderElectionError,
} from './errors.ts';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
const documented = [...readme.matchAll(/^\|\s*`(HUB_ERR_[A-Z0-9_]+)`/gm)].map(
  (m) => m[1] as string,
);

describe('leader election error codes', () => {
  it('are each documented in the README error table', () => {
    expect(LEADER_ELECTION_ERROR_CODES.filter((c) => !documented.includes(c))).toEqual([]);
  });

  it('are each real: the table names no code that does not exist', () => {
    const codes: readonly string[] = LEADER_ELECTION_ERROR_CODES;
    expect(documented.filter((c) => !codes.includes(c))).toEqual([]);
  });

  it('carry the code, the name and the cause', () => {
    const cause = new Error('boom');
    const err = new LeaderElectionError('HUB_ERR_LEADERSHIP_LOST', 'lost', { cause });
    expect(err).toMatchObject({
      name: 'LeaderElectionError',
      code: 'HUB_ERR_LEADERSHIP_LOST',
      message: 'lost',
      cause,
    });
    expect(isLeaderElectionError(err, 'HUB_ERR_LEADERSHIP_LOST')).toBe(true);
    expect(isLeaderElectionError(err, 'HUB_ERR_LEADER_ELECTION_CLOSED')).toBe(false);
    expect(isLeaderElectionError(cause)).toBe(false);
  });
});

describe('describeError', () => {
  it("gives an API error's status and Status message, never its headers", () => {
    const err = Object.assign(
      new Error('HTTP-Code: 403\nMessage: Forbidden\nBody: {...}\nHeaders: {"audit-id":"x"}'),
      {
        code: 403,
        body: JSON.stringify({ kind: 'Status', message: 'leases "l" is forbidden' }),
      },
    );
    expect(describeError(err)).toEqual({
      error: 'leases "l" is forbidden',
      code: 403,
      name: 'Error',
    });
  });

  it('follows causes, as fetch hides the reason behind "fetch failed"', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    const err = new TypeError('fetch failed', { cause: refused });
    expect(describeError(err)).toEqual({
      error: 'fetch failed: connect ECONNREFUSED 127.0.0.1:1',
      name: 'TypeError',
    });
    expect(describeError('text')).toEqual({ error: 'text' });
  });
});
