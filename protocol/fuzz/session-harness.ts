/**
 * Runs one session fuzz scenario: a real dialer TunnelSession and a real acceptor TunnelSession
 * over a {@link FuzzWire}, driven by a list of {@link Action}s, then closed down; throws an
 * Error naming the broken rule. Checked during the run: every packet a session sends is valid;
 * a sender never exceeds the credit it was granted; per-stream credit stays within 0 … window
 * and buffering within the window (+ one Readable high-water mark); a targeted violation resets
 * exactly its stream, synchronously, with the documented code; garbage that names no stream
 * destroys exactly the session that read it, with the decode error's code; no byte of any
 * stream is lost or reordered (each reader sees a prefix of what the peer wrote). After the
 * close-down: zero streams, pending dials, buffered bytes, session timers and lent packet
 * buffers; every dial settled with an expected reason; with half-close, every stream nobody
 * touched delivered all its bytes both ways. Test code only.
 */
import { Buffer } from 'node:buffer';

import {
  INITIAL_STREAM_WINDOW_BYTES,
  LEGACY_STREAM_BUFFER_BYTES,
  SMALL_INITIAL_STREAM_WINDOW_BYTES,
  MAX_DATA_CHUNK_BYTES,
  MAX_PACKET_BYTES,
  MAX_STREAM_WINDOW_BYTES,
} from '../constants.ts';
import {
  DIAL_FAILURE_MESSAGES,
  classifyDialError,
  type DialFailureReason,
  type StreamResetCode,
} from '../error-codes.ts';
import { ProtocolError, isProtocolError } from '../errors.ts';
import { Extension } from '../extensions.ts';
import type { DecodedPacket } from '../packet.ts';
import { packetBufferPoolStats } from '../session/packet-buffer-pool.ts';
import { TunnelSession } from '../session/tunnel-session.ts';
import { STREAM_HIGH_WATER_MARK_BYTES, type TunnelStream } from '../session/tunnel-stream.ts';
import type { IncomingDial } from '../session/types.ts';
import { FuzzWire, otherSide, type Side } from './fuzz-wire.ts';
import { codeWithoutTextDialResponse, zeroWindowUpdate } from './raw-packet.ts';
import type { Action, ScenarioConfig, Violation } from './session-actions.ts';
import { TimerLedger } from './timer-ledger.ts';
import { encodePacket } from '../codec.ts';

/** Bytes each end writes at most per stream. */
const MAX_STREAM_BYTES = 1024 * 1024;
/** Close-down rounds before the scenario counts as hung. */
const MAX_FINISH_ROUNDS = 400;
const PATTERN = Buffer.alloc(65_521); // a prime length, so salts shift the pattern well
for (let i = 0, x = 0x9e3779b9; i < PATTERN.length; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  PATTERN[i] = x & 0xff;
}

interface End {
  readonly side: Side;
  readonly stream: TunnelStream;
  readonly salt: number;
  written: number;
  received: number;
  isEnded: boolean;
  hasEof: boolean;
  isClosed: boolean;
  isAborted: boolean;
  error: unknown;
}

interface Rec {
  readonly index: number;
  readonly address: string;
  readonly controller: AbortController;
  dialId: bigint | undefined;
  streamId: bigint | undefined;
  outcome: 'pending' | 'open' | 'failed';
  dialError: ProtocolError | undefined;
  incoming: IncomingDial | undefined;
  isAnswered: boolean;
  expectedRejection: DialFailureReason | undefined;
  isCanceled: boolean;
  isTargeted: boolean;
  isInternalExpected: boolean;
  readonly ends: { dialer?: End; acceptor?: End };
}

