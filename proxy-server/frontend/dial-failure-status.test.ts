import { describe, expect, it } from 'vitest';

import { DIAL_FAILURE_REASONS } from '../../protocol/index.ts';
import { statusForDialFailure } from './dial-failure-status.ts';

describe('statusForDialFailure', () => {
  const expected: Record<(typeof DIAL_FAILURE_REASONS)[number], number> = {
    'no-agent': 503,
    overloaded: 503,
    timeout: 504,
    'not-allowed': 403,
    'bad-request': 400,
    refused: 502,
    unreachable: 502,
    dns: 502,
    'tunnel-closed': 502,
    canceled: 502,
    internal: 502,
  };

  it.each(DIAL_FAILURE_REASONS.map((reason) => ({ reason, status: expected[reason] })))(
    '$reason → $status',
    ({ reason, status }) => {
      expect(statusForDialFailure(reason)).toBe(status);
    },
  );
});
