// The churn of the soak benchmark (test/bench/soak.ts): tunnel streams through the
// programmatic client (ConfigMap requests and watches through the gateway are in
// soak-gateway.ts), and the bookkeeping that tells an operation a restart broke (`disrupted`,
// expected) from one that went wrong on its own (`failures`: a wrong byte, a hang past the
// deadline, an error with no restart anywhere near).
import type { TunnelStreamApi } from '../../protocol/index.ts';
import type { TunnelClient } from '../../proxy-server/client/index.ts';
import { HEADER_BYTES, patternSlice, VERDICT_OK } from './soak-kit.ts';

/** Everything the churn counts. */
export interface Tally {
  streams_total: number;
  streams_completed: number;
  streams_cut: number;
  dials_canceled: number;
  stream_bytes: number;
  kube_requests: number;
  kubectl_runs: number;
  watch_starts: number;
  watch_events: number;
  failures: number;
  disrupted: number;
  restarts: number;
  /** The first few failures, for the report. */
  failureSamples: string[];
}

export function newTally(): Tally {
  return {
    ...{ streams_total: 0, streams_completed: 0, streams_cut: 0, dials_canceled: 0 },
    ...{ stream_bytes: 0, kube_requests: 0, kubectl_runs: 0, watch_starts: 0, watch_events: 0 },
    ...{ failures: 0, disrupted: 0, restarts: 0, failureSamples: [] },
  };
}

/** How long after a restart has recovered its effects still count as the restart's. */
const RESTART_GRACE_MS = 5_000;
/** An operation still running after this is hung (a failure). */
export const OP_DEADLINE_MS = 120_000;

/** When restarts were under way, so that an error can be put down to one. */
export class RestartWindows {
  readonly #windows: { start: number; end: number | undefined }[] = [];

  begin(): () => void {
    const window = { start: performance.now(), end: undefined as number | undefined };
    this.#windows.push(window);
    return () => {
      window.end = performance.now();
    };
  }

  /** Whether a restart was under way (or just over) at any time since `t0`. */
  overlaps(t0: number): boolean {
    const now = performance.now();
    while (this.#windows.length > 20 && (this.#windows[0]?.end ?? now) < now - 600_000)
      this.#windows.shift();
    return this.#windows.some((w) => (w.end ?? now) + RESTART_GRACE_MS >= t0 && w.start <= now);
  }
}

/** A wrong byte or a protocol breach: always a failure, restart or not. */
export class ByteError extends Error {}

/** The first line of an error, short: API errors carry whole response bodies. */
function errText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const line = text.split('\n')[0] ?? '';
  let status = '';
  try {
    const body = (err as { body?: unknown }).body;
    const parsed: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    const message = (parsed as { message?: unknown } | undefined)?.message;
    if (typeof message === 'string') status = ` (${message})`;
  } catch {
    // Not a Kubernetes Status body.
  }
  return `${line}${status}`.slice(0, 300);
}

export function recordError(
  tally: Tally,
  windows: RestartWindows,
  t0: number,
  what: string,
  err: unknown,
): void {
  if (!(err instanceof ByteError) && windows.overlaps(t0)) {
    tally.disrupted++;
    return;
  }
  tally.failures++;
  if (tally.failureSamples.length < 20) tally.failureSamples.push(`${what}: ${errText(err)}`);
}

/** A size from 1 KiB to 8 MiB, log-uniform (most transfers small, some large). */
function randomSize(): number {
  return Math.round(1024 * 2 ** (Math.random() * 13));
}

export function withDeadline<T>(what: string, work: Promise<T>, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new ByteError(`${what} hung for ${OP_DEADLINE_MS} ms`));
      }, OP_DEADLINE_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

const MODES = ['close', 'close', 'half-close', 'half-close', 'cancel', 'reset', 'dial-cancel'];
type Mode = 'close' | 'half-close' | 'cancel' | 'reset' | 'dial-cancel';

/**
 * One tunnel stream: dial `target` on `cluster`, send a header and `up` pattern bytes, receive
 * `down` pattern bytes and the target's verdict on ours, each byte checked; then close (end
 * after the verdict), half-close (end right after sending), cancel (destroy mid-transfer),
 * reset (RST mid-transfer) or a dial canceled while pending.
 */
