/**
 * gRPC metadata keys of the tunnel and strict readers for their values. The ANP keys are
 * mixed-case in ANP's code, but gRPC (grpc-go and grpc-js alike) lowercases every metadata key
 * on the wire, so `agentID` travels as `agentid`. grpc-js's Metadata.get/set lowercase the key
 * themselves; for WebSocket upgrade headers, Node lowercases incoming names. Compare
 * case-insensitively, or use the lowercase forms.
 */
import { ProtocolError } from './errors.ts';

/** Metadata keys, in their canonical spelling. */
export const METADATA_KEYS = {
  /** agent → server, exactly one value: the agent's id (ANP `--agent-id`). */
  agentId: 'agentID',
  /** agent → server, at most one value: URL-query identifiers (see parseAgentIdentifiers). */
  agentIdentifiers: 'agentIdentifiers',
  /** server → agent response header, exactly one value: the server replica's id. */
  serverId: 'serverID',
  /** server → agent response header, exactly one value: number of server replicas (decimal). */
  serverCount: 'serverCount',
  /** agent → server, optional: "Bearer <token>" (ANP service-account token authentication). */
  authorization: 'Authorization',
  /** Both directions, optional: Spokelink extension announcement (see negotiateExtensions). */
  extensions: 'spokelink-ext',
} as const;

/** The lowercase form gRPC puts on the wire for a metadata key. */
export function wireMetadataKey(key: string): string {
  return key.toLowerCase();
}

/** Largest serverCount accepted; far above any real deployment, small enough to loop over. */
const MAX_SERVER_COUNT = 10_000;

/**
 * The single text value of metadata `key`, as ANP requires for agentID, serverID and
 * serverCount. `values` is what grpc-js `Metadata.get(key)` returns (or a header's values).
 * Throws ProtocolError `PROTO_ERR_INVALID_METADATA` unless there is exactly one non-empty
 * string value.
 */
export function singleMetadataValue(key: string, values: readonly (string | Uint8Array)[]): string {
  if (values.length !== 1) {
    throw new ProtocolError(
      'PROTO_ERR_INVALID_METADATA',
      `metadata ${key} must have exactly one value, got ${values.length}`,
    );
  }
  const value = values[0];
  if (typeof value !== 'string' || value.length === 0) {
    throw new ProtocolError('PROTO_ERR_INVALID_METADATA', `metadata ${key} must be non-empty text`);
  }
  return value;
}

/**
 * Parses a serverCount value: a decimal integer 0–10000 (0 is what a misconfigured ANP server
 * may send; ANP agents then assume 1, which is the caller's policy to apply). Throws
 * ProtocolError `PROTO_ERR_INVALID_METADATA` otherwise.
 */
export function parseServerCount(value: string): number {
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) > MAX_SERVER_COUNT) {
    throw new ProtocolError(
      'PROTO_ERR_INVALID_METADATA',
      `metadata serverCount ${JSON.stringify(value.slice(0, 20))} is not an integer in [0, ${MAX_SERVER_COUNT}]`,
    );
  }
  return Number(value);
}
