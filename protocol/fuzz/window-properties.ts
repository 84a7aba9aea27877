/**
 * Properties of the flow-control state machine (SendWindow + ReceiveWindow): random sequences
 * of sends, deliveries, consumer reads, grants and window growth over one simulated stream
 * direction, plus a hostile peer's DATA and grants. Test code only.
 */
import fc from 'fast-check';

import {
  INITIAL_STREAM_WINDOW_BYTES,
  LEGACY_STREAM_BUFFER_BYTES,
  MAX_DATA_CHUNK_BYTES,
  MAX_STREAM_WINDOW_BYTES,
} from '../constants.ts';
import { ProtocolError } from '../errors.ts';
import { ReceiveWindow } from '../receive-window.ts';
import { SendWindow } from '../send-window.ts';

/** One step of a simulated stream direction. */
export type WindowStep =
  /** The sender has `bytes` to send: it sends what its credit allows, in chunks. */
  | { readonly op: 'send'; readonly bytes: number }
  /** The oldest DATA in flight reaches the receiver. */
  | { readonly op: 'deliver-data' }
  /** The local sink reads up to `bytes` of what is buffered. */
  | { readonly op: 'read'; readonly bytes: number }
  /** The oldest EXT_WINDOW_UPDATE in flight reaches the sender. */
  | { readonly op: 'deliver-grant' }
  /** The receiver grows its window to `bytes` (ignored unless it is a growth). */
  | { readonly op: 'grow'; readonly bytes: number }
  /** A hostile peer: DATA of `bytes` straight into the receiver, outside the sender's books. */
  | { readonly op: 'hostile-data'; readonly bytes: number }
  /** A hostile peer: a grant of `increment` straight to the sender. */
  | { readonly op: 'hostile-grant'; readonly increment: number };

const bytesArb = fc.oneof(
  fc.integer({ min: 0, max: 1024 }),
  fc.integer({ min: 0, max: 2 * INITIAL_STREAM_WINDOW_BYTES }),
  fc.constantFrom(
    INITIAL_STREAM_WINDOW_BYTES,
    INITIAL_STREAM_WINDOW_BYTES / 2,
    MAX_DATA_CHUNK_BYTES,
  ),
);

export const windowStepArb: fc.Arbitrary<WindowStep> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('send' as const), bytes: bytesArb }) },
  { weight: 4, arbitrary: fc.constant({ op: 'deliver-data' as const }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('read' as const), bytes: bytesArb }) },
  { weight: 3, arbitrary: fc.constant({ op: 'deliver-grant' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('grow' as const),
      bytes: fc.integer({ min: INITIAL_STREAM_WINDOW_BYTES, max: MAX_STREAM_WINDOW_BYTES }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('hostile-data' as const),
      bytes: fc.integer({ min: 0, max: 2 * MAX_STREAM_WINDOW_BYTES }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('hostile-grant' as const),
      increment: fc.oneof(
        fc.integer({ min: -2, max: MAX_STREAM_WINDOW_BYTES + 2 }),
        fc.constant(MAX_STREAM_WINDOW_BYTES),
      ),
    }),
  },
);

function fail(message: string): never {
  throw new Error(message);
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Expects `fn` to throw a ProtocolError `code` and leave `state()` unchanged. */
function expectRefused(
  fn: () => void,
  code: ProtocolError['code'],
  state: () => string,
  what: string,
): void {
  const before = state();
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProtocolError) || err.code !== code) {
      fail(`${what}: expected ${code}, got ${String(err)}`);
    }
    if (state() !== before)
      fail(`${what}: refused, but the window changed (${before} → ${state()})`);
    return;
  }
  fail(`${what}: expected ${code}, nothing was thrown`);
}

/**
 * Runs `steps` over one stream direction and checks after every step:
 * - the honest sender never exceeds its credit, so the receiver never refuses its DATA;
 * - conservation: receiver credit = sender credit + DATA in flight + grants in flight;
 * - 0 ≤ credit ≤ MAX_STREAM_WINDOW_BYTES on both sides; buffered + credit ≤ window;
 * - a hostile peer's DATA beyond credit is PROTO_ERR_DATA_EXCEEDS_WINDOW and a grant past
 *   MAX is PROTO_ERR_WINDOW_TOO_LARGE, both leaving the state unchanged;
 * - liveness: once everything is delivered and read, the sender has credit again.
 * Without flow control (plain ANP) the receiver is bounded by LEGACY_STREAM_BUFFER_BYTES instead.
 */
