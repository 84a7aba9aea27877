/**
 * Typed failure codes carried by the `error-codes` extension, with their wire numbers, plus the
 * translation to and from the free-form strings that plain ANP peers exchange.
 */

/**
 * Why a dial failed. The same value goes into the error a caller sees and into the metric
 * label (STYLE §3.3). Wire: `ExtDialError` in client.proto, on DIAL_RSP and DIAL_CLS field 100.
 */
export const DIAL_FAILURE_REASONS = [
  'timeout',
  'refused',
  'not-allowed',
  'no-agent',
  'unreachable',
  'dns',
  'tunnel-closed',
  'canceled',
  'overloaded',
  'bad-request',
  'internal',
] as const;

/** Closed union of dial failure reasons; see {@link DIAL_FAILURE_REASONS}. */
export type DialFailureReason = (typeof DIAL_FAILURE_REASONS)[number];

/**
 * Why a stream was reset (aborted) rather than closed gracefully. Wire: `ExtStreamError` in
 * client.proto, on CLOSE_REQ and CLOSE_RSP field 100; absent (0) means a graceful close.
 */
export const STREAM_RESET_CODES = [
  'canceled',
  'flow-control',
  'protocol',
  'connection-reset',
  'timeout',
  'tunnel-closed',
  'overloaded',
  'internal',
] as const;

/** Closed union of stream reset codes; see {@link STREAM_RESET_CODES}. */
export type StreamResetCode = (typeof STREAM_RESET_CODES)[number];

/** Wire numbers of `ExtDialError` (0 = unspecified = no code). Never renumber. */
export const DIAL_FAILURE_WIRE: Readonly<Record<DialFailureReason, number>> = {
  timeout: 1,
  refused: 2,
  'not-allowed': 3,
  'no-agent': 4,
  unreachable: 5,
  dns: 6,
  'tunnel-closed': 7,
  canceled: 8,
  overloaded: 9,
  'bad-request': 10,
  internal: 11,
};

/** Wire numbers of `ExtStreamError` (0 = unspecified = graceful close). Never renumber. */
export const STREAM_RESET_WIRE: Readonly<Record<StreamResetCode, number>> = {
  canceled: 1,
  'flow-control': 2,
  protocol: 3,
  'connection-reset': 4,
  timeout: 5,
  'tunnel-closed': 6,
  overloaded: 7,
  internal: 8,
};

function invert<K extends string>(map: Readonly<Record<K, number>>): ReadonlyMap<number, K> {
  return new Map(Object.entries(map).map(([k, v]) => [v as number, k as K]));
}
const DIAL_FAILURE_BY_WIRE = invert(DIAL_FAILURE_WIRE);
const STREAM_RESET_BY_WIRE = invert(STREAM_RESET_WIRE);

/**
 * Maps a wire `ExtDialError` number to its reason. 0 means "no code" (`undefined`); a number this
 * version does not know (a newer peer) maps to `'internal'` so decoding never fails on it.
 */
export function dialFailureFromWire(value: number): DialFailureReason | undefined {
  if (value === 0) return undefined;
  return DIAL_FAILURE_BY_WIRE.get(value) ?? 'internal';
}

/** Like {@link dialFailureFromWire}, for `ExtStreamError`. */
export function streamResetFromWire(value: number): StreamResetCode | undefined {
  if (value === 0) return undefined;
  return STREAM_RESET_BY_WIRE.get(value) ?? 'internal';
}

/**
 * The human message to put in DIAL_RSP `error` for a reason. Plain ANP peers see only this
 * string, so it must be non-empty (an empty `error` means success to them). 'no-agent' uses
 * ANP's own wording, which operators already search logs for.
 */
export const DIAL_FAILURE_MESSAGES: Readonly<Record<DialFailureReason, string>> = {
  timeout: 'dial timeout',
  refused: 'connection refused',
  'not-allowed': 'dial target not allowed',
  'no-agent': 'No agent available',
  unreachable: 'network is unreachable',
  dns: 'no such host',
  'tunnel-closed': 'tunnel closed',
  canceled: 'dial canceled',
  overloaded: 'too many pending dials',
  'bad-request': 'invalid dial request',
  internal: 'internal error',
};

// Ordered: the first matching row wins. Substrings of Go net errors and ANP messages, lowercase.
// "lookup x: i/o timeout" is a DNS timeout; we call it dns because the name never resolved.
const CLASSIFY_ROWS: readonly (readonly [DialFailureReason, readonly string[]])[] = [
  ['no-agent', ['no agent available']],
  ['dns', ['no such host', 'name resolution', 'server misbehaving', 'lookup ']],
  ['canceled', ['dial closed', 'canceled', 'cancelled']],
  ['timeout', ['timeout', 'deadline exceeded', 'timed out']],
  ['refused', ['connection refused']],
  [
    'unreachable',
    ['network is unreachable', 'no route to host', 'host is unreachable', 'network is down'],
  ],
  ['overloaded', ['too many open files', 'too many pending', 'resource temporarily unavailable']],
  ['not-allowed', ['not allowed', 'forbidden', 'permission denied']],
  ['tunnel-closed', ['tunnel closed', 'backend closed', 'connection closed', 'eof']],
  [
    'bad-request',
    ['invalid dial request', 'protocol not supported', 'missing port', 'invalid port'],
  ],
];

/**
 * Best-effort reason for a free-form dial error string from a peer without the `error-codes`
 * extension (Go `net` errors such as "dial tcp 10.0.0.1:443: connect: connection refused", or
 * ANP's "No agent available"). Case-insensitive substring match; unknown text → 'internal'.
 * Round-trips: `classifyDialError(DIAL_FAILURE_MESSAGES[r]) === r` for every reason.
 */
export function classifyDialError(message: string): DialFailureReason {
  const text = message.toLowerCase();
  for (const [reason, needles] of CLASSIFY_ROWS) {
    if (needles.some((n) => text.includes(n))) return reason;
  }
  return 'internal';
}
