/**
 * The ONE place that maps a dial failure to an HTTP status (STYLE §3.4). Every HTTP frontend
 * answers a failed dial with this status, a short text body and the header
 * `Spokelink-Dial-Failure: <reason>`, so callers can branch on the reason without parsing.
 */
import type { DialFailureReason } from '../../protocol/index.ts';

/** Response header carrying the DialFailureReason of a failed dial. */
export const DIAL_FAILURE_HEADER = 'Spokelink-Dial-Failure';

const STATUS_BY_REASON: Readonly<Partial<Record<DialFailureReason, number>>> = {
  'no-agent': 503,
  overloaded: 503,
  timeout: 504,
  'not-allowed': 403,
  'bad-request': 400,
};

/**
 * HTTP status for a failed dial: no-agent → 503, timeout → 504, overloaded → 503,
 * not-allowed → 403, bad-request → 400; every other reason (refused, unreachable, dns,
 * tunnel-closed, canceled, internal) → 502 Bad Gateway. Pure.
 */
export function statusForDialFailure(reason: DialFailureReason): number {
  return STATUS_BY_REASON[reason] ?? 502;
}
