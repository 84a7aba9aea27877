/**
 * Negotiation of Spokelink's protocol extensions. Each side announces the extensions it
 * supports in the `spokelink-ext` metadata key (gRPC) or header (WebSocket upgrade); the
 * effective set for a tunnel is the intersection. A peer that announces nothing (stock ANP)
 * gets plain ANP behaviour.
 */
import { METADATA_KEYS } from './metadata.ts';

/**
 * Extension names as they appear on the wire. A name stands for one fixed behaviour; an
 * incompatible change gets a new name (e.g. "flow-control-2"), never a new meaning.
 */
export const Extension = {
  /** Per-stream credit windows: EXT_WINDOW_UPDATE, SendWindow/ReceiveWindow rules. */
  FLOW_CONTROL: 'flow-control',
  /** EXT_HALF_CLOSE: one direction ends while the other keeps flowing. */
  HALF_CLOSE: 'half-close',
  /** Typed codes in field 100 of DialResponse, CloseRequest, CloseResponse, CloseDial. */
  ERROR_CODES: 'error-codes',
  /** EXT_PING/EXT_PONG with nonce and timestamp. */
  PING: 'ping',
  /** DIAL_REQ `random` is the stream id for life; connectID = random; DIAL_CLS is answered. */
  STREAM_ID: 'stream-id',
  /**
   * With `flow-control`: each direction of each stream starts with
   * SMALL_INITIAL_STREAM_WINDOW_BYTES (64 KiB) of credit instead of INITIAL_STREAM_WINDOW_BYTES.
   */
  INITIAL_WINDOW_64K: 'initial-window-64k',
} as const;

/** One extension name; see {@link Extension}. */
export type ExtensionName = (typeof Extension)[keyof typeof Extension];

/** Everything this version implements, in canonical order. Announce this unless configured otherwise. */
export const SUPPORTED_EXTENSIONS: readonly ExtensionName[] = Object.values(Extension);

/** Metadata key / HTTP header carrying the announcement (lowercase, as gRPC sends every key). */
export const EXTENSIONS_METADATA_KEY = METADATA_KEYS.extensions;

/** Longest announcement value read; the rest is ignored, so a hostile header costs little. */
const MAX_ANNOUNCEMENT_LENGTH = 1024;

const KNOWN = new Set<string>(SUPPORTED_EXTENSIONS);

/**
 * The announcement value for a set of extensions: names in canonical order, comma-separated,
 * e.g. "flow-control,half-close,error-codes,ping,stream-id". An empty set gives "" (send no key
 * at all in that case).
 */
export function formatExtensions(extensions: Iterable<ExtensionName>): string {
  const set = new Set(extensions);
  return SUPPORTED_EXTENSIONS.filter((name) => set.has(name)).join(',');
}

/**
 * Parses announcement values (a gRPC metadata value list, an HTTP header, or nothing). Tokens
 * are comma-separated, trimmed and lowercased; several values are concatenated; unknown tokens
 * (newer peers) and binary values are ignored; `undefined` or empty → empty set. Never throws.
 */
export function parseExtensions(
  values: string | Uint8Array | readonly (string | Uint8Array)[] | undefined,
): ReadonlySet<ExtensionName> {
  const list: readonly (string | Uint8Array)[] =
    values === undefined
      ? []
      : typeof values === 'string' || values instanceof Uint8Array
        ? [values]
        : values;
  const result = new Set<ExtensionName>();
  let budget = MAX_ANNOUNCEMENT_LENGTH;
  for (const value of list) {
    if (typeof value !== 'string' || budget <= 0) continue;
    const text = value.slice(0, budget);
    budget -= text.length;
    for (const raw of text.split(',')) {
      const token = raw.trim().toLowerCase();
      if (KNOWN.has(token)) result.add(token as ExtensionName);
    }
  }
  return result;
}

/**
 * The effective extension set: those both announced. Symmetric, so both ends compute the same
 * set. Call it once per tunnel, after the peer's announcement arrived (see README
 * "Negotiation"); the result is fixed for the tunnel's life (a {@link canonicalExtensions} set).
 */
export function negotiateExtensions(
  local: Iterable<ExtensionName>,
  remote: Iterable<ExtensionName>,
): ReadonlySet<ExtensionName> {
  const remoteSet = new Set(remote);
  return canonicalExtensions([...local].filter((name) => remoteSet.has(name)));
}

/** The sets {@link canonicalExtensions} gave out, by announcement value (at most 2^n of them). */
const canonicalSets = new Map<string, ReadonlySet<ExtensionName>>();

/**
 * The one shared set, in canonical order, of the supported names among `extensions` (others are
 * dropped). A hub holds thousands of tunnels and they negotiate a handful of combinations, so
 * each tunnel keeping a set of its own cost ≈ 160 bytes for nothing. Never mutate the result.
 */
export function canonicalExtensions(
  extensions: Iterable<ExtensionName>,
): ReadonlySet<ExtensionName> {
  const key = formatExtensions(extensions);
  let set = canonicalSets.get(key);
  if (set === undefined) {
    set = new Set(key === '' ? [] : (key.split(',') as ExtensionName[]));
    canonicalSets.set(key, set);
  }
  return set;
}
