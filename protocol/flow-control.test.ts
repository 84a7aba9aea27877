import { describe, expect, it } from 'vitest';

import {
  INITIAL_STREAM_WINDOW_BYTES as INITIAL,
  LEGACY_STREAM_BUFFER_BYTES,
  MAX_DATA_CHUNK_BYTES,
  MAX_STREAM_WINDOW_BYTES as MAX,
} from './constants.ts';
import { ProtocolError, type ProtocolErrorCode } from './errors.ts';
import { ReceiveWindow, type ReceiveWindowOptions } from './receive-window.ts';
import { SendWindow, type SendWindowOptions } from './send-window.ts';

const KiB = 1024;

type SendStep = ['consume', number] | ['grant', number];

describe('SendWindow', () => {
  it.each<{
    name: string;
    options?: SendWindowOptions;
    steps: SendStep[];
    credit: number;
    error?: ProtocolErrorCode;
  }>([
    { name: 'starts at the initial window', steps: [], credit: INITIAL },
    { name: 'consumes down to zero', steps: [['consume', INITIAL]], credit: 0 },
    {
      name: 'a grant reopens it',
      steps: [
        ['consume', INITIAL],
        ['grant', 64 * KiB],
      ],
      credit: 64 * KiB,
    },
    { name: 'grants may raise credit up to MAX', steps: [['grant', MAX - INITIAL]], credit: MAX },
    {
      name: 'a grant beyond MAX is a peer violation, state unchanged',
      steps: [['grant', MAX - INITIAL + 1]],
      credit: INITIAL,
      error: 'PROTO_ERR_WINDOW_TOO_LARGE',
    },
    {
      name: 'cumulative grants beyond MAX',
      steps: [
        ['grant', MAX - INITIAL],
        ['grant', 1],
      ],
      credit: MAX,
      error: 'PROTO_ERR_WINDOW_TOO_LARGE',
    },
    {
      name: 'sending beyond credit is a local bug, state unchanged',
      steps: [
        ['consume', INITIAL - 1],
        ['consume', 2],
      ],
      credit: 1,
      error: 'PROTO_ERR_WINDOW_MISUSE',
    },
    {
      name: 'a zero grant is invalid',
      steps: [['grant', 0]],
      credit: INITIAL,
      error: 'PROTO_ERR_INVALID_FIELD',
    },
    {
      name: 'a fractional consume is invalid',
      steps: [['consume', 1.5]],
      credit: INITIAL,
      error: 'PROTO_ERR_WINDOW_MISUSE',
    },
    {
      name: 'not credit-based (plain ANP peer): unlimited, grants ignored',
      options: { isCreditBased: false },
      steps: [
        ['consume', 100 * MAX],
        ['grant', MAX * 2],
      ],
      credit: Infinity,
    },
  ])('$name', ({ options, steps, credit, error }) => {
    const window = new SendWindow(options);
    let thrown: unknown;
    for (const [op, n] of steps) {
      try {
        if (op === 'consume') window.consume(n);
        else window.grant(n);
      } catch (err) {
        thrown = err;
        break;
      }
    }
    if (error === undefined) expect(thrown).toBeUndefined();
    else {
      expect(thrown).toBeInstanceOf(ProtocolError);
      expect((thrown as ProtocolError).code).toBe(error);
    }
    expect(window.credit).toBe(credit);
    expect(window.isBlocked).toBe(credit === 0);
  });

  it.each([
    { wanted: 10, credit: INITIAL, expected: 10 },
    { wanted: 10 * MAX_DATA_CHUNK_BYTES, credit: INITIAL, expected: MAX_DATA_CHUNK_BYTES },
    { wanted: 10 * MAX_DATA_CHUNK_BYTES, credit: 1000, expected: 1000 },
    { wanted: 5, credit: 0, expected: 0 },
  ])('sendable($wanted) with credit $credit is $expected', ({ wanted, credit, expected }) => {
    const window = new SendWindow();
    window.consume(INITIAL - credit);
    expect(window.sendable(wanted)).toBe(expected);
  });

  it('reports the exact violation', () => {
    const window = new SendWindow();
    expect(() => window.grant(MAX)).toThrow(
      `grant of ${MAX} bytes raises send credit ${INITIAL} above MAX_STREAM_WINDOW_BYTES (${MAX})`,
    );
  });
});