export function checkWindowSteps(isCreditBased: boolean, steps: readonly WindowStep[]): void {
  const sender = new SendWindow({ isCreditBased });
  const receiver = new ReceiveWindow({ isCreditBased });
  const dataInFlight: number[] = [];
  const grantsInFlight: number[] = [];
  let isPoisoned = false; // a hostile step broke the honest books: only per-side bounds hold now
  const recvState = () => `${receiver.credit}/${receiver.buffered}/${receiver.windowBytes}`;
  const sendState = () => `${sender.credit}`;

  const check = (where: string): void => {
    if (receiver.buffered < 0 || receiver.credit < 0)
      fail(`${where}: receiver ${recvState()} negative`);
    if (isCreditBased) {
      if (sender.credit < 0 || sender.credit > MAX_STREAM_WINDOW_BYTES)
        fail(`${where}: send credit ${sender.credit}`);
      if (receiver.buffered + receiver.credit > receiver.windowBytes) {
        fail(
          `${where}: buffered + credit ${receiver.buffered} + ${receiver.credit} > window ${receiver.windowBytes}`,
        );
      }
      if (
        !isPoisoned &&
        receiver.credit !== sender.credit + sum(dataInFlight) + sum(grantsInFlight)
      ) {
        fail(
          `${where}: credit not conserved: receiver ${receiver.credit}, sender ${sender.credit}, in flight ${sum(dataInFlight)} + ${sum(grantsInFlight)}`,
        );
      }
    } else if (receiver.buffered > LEGACY_STREAM_BUFFER_BYTES) {
      fail(`${where}: legacy buffer ${receiver.buffered} above its bound`);
    }
  };

  const grant = (increment: number): void => {
    if (increment > 0) grantsInFlight.push(increment);
  };

  steps.forEach((step, i) => {
    const where = `step ${i} ${JSON.stringify(step)}`;
    switch (step.op) {
      case 'send': {
        let left = step.bytes;
        for (;;) {
          const n = sender.sendable(left);
          if (n === 0) break;
          sender.consume(n);
          dataInFlight.push(n);
          left -= n;
        }
        break;
      }
      case 'deliver-data': {
        const n = dataInFlight.shift();
        if (n === undefined) break;
        if ((!isCreditBased || isPoisoned) && n > receiver.credit) {
          // Plain ANP has no credit (and a hostile step may have broken the books): DATA past
          // the bound is refused and the stream is reset alone.
          expectRefused(
            () => receiver.receive(n),
            'PROTO_ERR_DATA_EXCEEDS_WINDOW',
            recvState,
            where,
          );
          break;
        }
        try {
          receiver.receive(n);
        } catch (err) {
          fail(`${where}: honest DATA of ${n} refused: ${String(err)}`);
        }
        break;
      }
      case 'read':
        grant(receiver.consume(Math.min(step.bytes, receiver.buffered)));
        break;
      case 'deliver-grant': {
        const n = grantsInFlight.shift();
        if (n === undefined) break;
        if (isPoisoned && sender.credit + n > MAX_STREAM_WINDOW_BYTES) {
          expectRefused(() => sender.grant(n), 'PROTO_ERR_WINDOW_TOO_LARGE', sendState, where);
        } else {
          sender.grant(n);
        }
        break;
      }
      case 'grow':
        if (step.bytes >= receiver.windowBytes) grant(receiver.growWindow(step.bytes));
        break;
      case 'hostile-data':
        if (step.bytes > receiver.credit) {
          expectRefused(
            () => receiver.receive(step.bytes),
            'PROTO_ERR_DATA_EXCEEDS_WINDOW',
            recvState,
            where,
          );
        } else {
          receiver.receive(step.bytes);
          isPoisoned ||= isCreditBased && step.bytes > 0;
        }
        break;
      case 'hostile-grant': {
        if (!isCreditBased) {
          sender.grant(step.increment); // ignored without flow control
          if (sender.credit !== Infinity) fail(`${where}: plain sender got credit`);
          break;
        }
        if (!Number.isSafeInteger(step.increment) || step.increment < 1) {
          expectRefused(
            () => sender.grant(step.increment),
            'PROTO_ERR_INVALID_FIELD',
            sendState,
            where,
          );
        } else if (sender.credit + step.increment > MAX_STREAM_WINDOW_BYTES) {
          expectRefused(
            () => sender.grant(step.increment),
            'PROTO_ERR_WINDOW_TOO_LARGE',
            sendState,
            where,
          );
        } else {
          sender.grant(step.increment);
          isPoisoned = true;
        }
        break;
      }
    }
    check(where);
  });

  if (isPoisoned || !isCreditBased) return;
  // Liveness: deliver everything, read everything, deliver the grants: the sender can send.
  while (dataInFlight.length > 0) receiver.receive(dataInFlight.shift()!);
  grant(receiver.consume(receiver.buffered));
  while (grantsInFlight.length > 0) sender.grant(grantsInFlight.shift()!);
  check('after draining');
  if (sender.credit < receiver.windowBytes / 2) {
    fail(
      `stalled: sender credit ${sender.credit} of a ${receiver.windowBytes}-byte window after the sink read everything`,
    );
  }
}

/** {@link checkWindowSteps} over random step sequences, with and without flow control. */
export function windowProperty(): fc.IPropertyWithHooks<[boolean, WindowStep[]]> {
  return fc.property(
    fc.boolean(),
    fc.array(windowStepArb, { maxLength: 80 }),
    (isCreditBased, steps) => checkWindowSteps(isCreditBased, steps),
  );
}
