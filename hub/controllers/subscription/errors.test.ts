// The error catalog and this folder's README error table must agree, both ways (STYLE §3.2).
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import {
  isSubscriptionError,
  SUBSCRIPTION_ERROR_CODES,
  SUBSCRIPTION_ERROR_REASONS,
  SubscriptionError,
} from './errors.ts';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
const rows = [...readme.matchAll(/^\|\s*`(HUB_ERR_[A-Z0-9_]+)`\s*\|\s*([A-Za-z]+)\s*\|/gm)].map(
  (m) => [m[1] as string, m[2] as string] as const,
);

describe('subscription error codes', () => {
  it('are each documented in the README error table with their reason', () => {
    expect(Object.fromEntries(rows)).toEqual(SUBSCRIPTION_ERROR_REASONS);
  });

  it('carry the code, the status reason and the cause', () => {
    const cause = new Error('boom');
    const err = new SubscriptionError('HUB_ERR_SUB_PATH_REFUSED', 'no', { cause });
    expect(err).toMatchObject({
      name: 'SubscriptionError',
      code: 'HUB_ERR_SUB_PATH_REFUSED',
      message: 'no',
      cause,
    });
    expect(err.reason).toBe('PathRefused');
    expect(isSubscriptionError(err, 'HUB_ERR_SUB_PATH_REFUSED')).toBe(true);
    expect(isSubscriptionError(err, 'HUB_ERR_SUB_INVALID')).toBe(false);
    expect(isSubscriptionError(new Error('x'))).toBe(false);
    expect(SUBSCRIPTION_ERROR_CODES).toHaveLength(Object.keys(SUBSCRIPTION_ERROR_REASONS).length);
  });

  it('reasons are PascalCase, as status reasons must be', () => {
    for (const reason of Object.values(SUBSCRIPTION_ERROR_REASONS))
      expect(reason).toMatch(/^[A-Z][A-Za-z]+$/);
  });
});
