import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { checkHostileBytes } from './codec-properties.ts';
import { FUZZ_TARGETS } from './fuzz-targets.ts';
import type { Action, ScenarioConfig } from './session-actions.ts';
import { runScenario } from './session-harness.ts';

// A few thousand cases per `npm test` (about 5 s here); `npm run fuzz` runs hundreds of
// thousands. The seed is fixed so a failure reproduces; FUZZ_SEED=<n> explores another one.
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_917);
const RUNS: Readonly<Record<string, number>> = {
  'codec-round-trip': 2_000,
  'codec-hostile-bytes': 4_000,
  'codec-huge-lengths': 1_000,
  'codec-oversize': 20,
  'flow-control-windows': 2_000,
  'session-scenarios': 600,
};

describe('fuzz targets (fast-check)', () => {
  it.each(FUZZ_TARGETS.map((t) => [t.name, t] as const))('%s', async (name, target) => {
    const details = await fc.check(target.property(), { numRuns: RUNS[name] ?? 500, seed: SEED });
    expect(details.failed, details.failed ? fc.defaultReportMessage(details) : '').toBe(false);
  });
});

const FULL: ScenarioConfig = {
  extensions: ['flow-control', 'half-close', 'error-codes', 'ping', 'stream-id'],
  highWaterMarkBytes: 1_024,
};

describe('session fuzz regressions (minimal counterexamples)', () => {
  it.each<{ name: string; config: ScenarioConfig; actions: Action[] }>([
    {
      // Found a crash: DIAL_RSP and the reset in one delivery left the dialer's 'error' unheard.
      name: 'accept then reset, both packets delivered together',
      config: { extensions: ['error-codes'], highWaterMarkBytes: 1_024 },
      actions: [
        { a: 'dial' },
        { a: 'deliver', from: 'dialer', count: 1 },
        { a: 'answer', pick: 0, accept: true, reason: 'timeout' },
        { a: 'reset', side: 'acceptor', pick: 0, code: 'canceled' },
        { a: 'deliver', from: 'acceptor', count: 2 },
      ],
    },
    {
      // Found a crash: the same with the session's own violation reset on the acceptor.
      name: 'accept, violation reset on the acceptor, both packets delivered together',
      config: FULL,
      actions: [
        { a: 'dial' },
        { a: 'deliver', from: 'dialer', count: 1 },
        { a: 'answer', pick: 0, accept: true, reason: 'timeout' },
        { a: 'violate', to: 'acceptor', kind: 'zero-window-update', pick: 0 },
        { a: 'deliver', from: 'acceptor', count: 2 },
      ],
    },
    {
      // Found data loss: the acceptor closed the tunnel once its side was done; the dialer's
      // completed but unread stream was destroyed 'tunnel-closed'.
      name: 'tunnel ended right after a graceful half-close handshake',
      config: FULL,
      actions: [
        { a: 'dial' },
        { a: 'deliver', from: 'dialer', count: 1 },
        { a: 'answer', pick: 0, accept: true, reason: 'timeout' },
        { a: 'close', side: 'acceptor' },
        { a: 'deliver', from: 'acceptor', count: 1 },
        { a: 'end', side: 'acceptor', pick: 0 },
        { a: 'end', side: 'dialer', pick: 0 },
        { a: 'deliver', from: 'dialer', count: 1 },
      ],
    },
    {
      // Found a hang: DATA after the peer's HALF_CLOSE reached a dialer waiting for CLOSE_RSP;
      // dropped silently, the peer's writes waited for credit forever.
      name: 'DATA after HALF_CLOSE while the dialer waits for CLOSE_RSP',
      config: { extensions: ['flow-control', 'half-close'], highWaterMarkBytes: 1_024 },
      actions: [
        { a: 'dial' },
        { a: 'deliver', from: 'dialer', count: 1 },
        { a: 'answer', pick: 0, accept: true, reason: 'timeout' },
        { a: 'deliver', from: 'acceptor', count: 1 },
        { a: 'end', side: 'dialer', pick: 0 },
        { a: 'violate', to: 'dialer', kind: 'data-after-half-close', pick: 0 },
        { a: 'write', side: 'acceptor', pick: 0, bytes: 131_072 },
        { a: 'write', side: 'acceptor', pick: 0, bytes: 131_072 },
        { a: 'write', side: 'acceptor', pick: 0, bytes: 1 },
      ],
    },
    {
      // Pins a harness rule: the first 16 MiB grant is legal at zero credit and lets a stalled,
      // ended stream finish; the second grant then meets a done stream and is dropped.
      name: 'a hostile grant that lets a stalled stream finish',
      config: FULL,
      actions: [
        { a: 'dial' },
        { a: 'deliver', from: 'dialer', count: 1 },
        { a: 'answer', pick: 0, accept: true, reason: 'timeout' },
        { a: 'deliver', from: 'acceptor', count: 1 },
        { a: 'end', side: 'dialer', pick: 0 },
        { a: 'write', side: 'acceptor', pick: 0, bytes: 5_811 },
        { a: 'write', side: 'acceptor', pick: 0, bytes: 256_334 },
        { a: 'end', side: 'acceptor', pick: 0 },
        { a: 'deliver', from: 'dialer', count: 1 },
        { a: 'deliver', from: 'acceptor', count: 3 },
        { a: 'violate', to: 'acceptor', kind: 'window-overflow', pick: 0 },
      ],
    },
  ])('$name', async ({ config, actions }) => {
    await runScenario(config, actions);
  });
});

describe('codec fuzz regressions', () => {
  it.each([
    ['a payload length of 2^64 − 1', '22ffffffffffffffffff01'],
    ['a DATA length of 2^32 − 1 inside a short payload', '080422070801 1affffffff0f'],
    ['groups nested past the limit', '4b'.repeat(70)],
  ])('%s: a typed error, nothing allocated', (_name, hex) => {
    checkHostileBytes(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
  });
});
