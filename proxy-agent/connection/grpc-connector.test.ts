import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';

import { retryPushbackMs } from './grpc-connector.ts';

function statusError(code: status, pushback?: string): ServiceError {
  const metadata = new Metadata();
  if (pushback !== undefined) metadata.set('grpc-retry-pushback-ms', pushback);
  return Object.assign(new Error('refused'), { code, details: 'refused', metadata });
}

describe('retryPushbackMs', () => {
  it.each([
    {
      name: 'RESOURCE_EXHAUSTED with a pushback',
      err: statusError(status.RESOURCE_EXHAUSTED, '1500'),
      expected: 1500,
    },
    {
      name: 'RESOURCE_EXHAUSTED without one',
      err: statusError(status.RESOURCE_EXHAUSTED),
      expected: undefined,
    },
    {
      name: 'a malformed pushback',
      err: statusError(status.RESOURCE_EXHAUSTED, '-1'),
      expected: undefined,
    },
    { name: 'another status', err: statusError(status.UNAVAILABLE, '1500'), expected: undefined },
  ])('$name → $expected', ({ err, expected }) => {
    expect(retryPushbackMs(err)).toBe(expected);
  });
});