export async function streamOp(
  client: TunnelClient,
  cluster: string,
  target: string,
  tally: Tally,
  windows: RestartWindows,
): Promise<void> {
  const mode = MODES[Math.floor(Math.random() * MODES.length)] as Mode;
  const t0 = performance.now();
  tally.streams_total++;
  let stream: TunnelStreamApi | undefined;
  try {
    if (mode === 'dial-cancel') {
      const abort = new AbortController();
      const dialing = client.dial(cluster, target, { signal: abort.signal, timeoutMs: 30_000 });
      setTimeout(() => abort.abort(), Math.random() * 5);
      try {
        (await dialing).destroy();
      } catch (err: unknown) {
        if ((err as { reason?: unknown }).reason !== 'canceled') throw err;
      }
      tally.dials_canceled++;
      return;
    }
    const dialed = await client.dial(cluster, target, { timeoutMs: 30_000 });
    stream = dialed;
    const up = randomSize();
    const down = randomSize();
    const seed = Math.floor(Math.random() * 0xffff_ffff);
    const cutAt = mode === 'cancel' || mode === 'reset' ? Math.random() * (up + down) : Infinity;
    const outcome = await withDeadline(
      `${mode} stream of ${up}↑ ${down}↓ bytes on ${cluster}`,
      transfer(dialed, { mode, up, down, seed, cutAt }),
      () => dialed.destroy(),
    );
    tally.stream_bytes += outcome.bytes;
    if (outcome.cut) tally.streams_cut++;
    else tally.streams_completed++;
  } catch (err: unknown) {
    stream?.destroy();
    recordError(tally, windows, t0, `stream (${mode}) on ${cluster}`, err);
  }
}

interface Plan {
  mode: Mode;
  up: number;
  down: number;
  seed: number;
  cutAt: number;
}

function transfer(stream: TunnelStreamApi, plan: Plan): Promise<{ bytes: number; cut: boolean }> {
  const { mode, up, down, seed, cutAt } = plan;
  return new Promise((resolve, reject) => {
    let got = 0;
    let sent = 0;
    let verdict: number | undefined;
    let settled = false;
    const settle = (err: Error | undefined, cut = false): void => {
      if (settled) return;
      settled = true;
      if (err === undefined) resolve({ bytes: sent + got, cut });
      else reject(err);
    };
    const maybeCut = (): boolean => {
      if (settled || sent + got < cutAt) return false;
      if (mode === 'reset') stream.reset('canceled');
      else stream.destroy();
      settle(undefined, true);
      return true;
    };
    stream.on('error', (err: Error) => settle(err));
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      const body = chunk.subarray(0, Math.max(0, Math.min(chunk.length, down - got)));
      if (!body.equals(patternSlice(seed, got, body.length))) {
        stream.destroy();
        return settle(new ByteError(`wrong byte received within [${got}, ${got + body.length})`));
      }
      got += body.length;
      const rest = chunk.subarray(body.length);
      if (rest.length > 0) {
        if (verdict !== undefined || rest.length > 1) {
          stream.destroy();
          return settle(new ByteError(`${rest.length} bytes after the ${down} expected`));
        }
        verdict = rest[0];
        if (verdict !== VERDICT_OK) {
          stream.destroy();
          return settle(new ByteError('the target received a wrong byte'));
        }
        if (mode === 'close') stream.end();
      }
      maybeCut();
    });
    stream.on('close', () => {
      if (settled) return;
      if (verdict === VERDICT_OK && got === down) return settle(undefined);
      const reset = stream.resetCode === undefined ? '' : ` (reset ${stream.resetCode})`;
      settle(new Error(`stream closed after ${got} of ${down} bytes${reset}`));
    });
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32BE(up, 0);
    header.writeUInt32BE(down, 4);
    header.writeUInt32BE(seed, 8);
    stream.write(header);
    const more = (): void => {
      while (sent < up && !settled) {
        const n = Math.min(64 * 1024, up - sent);
        const ok = stream.write(patternSlice(seed, sent, n));
        sent += n;
        if (maybeCut()) return;
        if (!ok) {
          stream.once('drain', more);
          return;
        }
      }
      if (!settled && mode === 'half-close') stream.end();
    };
    more();
  });
}