function fail(message: string): never {
  throw new Error(message);
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function slice(salt: number, offset: number, n: number): Buffer {
  const start = (salt + offset) % PATTERN.length;
  if (start + n <= PATTERN.length) return PATTERN.subarray(start, start + n);
  const parts: Buffer[] = [];
  let left = n;
  let pos = start;
  while (left > 0) {
    const take = Math.min(left, PATTERN.length - pos);
    parts.push(PATTERN.subarray(pos, pos + take));
    left -= take;
    pos = 0;
  }
  return Buffer.concat(parts);
}

/** The ids a decoded (or half-decoded) packet names. */
function namedIds(p: DecodedPacket | ProtocolError): bigint[] {
  if (p instanceof ProtocolError) return p.streamId === undefined ? [] : [p.streamId];
  const ids: bigint[] = [];
  if ('connectId' in p) ids.push(p.connectId);
  if ('random' in p) ids.push(p.random);
  return ids;
}

/** Runs one scenario; see the file comment. Rejects with an Error when a property breaks. */
export async function runScenario(
  config: ScenarioConfig,
  actions: readonly Action[],
): Promise<void> {
  const ext = new Set(config.extensions);
  const isFlow = ext.has(Extension.FLOW_CONTROL);
  const initialWindow = ext.has(Extension.INITIAL_WINDOW_64K)
    ? SMALL_INITIAL_STREAM_WINDOW_BYTES
    : INITIAL_STREAM_WINDOW_BYTES;
  const isHalfClose = ext.has(Extension.HALF_CLOSE);
  const isCodes = ext.has(Extension.ERROR_CODES);
  const problems: string[] = [];
  const recs: Rec[] = [];
  const byAddress = new Map<string, Rec>();
  const dialPromises: Promise<unknown>[] = [];
  // Wire observations, per side and stream id.
  const key = (side: Side, id: bigint) => `${side}:${id}`;
  const dataSent = new Map<string, number>();
  const grantsDelivered = new Map<string, number>();
  const closeSeen = new Set<string>();
  const endSent = new Set<string>();
  const halfCloseReceived = new Set<string>();
  const resets: { side: Side; streamId: bigint; code: StreamResetCode; isLocal: boolean }[] = [];
  const closeErrors: Partial<Record<Side, Error | undefined>> = {};
  const killedBy: Partial<Record<Side, ProtocolError>> = {};
  let isClosing = false;
  let isEarlyClose = false;

  const wire = new FuzzWire(config.highWaterMarkBytes, {
    sent(from, p) {
      if (p.type === 'DIAL_REQ' && from === 'dialer') {
        const rec = byAddress.get(p.address);
        if (rec !== undefined) rec.dialId = p.random;
      } else if (p.type === 'DATA' && isFlow) {
        const k = key(from, p.connectId);
        const sent = (dataSent.get(k) ?? 0) + p.data.length;
        dataSent.set(k, sent);
        const granted = initialWindow + (grantsDelivered.get(k) ?? 0);
        if (sent > granted)
          problems.push(
            `${from} sent ${sent} bytes on stream ${p.connectId} with ${granted} granted`,
          );
      } else if (p.type === 'EXT_HALF_CLOSE') {
        endSent.add(key(from, p.connectId));
      } else if (p.type === 'CLOSE_REQ' || p.type === 'CLOSE_RSP') {
        closeSeen.add(key(from, p.connectId));
      }
    },
    delivered(to, p) {
      if (p instanceof ProtocolError) return;
      if (p.type === 'EXT_WINDOW_UPDATE') {
        const k = key(to, p.connectId);
        grantsDelivered.set(k, (grantsDelivered.get(k) ?? 0) + p.increment);
      } else if (p.type === 'EXT_HALF_CLOSE') {
        halfCloseReceived.add(key(to, p.connectId));
      } else if (p.type === 'CLOSE_REQ' || p.type === 'CLOSE_RSP') {
        closeSeen.add(key(to, p.connectId));
      }
    },
  });

  const ledger = new TimerLedger();
  const lentBefore = packetBufferPoolStats().lent;
  const onUncaught = (err: unknown) =>
    problems.push(`uncaught: ${String((err as Error)?.stack ?? err)}`);
  process.on('uncaughtException', onUncaught);
  ledger.install();
  const sessions = {} as Record<Side, TunnelSession>;
  try {
    const common = { extensions: ext, pingIntervalMs: 0 };
    sessions.dialer = new TunnelSession({
      ...common,
      transport: wire.end('dialer'),
      role: 'dialer',
      label: 'fuzz dialer',
    });
    sessions.acceptor = new TunnelSession({
      ...common,
      transport: wire.end('acceptor'),
      role: 'acceptor',
      label: 'fuzz acceptor',
      onDial: (dial) => {
        const rec = byAddress.get(dial.address);
        if (rec === undefined || rec.incoming !== undefined) {
          dial.reject('not-allowed', 'not a dial of this scenario');
          return;
        }
        rec.incoming = dial;
      },
    });
    for (const side of ['dialer', 'acceptor'] as const) {
      sessions[side].on(
        'stream-reset',
        (e: { streamId: bigint; code: StreamResetCode; isLocal: boolean }) =>
          resets.push({ side, ...e }),
      );
      sessions[side].on('close', (err?: Error) => (closeErrors[side] = err));
    }

    const attach = (rec: Rec, side: Side, stream: TunnelStream): End => {
      const end: End = {
        side,
        stream,
        salt: rec.index * 7_919 + (side === 'dialer' ? 0 : 31_337),
        written: 0,
        received: 0,
        isEnded: false,
        hasEof: false,
        isClosed: stream.closed, // a dialed stream may be reset and closed before it is handed over
        isAborted: false,
        error: undefined,
      };
      rec.ends[side] = end;
      rec.streamId = stream.streamId;
      stream.on('error', (err: unknown) => {
        end.error = err;
        if (!(err instanceof ProtocolError) || err.code !== 'PROTO_ERR_STREAM_RESET') {
          problems.push(`stream ${rec.index} ${side}: unexpected error ${String(err)}`);
        }
      });
      stream.on('data', (chunk: Buffer) => {
        const peer = otherSide(side);
        const salt = rec.index * 7_919 + (peer === 'dialer' ? 0 : 31_337);
        if (!rec.isTargeted && !slice(salt, end.received, chunk.length).equals(chunk)) {
          problems.push(
            `stream ${rec.index} ${side}: bytes ${end.received}…${end.received + chunk.length} differ from what the peer wrote`,
          );
        }
        end.received += chunk.length;
      });
      stream.on('end', () => (end.hasEof = true));
      stream.on('close', () => (end.isClosed = true));
      return end;
    };

    const liveEnds = (side: Side): { rec: Rec; end: End }[] =>
      recs.flatMap((rec) => {
        const end = rec.ends[side];
        return end !== undefined && !end.stream.destroyed ? [{ rec, end }] : [];
      });
    const pick = <T>(items: readonly T[], n: number): T | undefined =>
      items.length === 0 ? undefined : items[n % items.length];

    const checkInvariants = (where: string): void => {
      for (const side of ['dialer', 'acceptor'] as const) {
        for (const { rec, end } of liveEnds(side)) {
          const f = end.stream.flowStats();
          const what = `${where}: stream ${rec.index} ${side}`;
          if (f.receiveCredit < 0) problems.push(`${what}: receive credit ${f.receiveCredit}`);
          if (isFlow) {
            if (f.sendCredit < 0 || f.sendCredit > MAX_STREAM_WINDOW_BYTES)
              problems.push(`${what}: send credit ${f.sendCredit}`);
            if (f.queuedBytes + f.receiveCredit > f.receiveWindowBytes) {
              problems.push(
                `${what}: queued ${f.queuedBytes} + credit ${f.receiveCredit} > window ${f.receiveWindowBytes}`,
              );
            }
          } else if (f.queuedBytes > LEGACY_STREAM_BUFFER_BYTES) {
            problems.push(`${what}: queued ${f.queuedBytes} above the legacy bound`);
          }
          if (end.stream.readableLength > STREAM_HIGH_WATER_MARK_BYTES + MAX_DATA_CHUNK_BYTES) {
            problems.push(`${what}: Readable holds ${end.stream.readableLength}`);
          }
        }
      }
      if (problems.length > 0) fail(problems.join('\n'));
    };

    const violate = (to: Side, kind: Violation, n: number): void => {
      if (wire.isClosed(to) || sessions[to].isClosed) return; // nothing reaches it any more
      if (kind === 'invalid-dial-response') {
        if (to !== 'dialer') return;
        const rec = pick(
          recs.filter((r) => r.outcome === 'pending' && !r.isCanceled && r.dialId !== undefined),
          n,
        );
        if (rec === undefined) return;
        rec.isTargeted = true;
        rec.isInternalExpected = true;
        wire.inject('dialer', codeWithoutTextDialResponse(rec.dialId!));
        return;
      }
      const target = pick(liveEnds(to), n);
      if (target === undefined) return;
      const { rec, end } = target;
      rec.isTargeted = true;
      const id = end.stream.streamId;
      const k = key(to, id);
      const isOpen = !closeSeen.has(k);
      let expected: StreamResetCode | undefined;
      switch (kind) {
        case 'zero-window-update':
          wire.inject(to, zeroWindowUpdate(id));
          expected = 'protocol';
          break;
        case 'window-overflow': {
          const bytes = encodePacket({
            type: 'EXT_WINDOW_UPDATE',
            connectId: id,
            increment: MAX_STREAM_WINDOW_BYTES,
          });
          wire.inject(to, bytes);
          // The first grant may be legal (credit was 0) and let the stream finish gracefully
          // (its CLOSE_RSP goes out): then the second is for a done stream and dropped.
          const isStillOpen = !closeSeen.has(k);
          if (!end.stream.destroyed && isStillOpen) wire.inject(to, bytes);
          if (isFlow && isOpen && (isStillOpen || end.stream.destroyed)) expected = 'flow-control';
          break;
        }
        case 'data-after-half-close':
          wire.inject(to, encodePacket({ type: 'EXT_HALF_CLOSE', connectId: id }));
          wire.inject(to, encodePacket({ type: 'DATA', connectId: id, data: Buffer.from('x') }));
          // An acceptor that had ended too is done at the HALF_CLOSE (it sends CLOSE_RSP); a
          // dialer that had ended waits for CLOSE_RSP and still resets.
          if (isHalfClose && isOpen && (to === 'dialer' || !endSent.has(k))) expected = 'protocol';
          break;
        case 'data-beyond-window': {
          const credit = end.stream.flowStats().receiveCredit;
          if (!isFlow || credit + 1 + 64 > MAX_PACKET_BYTES) return;
          const isEnded = halfCloseReceived.has(k);
          wire.inject(
            to,
            encodePacket({ type: 'DATA', connectId: id, data: Buffer.alloc(credit + 1) }),
          );
          if (isOpen && !isEnded) expected = 'flow-control';
          break;
        }
      }
      if (expected === undefined) return;
      if (!end.stream.destroyed || end.stream.resetCode !== expected) {
        fail(
          `${kind} on stream ${rec.index} (${to}) left it ${end.stream.destroyed ? `reset ${end.stream.resetCode}` : 'open'}, expected a reset ${expected}`,
        );
      }
      const last = resets.at(-1);
      if (last?.side !== to || last.streamId !== id || last.code !== expected || !last.isLocal) {
        fail(
          `${kind} on stream ${rec.index}: no local stream-reset ${expected} event (${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))})`,
        );
      }
    };

    const taint = (p: DecodedPacket | ProtocolError): void => {
      const ids = namedIds(p);
      for (const rec of recs) {
        if (ids.some((id) => id === rec.streamId || id === rec.dialId)) rec.isTargeted = true;
      }
    };

    const hostile = (to: Side, bytes: Uint8Array): void => {
      if (wire.isClosed(to) || sessions[to].isClosed) return;
      const decoded = wire.inject(to, bytes);
      taint(decoded);
      if (decoded instanceof ProtocolError && decoded.streamId === undefined) {
        killedBy[to] = decoded;
        const err = closeErrors[to];
        if (
          !sessions[to].isClosed ||
          !(err instanceof ProtocolError) ||
          err.code !== decoded.code
        ) {
          fail(
            `garbage (${decoded.code}) to the ${to} did not close that session with its code (${String(err)})`,
          );
        }
      } else if (sessions[to].isClosed) {
        fail(
          `a packet naming a stream (${decoded instanceof ProtocolError ? decoded.code : decoded.type}) closed the ${to} session: ${String(closeErrors[to])}`,
        );
      }
    };

    const dial = (): void => {
      const index = recs.length;
      const rec: Rec = {
        index,
        address: `svc-${index}.fuzz:${1_000 + index}`,
        controller: new AbortController(),
        dialId: undefined,
        streamId: undefined,
        outcome: 'pending',
        dialError: undefined,
        incoming: undefined,
        isAnswered: false,
        expectedRejection: undefined,
        isCanceled: false,
        isTargeted: false,
        isInternalExpected: false,
        ends: {},
      };
      recs.push(rec);
      byAddress.set(rec.address, rec);
      dialPromises.push(
        sessions.dialer.dial(rec.address, { signal: rec.controller.signal, timeoutMs: 0 }).then(
          (stream) => {
            rec.outcome = 'open';
            attach(rec, 'dialer', stream);
          },
          (err: unknown) => {
            rec.outcome = 'failed';
            if (!(err instanceof ProtocolError) || err.code !== 'PROTO_ERR_DIAL_FAILED') {
              problems.push(`dial ${index} failed with ${String(err)}`);
              return;
            }
            rec.dialError = err;
          },
        ),
      );
    };

    const answer = (rec: Rec, isAccept: boolean, reason: DialFailureReason): void => {
      const dial = rec.incoming!;
      rec.isAnswered = true;
      if (isAccept) {
        attach(rec, 'acceptor', dial.accept());
        return;
      }
      if (!dial.signal.aborted && !sessions.acceptor.isClosed) {
        const text = `fuzz: ${reason}`;
        rec.expectedRejection = isCodes
          ? reason
          : classifyDialError(
              classifyDialError(text) === reason ? text : DIAL_FAILURE_MESSAGES[reason],
            );
      }
      dial.reject(reason, `fuzz: ${reason}`);
    };

    for (const [i, action] of actions.entries()) {
      const where = `action ${i} ${action.a}`;
      switch (action.a) {
        case 'dial':
          dial();
          break;
        case 'answer': {
          const rec = pick(
            recs.filter((r) => r.incoming !== undefined && !r.isAnswered),
            action.pick,
          );
          if (rec !== undefined) answer(rec, action.accept, action.reason);
          break;
        }
        case 'cancel': {
          const rec = pick(
            recs.filter((r) => r.outcome !== 'failed' && !r.isCanceled),
            action.pick,
          );
          if (rec === undefined) break;
          rec.isCanceled = true;
          if (rec.ends.dialer !== undefined) rec.ends.dialer.isAborted = true;
          rec.controller.abort();
          break;
        }
        case 'write': {
          const t = pick(
            liveEnds(action.side).filter(({ end }) => !end.isEnded),
            action.pick,
          );
          if (t === undefined) break;
          const n = Math.min(action.bytes, MAX_STREAM_BYTES - t.end.written);
          if (n <= 0) break;
          t.end.stream.write(slice(t.end.salt, t.end.written, n));
          t.end.written += n;
          break;
        }
        case 'end': {
          const t = pick(
            liveEnds(action.side).filter(({ end }) => !end.isEnded),
            action.pick,
          );
          if (t === undefined) break;
          t.end.isEnded = true;
          t.end.stream.end();
          break;
        }
        case 'pause':
          pick(liveEnds(action.side), action.pick)?.end.stream.pause();
          break;
        case 'resume':
          pick(liveEnds(action.side), action.pick)?.end.stream.resume();
          break;
        case 'reset':
        case 'destroy': {
          const t = pick(liveEnds(action.side), action.pick);
          if (t === undefined) break;
          t.end.isAborted = true;
          if (action.a === 'reset') t.end.stream.reset(action.code);
          else t.end.stream.destroy();
          break;
        }
        case 'deliver':
          // From a macrotask, as a transport delivers from an I/O callback: process.nextTick
          // callbacks queued by the delivery then run before promise continuations, which is
          // the order applications see.
          await new Promise<void>((resolve) =>
            setImmediate(() => {
              wire.deliver(action.from, action.count);
              resolve();
            }),
          );
          break;
        case 'settle':
          await settle();
          break;
        case 'violate':
          violate(action.to, action.kind, action.pick);
          break;
        case 'noise': {
          if (sessions[action.to].isClosed) break;
          const before = resets.length;
          hostile(action.to, encodePacket(action.packet));
          if (resets.length !== before) fail(`noise ${action.packet.type} reset a stream`);
          break;
        }
        case 'garbage':
          hostile(action.to, action.bytes);
          break;
        case 'drain':
          sessions[action.side].sendDrain();
          break;
        case 'close':
          isClosing = true;
          isEarlyClose = true;
          void sessions[action.side].close();
          break;
      }
      checkInvariants(where);
    }

    // Close-down: answer every dial, read and end everything, deliver until quiet.
    for (let round = 0; ; round++) {
      if (round === MAX_FINISH_ROUNDS)
        fail(`close-down did not settle: ${describeState(recs, sessions, wire)}`);
      for (const rec of recs)
        if (rec.incoming !== undefined && !rec.isAnswered) answer(rec, true, 'internal');
      for (const side of ['dialer', 'acceptor'] as const) {
        for (const { end } of liveEnds(side)) {
          end.stream.resume();
          if (!end.isEnded) {
            end.isEnded = true;
            end.stream.end();
          }
        }
      }
      while (wire.pending('dialer') + wire.pending('acceptor') > 0) {
        wire.deliver('dialer', 64);
        wire.deliver('acceptor', 64);
      }
      checkInvariants(`close-down round ${round}`);
      await settle();
      const isQuiet =
        wire.pending('dialer') + wire.pending('acceptor') === 0 &&
        recs.every((r) => r.outcome !== 'pending' && (r.incoming === undefined || r.isAnswered)) &&
        recs.every((r) => Object.values(r.ends).every((e) => e.isClosed));
      if (!isQuiet) continue;
      if (sessions.dialer.isClosed && sessions.acceptor.isClosed) break;
      isClosing = true;
      void sessions.dialer.close();
      void sessions.acceptor.close();
    }
    await Promise.all(dialPromises);
    await settle();

    // --- final checks ------------------------------------------------------------------------
    if (problems.length > 0) fail(problems.join('\n'));
    for (const side of ['dialer', 'acceptor'] as const) {
      const stats = sessions[side].stats();
      if (stats.openStreams !== 0 || stats.pendingDials !== 0 || stats.bufferedBytes !== 0) {
        fail(`${side} not idle after close: ${JSON.stringify(stats)}`);
      }
      const err = closeErrors[side];
      const killer = killedBy[side];
      const peerKiller = killedBy[otherSide(side)];
      if (killer !== undefined) {
        if (!(err instanceof ProtocolError) || err.code !== killer.code)
          fail(`${side} closed with ${String(err)}, expected ${killer.code}`);
      } else if (peerKiller !== undefined) {
        if (
          !(err instanceof ProtocolError) ||
          err.code !== 'PROTO_ERR_SESSION_CLOSED' ||
          err.closeCode !== 4000
        ) {
          fail(
            `${side} closed with ${String(err)}, expected PROTO_ERR_SESSION_CLOSED 4000 after the peer read garbage`,
          );
        }
      } else if (
        err !== undefined &&
        !(isEarlyClose && isProtocolError(err, 'PROTO_ERR_SESSION_CLOSED'))
      ) {
        // A close() while a DIAL_REQ is in flight towards the closing side ends the tunnel under
        // that dial: the dialer reports the loss. Nothing else may fail a session.
        fail(`${side} closed with ${String(err)} although nothing killed either session`);
      }
    }
    if (ledger.live !== 0) fail(`${ledger.live} timers still armed after both sessions closed`);
    const lent = packetBufferPoolStats().lent;
    if (lent !== lentBefore) fail(`${lent - lentBefore} pooled packet buffers not returned`);
    const isKilled = killedBy.dialer !== undefined || killedBy.acceptor !== undefined;
    for (const r of resets) {
      const rec = recs.find((x) => x.streamId === r.streamId);
      if (
        r.isLocal &&
        (r.code === 'protocol' || r.code === 'flow-control') &&
        rec?.isTargeted !== true
      ) {
        fail(
          `stream ${rec?.index ?? r.streamId} (${r.side}) was reset ${r.code} although no hostile packet named it`,
        );
      }
    }
    for (const rec of recs) checkOutcome(rec, { isKilled, isClosing, isHalfClose });
  } finally {
    ledger.uninstall();
    process.off('uncaughtException', onUncaught);
    sessions.dialer?.destroy();
    sessions.acceptor?.destroy();
  }
}

/** Per-dial checks after the close-down. */
function checkOutcome(
  rec: Rec,
  s: { isKilled: boolean; isClosing: boolean; isHalfClose: boolean },
): void {
  if (rec.isTargeted) return;
  const name = `stream ${rec.index}`;
  if (rec.outcome === 'failed') {
    const reason = rec.dialError?.reason;
    const allowed = new Set<DialFailureReason | undefined>();
    if (rec.isCanceled) allowed.add('canceled');
    if (s.isKilled || s.isClosing) allowed.add('tunnel-closed');
    if (rec.expectedRejection !== undefined) allowed.add(rec.expectedRejection);
    if (rec.isInternalExpected) allowed.add('internal');
    if (!allowed.has(reason))
      fail(
        `${name}: dial failed with ${reason}, expected one of ${[...allowed].join(', ') || 'none'}`,
      );
    return;
  }
  const { dialer, acceptor } = rec.ends;
  if (dialer === undefined || acceptor === undefined) {
    if (s.isKilled || rec.isCanceled) return;
    fail(`${name}: opened on one side only`);
  }
  const isTouched = dialer.isAborted || acceptor.isAborted || rec.isCanceled || s.isKilled;
  if (isTouched || !s.isHalfClose) return;
  for (const [end, peer] of [
    [dialer, acceptor],
    [acceptor, dialer],
  ] as const) {
    if (end.error !== undefined)
      fail(`${name} ${end.side}: untouched stream failed: ${String(end.error)}`);
    if (end.received !== peer.written || !end.hasEof) {
      fail(
        `${name} ${end.side}: received ${end.received} of ${peer.written} bytes (eof ${end.hasEof})`,
      );
    }
  }
}

function describeState(
  recs: readonly Rec[],
  sessions: Record<Side, TunnelSession>,
  wire: FuzzWire,
): string {
  const streams = recs.map((r) => ({
    index: r.index,
    outcome: r.outcome,
    incoming: r.incoming === undefined ? 'none' : r.isAnswered ? 'answered' : 'pending',
    ends: Object.values(r.ends).map(
      (e) =>
        `${e.side}:${e.isClosed ? 'closed' : e.stream.destroyed ? 'destroyed' : 'live'}${e.isEnded ? '/ended' : ''}${e.hasEof ? '/eof' : ''}`,
    ),
  }));
  return JSON.stringify({
    dialer: sessions.dialer.stats(),
    acceptor: sessions.acceptor.stats(),
    wire: [wire.pending('dialer'), wire.pending('acceptor')],
    streams,
  });
}
