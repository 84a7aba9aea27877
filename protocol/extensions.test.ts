import { describe, expect, it } from 'vitest';

import {
  EXTENSIONS_METADATA_KEY,
  Extension,
  SUPPORTED_EXTENSIONS,
  formatExtensions,
  canonicalExtensions,
  negotiateExtensions,
  parseExtensions,
  type ExtensionName,
} from './extensions.ts';

const ALL = 'flow-control,half-close,error-codes,ping,stream-id,initial-window-64k';

describe('extension announcement', () => {
  it('uses a lowercase metadata key (gRPC lowercases keys on the wire)', () => {
    expect(EXTENSIONS_METADATA_KEY).toBe('spokelink-ext');
  });

  it('formats in canonical order, whatever the input order', () => {
    expect(formatExtensions(SUPPORTED_EXTENSIONS)).toBe(ALL);
    expect(
      formatExtensions([Extension.STREAM_ID, Extension.FLOW_CONTROL, Extension.STREAM_ID]),
    ).toBe('flow-control,stream-id');
    expect(formatExtensions([])).toBe('');
  });

  it.each<{
    name: string;
    values: Parameters<typeof parseExtensions>[0];
    expected: ExtensionName[];
  }>([
    { name: 'nothing announced (stock ANP peer)', values: undefined, expected: [] },
    { name: 'empty value', values: '', expected: [] },
    { name: 'all', values: ALL, expected: [...SUPPORTED_EXTENSIONS] },
    {
      name: 'spaces and case',
      values: ' Flow-Control , PING ',
      expected: ['flow-control', 'ping'],
    },
    {
      name: 'unknown tokens from a newer peer are ignored',
      values: 'ping,teleport,flow-control-2',
      expected: ['ping'],
    },
    {
      name: 'several metadata values are combined',
      values: ['ping', 'half-close'],
      expected: ['ping', 'half-close'],
    },
    {
      name: 'binary values are ignored',
      values: [new Uint8Array([1]), 'stream-id'],
      expected: ['stream-id'],
    },
    {
      name: 'only the first 1024 characters are read',
      values: `${'x'.repeat(1020)},ping`,
      expected: [],
    },
  ])('parses: $name', ({ values, expected }) => {
    expect([...parseExtensions(values)].sort()).toEqual([...expected].sort());
  });
});

describe('negotiateExtensions', () => {
  it.each<{
    name: string;
    local: ExtensionName[];
    remote: string | undefined;
    expected: ExtensionName[];
  }>([
    {
      name: 'both support everything',
      local: [...SUPPORTED_EXTENSIONS],
      remote: ALL,
      expected: [...SUPPORTED_EXTENSIONS],
    },
    {
      name: 'stock ANP peer: plain ANP',
      local: [...SUPPORTED_EXTENSIONS],
      remote: undefined,
      expected: [],
    },
    {
      name: 'older peer: the common subset',
      local: [...SUPPORTED_EXTENSIONS],
      remote: 'ping,flow-control',
      expected: ['flow-control', 'ping'],
    },
    { name: 'we disabled one', local: ['ping'], remote: ALL, expected: ['ping'] },
    { name: 'disjoint', local: ['half-close'], remote: 'ping', expected: [] },
  ])('$name', ({ local, remote, expected }) => {
    const ours = negotiateExtensions(local, parseExtensions(remote));
    expect([...ours].sort()).toEqual([...expected].sort());
    // Symmetric: the peer computes the same set from our announcement.
    const theirs = negotiateExtensions(
      parseExtensions(remote),
      parseExtensions(formatExtensions(local)),
    );
    expect([...theirs].sort()).toEqual([...expected].sort());
  });
});

describe('canonicalExtensions', () => {
  it('gives every tunnel with the same extensions one shared set, in canonical order', () => {
    const a = negotiateExtensions(SUPPORTED_EXTENSIONS, parseExtensions('stream-id,ping'));
    const b = negotiateExtensions(['stream-id', 'ping'], SUPPORTED_EXTENSIONS);
    expect(b).toBe(a);
    expect(canonicalExtensions(new Set<ExtensionName>(['stream-id', 'ping']))).toBe(a);
    expect([...a].join(',')).toBe(formatExtensions(['ping', 'stream-id']));
    expect(canonicalExtensions([])).toBe(negotiateExtensions(['ping'], []));
    expect(canonicalExtensions([]).size).toBe(0);
    expect(canonicalExtensions(['ping'])).not.toBe(a);
  });
});
