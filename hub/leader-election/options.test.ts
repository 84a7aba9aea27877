import { describe, expect, it } from 'vitest';

import { LeaderElectionError } from './errors.ts';
import { resolveSettings, type ElectionSettingsInput } from './options.ts';

const BASE: ElectionSettingsInput = {
  namespace: 'spokelink-hub',
  name: 'hub-controllers',
  identity: 'a',
};

describe('resolveSettings', () => {
  it("applies client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry", () => {
    expect(resolveSettings(BASE)).toEqual({
      ...BASE,
      leaseDurationMs: 15_000,
      leaseDurationSeconds: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });

  it('accepts the short timings tests use', () => {
    const settings = resolveSettings({
      ...BASE,
      leaseDurationMs: 2_000,
      renewDeadlineMs: 1_500,
      retryPeriodMs: 500,
    });
    expect(settings.leaseDurationSeconds).toBe(2);
  });

  it.each<{ name: string; input: Partial<ElectionSettingsInput>; message: string }>([
    {
      name: 'namespace not a DNS label',
      input: { namespace: 'Hub_NS' },
      message: 'namespace must be a DNS label, got "Hub_NS"',
    },
    { name: 'empty name', input: { name: '' }, message: 'name must be a DNS subdomain, got ""' },
    { name: 'empty identity', input: { identity: '' }, message: 'identity must not be empty' },
    {
      name: 'fractional seconds',
      input: { leaseDurationMs: 2_500, renewDeadlineMs: 1_500, retryPeriodMs: 500 },
      message: 'leaseDurationMs must be whole seconds (the Lease stores seconds), got 2500',
    },
    {
      name: 'renew deadline not below the lease duration',
      input: { leaseDurationMs: 10_000 },
      message: 'leaseDurationMs (10000) must be greater than renewDeadlineMs (10000)',
    },
    {
      name: 'renew deadline within 1.2 retry periods',
      input: { renewDeadlineMs: 2_400 },
      message: 'renewDeadlineMs (2400) must be greater than 1.2 × retryPeriodMs (2000)',
    },
    {
      name: 'zero retry period',
      input: { retryPeriodMs: 0 },
      message: 'retryPeriodMs must be a positive integer number of ms, got 0',
    },
    {
      name: 'non-integer renew deadline',
      input: { renewDeadlineMs: Number.NaN },
      message: 'renewDeadlineMs must be a positive integer number of ms, got NaN',
    },
  ])('rejects $name', ({ input, message }) => {
    let thrown: unknown;
    try {
      resolveSettings({ ...BASE, ...input });
    } catch (err: unknown) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(LeaderElectionError);
    expect(thrown).toMatchObject({ code: 'HUB_ERR_LEADER_ELECTION_INVALID_OPTIONS', message });
  });
});
