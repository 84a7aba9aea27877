import { describe, expect, it } from 'vitest';

import { isStaleConnectionRetry } from './http-relay.ts';

const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const stale = {
  err: reset,
  reusedSocket: true,
  hasResponse: false,
  withBody: false,
  method: 'GET',
  number: 1,
  isCallerGone: false,
};

describe('isStaleConnectionRetry', () => {
  it('retries an idempotent request without a body that died on a reused idle connection', () => {
    expect(isStaleConnectionRetry(stale)).toBe(true);
    expect(isStaleConnectionRetry({ ...stale, method: 'HEAD' })).toBe(true);
  });

  it.each([
    ['a fresh connection', { reusedSocket: false }],
    ['another error', { err: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) }],
    ['an answer already begun', { hasResponse: true }],
    ['a request body', { withBody: true }],
    ['a POST', { method: 'POST' }],
    ['a second try', { number: 2 }],
    ['a caller that has gone', { isCallerGone: true }],
  ])('does not retry after %s', (_what, change) => {
    expect(isStaleConnectionRetry({ ...stale, ...change })).toBe(false);
  });
});
