import { describe, expect, it } from 'vitest';

import { ProtocolError } from './errors.ts';
import {
  METADATA_KEYS,
  parseServerCount,
  singleMetadataValue,
  wireMetadataKey,
} from './metadata.ts';

describe('metadata keys', () => {
  it('keeps ANP spellings and knows their lowercase wire form', () => {
    expect(METADATA_KEYS).toMatchObject({
      agentId: 'agentID',
      agentIdentifiers: 'agentIdentifiers',
      serverId: 'serverID',
      serverCount: 'serverCount',
    });
    expect(wireMetadataKey(METADATA_KEYS.agentId)).toBe('agentid');
    expect(wireMetadataKey(METADATA_KEYS.serverCount)).toBe('servercount');
  });
});

describe('singleMetadataValue', () => {
  it('returns the one text value', () => {
    expect(singleMetadataValue('agentID', ['agent-1'])).toBe('agent-1');
  });

  it.each<[string, (string | Uint8Array)[], string]>([
    ['none', [], 'metadata agentID must have exactly one value, got 0'],
    ['two', ['a', 'b'], 'metadata agentID must have exactly one value, got 2'],
    ['empty', [''], 'metadata agentID must be non-empty text'],
    ['binary', [new Uint8Array([1])], 'metadata agentID must be non-empty text'],
  ])('rejects %s', (_name, values, message) => {
    try {
      singleMetadataValue('agentID', values);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('PROTO_ERR_INVALID_METADATA');
      expect((err as ProtocolError).message).toBe(message);
    }
  });
});

describe('parseServerCount', () => {
  it.each([
    ['1', 1],
    ['0', 0],
    ['003', 3],
    ['10000', 10000],
  ])('%s → %i', (value, count) => {
    expect(parseServerCount(value)).toBe(count);
  });

  it.each(['', '-1', '+2', '1.5', ' 2', '10001', '99999999'])('rejects %j', (value) => {
    expect(() => parseServerCount(value)).toThrow(ProtocolError);
  });
});
