/**
 * Semantic checks shared by encodePacket (what we send) and decodePacket (what we accept), so
 * both directions enforce the same contract. Checks that depend on the negotiated extensions
 * (e.g. "random must be non-zero with stream-id") belong to the session layer, not here.
 */
import { MAX_STREAM_WINDOW_BYTES } from './constants.ts';
import { parseDialAddress } from './dial-address.ts';
import { DIAL_FAILURE_WIRE, STREAM_RESET_WIRE } from './error-codes.ts';
import { ProtocolError, isProtocolError } from './errors.ts';
import type { Packet } from './packet.ts';

const MAX_INT64 = 0x7fff_ffff_ffff_ffffn;

/** Checks an id field: a bigint in [min, 2^63 − 1]. */
function checkId(value: unknown, name: string, min: bigint, streamId?: bigint): bigint {
  if (typeof value !== 'bigint') {
    throw new ProtocolError(
      'PROTO_ERR_INVALID_ID',
      `${name} must be a bigint, got ${typeof value}`,
    );
  }
  if (value < min || value > MAX_INT64) {
    // A positive in-range id still names a stream the caller can reset alone.
    const hint = streamId ?? (value > 0n && value <= MAX_INT64 ? value : undefined);
    throw new ProtocolError(
      'PROTO_ERR_INVALID_ID',
      `${name} ${value} is outside [${min}, 2^63 - 1]`,
      hint === undefined ? {} : { streamId: hint },
    );
  }
  return value;
}

function fieldError(message: string, streamId?: bigint): ProtocolError {
  return new ProtocolError(
    'PROTO_ERR_INVALID_FIELD',
    message,
    streamId === undefined ? {} : { streamId },
  );
}

function checkString(value: unknown, name: string, streamId: bigint): string {
  if (typeof value !== 'string') throw fieldError(`${name} must be a string`, streamId);
  return value;
}

function checkCode(
  value: unknown,
  table: Readonly<Record<string, number>>,
  streamId: bigint,
): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !Object.hasOwn(table, value)) {
    throw fieldError(`errorCode ${JSON.stringify(value)} is not a known code`, streamId);
  }
}

function checkUint(value: unknown, name: string, max: number, min = 0): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fieldError(`${name} ${String(value)} must be an integer in [${min}, ${max}]`);
  }
}

/**
 * Throws ProtocolError (with `streamId` when the packet names one) unless `p` is a valid packet.
 * Pure; safe to call repeatedly.
 */
export function validatePacket(p: Packet): void {
  switch (p.type) {
    case 'DIAL_REQ': {
      const random = checkId(p.random, 'DIAL_REQ random', 0n);
      if (p.protocol !== 'tcp') {
        throw new ProtocolError(
          'PROTO_ERR_UNSUPPORTED_PROTOCOL',
          `DIAL_REQ protocol ${JSON.stringify(p.protocol)} is not supported, only "tcp"`,
          { streamId: random },
        );
      }
      if (typeof p.address !== 'string') {
        throw new ProtocolError('PROTO_ERR_INVALID_ADDRESS', 'DIAL_REQ address must be a string', {
          streamId: random,
        });
      }
      try {
        parseDialAddress(p.address);
      } catch (err) {
        if (!isProtocolError(err)) throw err;
        throw new ProtocolError(err.code, err.message, { streamId: random });
      }
      return;
    }
    case 'DIAL_RSP': {
      const random = checkId(p.random, 'DIAL_RSP random', 0n);
      const error = checkString(p.error, 'DIAL_RSP error', random);
      checkCode(p.errorCode, DIAL_FAILURE_WIRE, random);
      if (error === '') {
        if (p.errorCode !== undefined) {
          throw fieldError(
            'DIAL_RSP with errorCode needs a non-empty error: ANP peers read an empty error as success',
            random,
          );
        }
        checkId(p.connectId, 'successful DIAL_RSP connectID', 1n, random);
      } else {
        checkId(p.connectId, 'DIAL_RSP connectID', 0n, random);
      }
      return;
    }
    case 'CLOSE_REQ': {
      const id = checkId(p.connectId, 'CLOSE_REQ connectID', 0n);
      checkCode(p.errorCode, STREAM_RESET_WIRE, id);
      return;
    }
    case 'CLOSE_RSP': {
      const id = checkId(p.connectId, 'CLOSE_RSP connectID', 0n);
      checkString(p.error, 'CLOSE_RSP error', id);
      checkCode(p.errorCode, STREAM_RESET_WIRE, id);
      return;
    }
    case 'DATA': {
      const id = checkId(p.connectId, 'DATA connectID', 1n);
      if (!(p.data instanceof Uint8Array)) throw fieldError('DATA data must be a Uint8Array', id);
      if (p.error !== undefined) checkString(p.error, 'DATA error', id);
      return;
    }
    case 'DIAL_CLS': {
      const random = checkId(p.random, 'DIAL_CLS random', 0n);
      checkCode(p.errorCode, DIAL_FAILURE_WIRE, random);
      return;
    }
    case 'DRAIN':
      return;
    case 'EXT_WINDOW_UPDATE': {
      const id = checkId(p.connectId, 'EXT_WINDOW_UPDATE connectID', 1n);
      try {
        checkUint(p.increment, 'EXT_WINDOW_UPDATE increment', MAX_STREAM_WINDOW_BYTES, 1);
      } catch (err) {
        throw fieldError((err as Error).message, id);
      }
      return;
    }
    case 'EXT_HALF_CLOSE':
      checkId(p.connectId, 'EXT_HALF_CLOSE connectID', 1n);
      return;
    case 'EXT_PING':
    case 'EXT_PONG':
      checkUint(p.nonce, `${p.type} nonce`, 0xffff_ffff);
      checkUint(p.timestampUs, `${p.type} timestampMicros`, Number.MAX_SAFE_INTEGER);
      return;
    default: {
      const unknownType: unknown = (p as { type: unknown }).type;
      throw fieldError(`cannot encode unknown packet type ${JSON.stringify(unknownType)}`);
    }
  }
}