type ReceiveStep =
  ['receive', number] | ['consume', number, number] | ['grow', number, number] | ['take', number];

describe('ReceiveWindow', () => {
  it.each<{
    name: string;
    options?: ReceiveWindowOptions;
    steps: ReceiveStep[];
    credit: number;
    buffered: number;
    error?: ProtocolErrorCode;
  }>([
    { name: 'starts with the initial credit', steps: [], credit: INITIAL, buffered: 0 },
    {
      name: 'data buffers and uses credit',
      steps: [['receive', 100 * KiB]],
      credit: INITIAL - 100 * KiB,
      buffered: 100 * KiB,
    },
    {
      name: 'no grant before half the window is drained',
      steps: [
        ['receive', INITIAL],
        ['consume', INITIAL / 2 - 1, 0],
      ],
      credit: 0,
      buffered: INITIAL / 2 + 1,
    },
    {
      name: 'grant once half the window is drained',
      steps: [
        ['receive', INITIAL],
        ['consume', INITIAL / 2 - 1, 0],
        ['consume', 1, INITIAL / 2],
      ],
      credit: INITIAL / 2,
      buffered: INITIAL / 2,
    },
    {
      name: 'a fully drained window is fully regranted (no deadlock)',
      steps: [
        ['receive', INITIAL],
        ['consume', INITIAL, INITIAL],
      ],
      credit: INITIAL,
      buffered: 0,
    },
    {
      name: 'exactly the credit is fine',
      steps: [
        ['receive', INITIAL - 1],
        ['receive', 1],
      ],
      credit: 0,
      buffered: INITIAL,
    },
    {
      name: 'one byte beyond credit overflows, state unchanged',
      steps: [
        ['receive', INITIAL - 1],
        ['receive', 2],
      ],
      credit: 1,
      buffered: INITIAL - 1,
      error: 'PROTO_ERR_DATA_EXCEEDS_WINDOW',
    },
    {
      name: 'a stalled sink stays bounded by the window',
      steps: [
        ['receive', INITIAL],
        ['receive', 1],
      ],
      credit: 0,
      buffered: INITIAL,
      error: 'PROTO_ERR_DATA_EXCEEDS_WINDOW',
    },
    {
      name: 'consuming more than buffered is a local bug',
      steps: [
        ['receive', 10],
        ['consume', 11, 0],
      ],
      credit: INITIAL - 10,
      buffered: 10,
      error: 'PROTO_ERR_WINDOW_MISUSE',
    },
    {
      name: 'a larger window is granted at open when the extra is at least half of it',
      options: { windowBytes: 4 * INITIAL },
      steps: [
        ['take', 3 * INITIAL],
        ['take', 0],
      ],
      credit: 4 * INITIAL,
      buffered: 0,
    },
    {
      name: 'a slightly larger window waits for consumption',
      options: { windowBytes: INITIAL + 1024 },
      steps: [
        ['take', 0],
        ['receive', INITIAL],
        ['consume', INITIAL / 2 - 512, INITIAL / 2 + 512],
      ],
      credit: INITIAL / 2 + 512,
      buffered: INITIAL / 2 + 512,
    },
    {
      name: 'growing the window grants the difference',
      steps: [['grow', MAX, MAX - INITIAL]],
      credit: MAX,
      buffered: 0,
    },
    {
      name: 'grants never exceed MAX: a full MAX window drained and regranted',
      options: { windowBytes: MAX },
      steps: [
        ['take', MAX - INITIAL],
        ['receive', MAX],
        ['consume', MAX, MAX],
      ],
      credit: MAX,
      buffered: 0,
    },
    {
      name: 'windows cannot shrink',
      options: { windowBytes: 2 * INITIAL },
      steps: [['grow', INITIAL, 0]],
      credit: INITIAL,
      buffered: 0,
      error: 'PROTO_ERR_WINDOW_MISUSE',
    },
    {
      name: 'windows cannot grow beyond MAX',
      steps: [['grow', MAX + 1, 0]],
      credit: INITIAL,
      buffered: 0,
      error: 'PROTO_ERR_WINDOW_MISUSE',
    },
    {
      name: 'plain ANP peer: bounded buffer, never grants',
      options: { isCreditBased: false, legacyLimitBytes: 1000 },
      steps: [
        ['receive', 600],
        ['consume', 600, 0],
        ['receive', 1000],
      ],
      credit: 0,
      buffered: 1000,
    },
    {
      name: 'plain ANP peer: overflowing the bound resets the stream',
      options: { isCreditBased: false, legacyLimitBytes: 1000 },
      steps: [
        ['receive', 600],
        ['receive', 401],
      ],
      credit: 400,
      buffered: 600,
      error: 'PROTO_ERR_DATA_EXCEEDS_WINDOW',
    },
  ])('$name', ({ options, steps, credit, buffered, error }) => {
    const window = new ReceiveWindow(options);
    let thrown: unknown;
    for (const step of steps) {
      try {
        if (step[0] === 'receive') window.receive(step[1]);
        else if (step[0] === 'consume') expect(window.consume(step[1])).toBe(step[2]);
        else if (step[0] === 'grow') expect(window.growWindow(step[1])).toBe(step[2]);
        else expect(window.takeGrant()).toBe(step[1]);
      } catch (err) {
        thrown = err;
        break;
      }
    }
    if (error === undefined) expect(thrown).toBeUndefined();
    else {
      expect(thrown).toBeInstanceOf(ProtocolError);
      expect((thrown as ProtocolError).code).toBe(error);
    }
    expect([window.credit, window.buffered]).toEqual([credit, buffered]);
  });

  it('defaults the legacy bound to LEGACY_STREAM_BUFFER_BYTES', () => {
    expect(new ReceiveWindow({ isCreditBased: false }).credit).toBe(LEGACY_STREAM_BUFFER_BYTES);
  });

  it.each([INITIAL - 1, MAX + 1, 1.5])('rejects windowBytes %s', (windowBytes) => {
    expect(() => new ReceiveWindow({ windowBytes })).toThrow(ProtocolError);
  });

  it('reports the exact overflow', () => {
    const window = new ReceiveWindow();
    expect(() => window.receive(INITIAL + 1)).toThrow(
      `peer sent ${INITIAL + 1} bytes with only ${INITIAL} bytes of credit`,
    );
  });
});

