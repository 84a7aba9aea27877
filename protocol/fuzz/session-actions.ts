/**
 * The actions of a session fuzz scenario and their arbitraries: the two applications' calls
 * (dial, accept/reject, cancel, write, end, pause/resume, reset, destroy, close), the wire's
 * scheduling (deliver some packets of one direction, let the event loop run) and a hostile
 * peer's packets (targeted protocol violations, harmless unknown-id packets, garbage bytes).
 * `pick` chooses among the live candidates modulo their number. Test code only.
 */
import fc from 'fast-check';

import {
  DIAL_FAILURE_REASONS,
  STREAM_RESET_CODES,
  type DialFailureReason,
  type StreamResetCode,
} from '../error-codes.ts';
import { SUPPORTED_EXTENSIONS, type ExtensionName } from '../extensions.ts';
import type { Packet } from '../packet.ts';
import type { Side } from './fuzz-wire.ts';
import { hostileBytesArb, validPacketArb } from './packet-arbitraries.ts';

/** Violations that must reset exactly the targeted stream (or fail the targeted dial). */
export const VIOLATIONS = [
  /** EXT_WINDOW_UPDATE with increment 0 → 'protocol'. */
  'zero-window-update',
  /** Two EXT_WINDOW_UPDATEs of 16 MiB (flow-control) → 'flow-control'. */
  'window-overflow',
  /** EXT_HALF_CLOSE, then DATA (half-close) → 'protocol'. */
  'data-after-half-close',
  /** DATA of credit + 1 bytes (flow-control) → 'flow-control'. */
  'data-beyond-window',
  /** An invalid DIAL_RSP (code without text) for a pending dial → the dial fails 'internal'. */
  'invalid-dial-response',
] as const;
export type Violation = (typeof VIOLATIONS)[number];

export type Action =
  | { readonly a: 'dial' }
  | {
      readonly a: 'answer';
      readonly pick: number;
      readonly accept: boolean;
      readonly reason: DialFailureReason;
    }
  | { readonly a: 'cancel'; readonly pick: number }
  | { readonly a: 'write'; readonly side: Side; readonly pick: number; readonly bytes: number }
  | { readonly a: 'end'; readonly side: Side; readonly pick: number }
  | { readonly a: 'pause'; readonly side: Side; readonly pick: number }
  | { readonly a: 'resume'; readonly side: Side; readonly pick: number }
  | {
      readonly a: 'reset';
      readonly side: Side;
      readonly pick: number;
      readonly code: StreamResetCode;
    }
  | { readonly a: 'destroy'; readonly side: Side; readonly pick: number }
  | { readonly a: 'deliver'; readonly from: Side; readonly count: number }
  | { readonly a: 'settle' }
  | { readonly a: 'violate'; readonly to: Side; readonly kind: Violation; readonly pick: number }
  /** A valid packet naming no live stream or dial (ids ≥ 2^40): must change nothing. */
  | { readonly a: 'noise'; readonly to: Side; readonly packet: Packet }
  /** Hostile bytes: whatever they decode to decides what must happen. */
  | { readonly a: 'garbage'; readonly to: Side; readonly bytes: Uint8Array }
  | { readonly a: 'drain'; readonly side: Side }
  | { readonly a: 'close'; readonly side: Side };

/** Scenario settings. */
export interface ScenarioConfig {
  /** The negotiated set, the same on both sides. */
  readonly extensions: readonly ExtensionName[];
  /** Where the wire's send() starts returning false (the connection brake), bytes. */
  readonly highWaterMarkBytes: number;
}

const sideArb = fc.constantFrom<Side>('dialer', 'acceptor');
const pickArb = fc.nat({ max: 1_000 });
const writeBytesArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 2_048 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 64 * 1024 }) },
  { weight: 1, arbitrary: fc.integer({ min: 128 * 1024, max: 320 * 1024 }) },
);
/** Reset codes an application picks (violation codes are the session's own). */
const appResetCodeArb = fc.constantFrom(
  ...STREAM_RESET_CODES.filter((c) => c !== 'protocol' && c !== 'flow-control'),
);

export const configArb: fc.Arbitrary<ScenarioConfig> = fc.record({
  extensions: fc.oneof(
    fc.constant([...SUPPORTED_EXTENSIONS]),
    fc.constant([]),
    fc.subarray([...SUPPORTED_EXTENSIONS]),
  ),
  highWaterMarkBytes: fc.constantFrom(1_024, 64 * 1024, 1024 * 1024),
});

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ a: 'dial' as const }) },
  {
    weight: 12,
    arbitrary: fc.record({
      a: fc.constant('answer' as const),
      pick: pickArb,
      accept: fc.boolean(),
      reason: fc.constantFrom(...DIAL_FAILURE_REASONS),
    }),
  },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('cancel' as const), pick: pickArb }) },
  {
    weight: 24,
    arbitrary: fc.record({
      a: fc.constant('write' as const),
      side: sideArb,
      pick: pickArb,
      bytes: writeBytesArb,
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ a: fc.constant('end' as const), side: sideArb, pick: pickArb }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ a: fc.constant('pause' as const), side: sideArb, pick: pickArb }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ a: fc.constant('resume' as const), side: sideArb, pick: pickArb }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      a: fc.constant('reset' as const),
      side: sideArb,
      pick: pickArb,
      code: appResetCodeArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ a: fc.constant('destroy' as const), side: sideArb, pick: pickArb }),
  },
  {
    weight: 30,
    arbitrary: fc.record({
      a: fc.constant('deliver' as const),
      from: sideArb,
      count: fc.integer({ min: 1, max: 16 }),
    }),
  },
  { weight: 9, arbitrary: fc.constant({ a: 'settle' as const }) },
  {
    weight: 6,
    arbitrary: fc.record({
      a: fc.constant('violate' as const),
      to: sideArb,
      kind: fc.constantFrom(...VIOLATIONS),
      pick: pickArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      a: fc.constant('noise' as const),
      to: sideArb,
      packet: validPacketArb({ minId: 1n << 40n, maxDataBytes: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      a: fc.constant('garbage' as const),
      to: sideArb,
      bytes: hostileBytesArb,
    }),
  },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('drain' as const), side: sideArb }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('close' as const), side: sideArb }) },
);

/** A scenario: settings and up to 120 actions, opening with one to three dials. */
export const scenarioArb: fc.Arbitrary<[ScenarioConfig, Action[]]> = fc
  .tuple(
    configArb,
    fc.integer({ min: 1, max: 3 }),
    fc.array(actionArb, { maxLength: 120, size: 'large' }),
  )
  .map(([config, dials, actions]) => [
    config,
    [...Array.from({ length: dials }, () => ({ a: 'dial' as const })), ...actions],
  ]);
