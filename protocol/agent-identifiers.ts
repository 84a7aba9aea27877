/**
 * The `agentIdentifiers` metadata value: a URL-query list such as
 * "host=cluster1&host=cluster1.ns&ipv4=10.0.0.5&default-route=true" that the server's routing
 * strategies (destHost, defaultRoute) match dial addresses against. Parsing follows ANP
 * (Go url.ParseQuery): unknown keys are ignored so version skew fails open.
 */
import { ProtocolError } from './errors.ts';

/** Parsed agent identifiers. Arrays keep the order in which values appeared. */
export interface AgentIdentifiers {
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly host: readonly string[];
  /** Parsed but unused by ANP's routing; kept for ours. */
  readonly cidr: readonly string[];
  /** True when `default-route` is a Go-style true ("1", "t", "T", "true", "TRUE", "True"). */
  readonly defaultRoute: boolean;
}

const LIST_KEYS = ['ipv4', 'ipv6', 'host', 'cidr'] as const;
const GO_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);

function invalid(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    'PROTO_ERR_INVALID_AGENT_IDENTIFIERS',
    `agentIdentifiers ${message}`,
    cause === undefined ? {} : { cause },
  );
}

function unescapeQuery(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch (err) {
    throw invalid(`has an invalid escape in ${JSON.stringify(text.slice(0, 40))}`, err);
  }
}

/**
 * Parses an agentIdentifiers value. Keys `ipv4`, `ipv6`, `host`, `cidr` collect values;
 * `default-route` is read from its first value; other keys (e.g. ANP's `uid`) are ignored; empty
 * pieces are skipped; "" gives empty lists. Like Go, a ";" separator or an invalid %-escape
 * fails the whole value: throws ProtocolError `PROTO_ERR_INVALID_AGENT_IDENTIFIERS`. Pure.
 */
export function parseAgentIdentifiers(value: string): AgentIdentifiers {
  const lists: Record<(typeof LIST_KEYS)[number], string[]> = {
    ipv4: [],
    ipv6: [],
    host: [],
    cidr: [],
  };
  let defaultRoute: string | undefined;
  for (const piece of value.split('&')) {
    if (piece === '') continue;
    if (piece.includes(';')) throw invalid('uses ";" as a separator, only "&" is allowed');
    const eq = piece.indexOf('=');
    const key = unescapeQuery(eq < 0 ? piece : piece.slice(0, eq));
    const item = eq < 0 ? '' : unescapeQuery(piece.slice(eq + 1));
    if (key === 'default-route') {
      defaultRoute ??= item;
    } else if ((LIST_KEYS as readonly string[]).includes(key)) {
      lists[key as (typeof LIST_KEYS)[number]].push(item);
    }
  }
  return { ...lists, defaultRoute: defaultRoute !== undefined && GO_TRUE.has(defaultRoute) };
}

/** Go url.QueryEscape: everything but A–Z a–z 0–9 - _ . ~ is %-escaped, space becomes "+". */
function escapeQuery(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+');
}

/**
 * Formats identifiers the way Go's url.Values.Encode does: keys sorted (cidr, default-route,
 * host, ipv4, ipv6), values in order, `default-route=true` only when set. Missing fields count
 * as empty. Inverse of {@link parseAgentIdentifiers}.
 */
export function formatAgentIdentifiers(ids: Partial<AgentIdentifiers>): string {
  const parts: string[] = [];
  for (const value of ids.cidr ?? []) parts.push(`cidr=${escapeQuery(value)}`);
  if (ids.defaultRoute === true) parts.push('default-route=true');
  for (const key of ['host', 'ipv4', 'ipv6'] as const) {
    for (const value of ids[key] ?? []) parts.push(`${key}=${escapeQuery(value)}`);
  }
  return parts.join('&');
}