describe('SendWindow and ReceiveWindow together', () => {
  it.each([
    { seed: 1, windowBytes: INITIAL },
    { seed: 2, windowBytes: 4 * INITIAL },
    { seed: 3, windowBytes: MAX },
  ])(
    'a rule-abiding sender never overflows; memory stays within the window (seed $seed)',
    ({ seed, windowBytes }) => {
      let state = seed;
      const random = (n: number): number => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return state % n;
      };
      const sender = new SendWindow();
      const receiver = new ReceiveWindow({ windowBytes });
      const grants: number[] = [];
      const initialGrant = receiver.takeGrant();
      if (initialGrant > 0) grants.push(initialGrant);
      let toSend = 64 * 1024 * 1024;
      let delivered = 0;
      for (let round = 0; toSend > 0 || receiver.buffered > 0; round++) {
        expect(round).toBeLessThan(1_000_000);
        // Deliver pending grants (ordered transport), then send what credit allows.
        for (const g of grants.splice(0)) sender.grant(g);
        const chunk = sender.sendable(Math.min(toSend, 1 + random(2 * MAX_DATA_CHUNK_BYTES)));
        if (chunk > 0) {
          sender.consume(chunk);
          receiver.receive(chunk);
          toSend -= chunk;
        }
        // The sink drains at a random pace, sometimes not at all (a stalled reader).
        const drained = Math.min(
          receiver.buffered,
          random(4) === 0 ? 0 : random(3 * MAX_DATA_CHUNK_BYTES),
        );
        const grant = receiver.consume(drained);
        delivered += drained;
        if (grant > 0) grants.push(grant);
        expect(receiver.buffered).toBeLessThanOrEqual(windowBytes);
        expect(sender.credit).toBeLessThanOrEqual(MAX);
      }
      expect(delivered).toBe(64 * 1024 * 1024);
    },
  );
});
