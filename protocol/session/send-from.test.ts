import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { SMALL_INITIAL_STREAM_WINDOW_BYTES } from '../constants.ts';
import { ProtocolError } from '../errors.ts';
import {
  digestOf,
  disposedAfterEach,
  readBytes,
  TRANSPORT_KINDS,
  waitFor,
} from './session-test-kit.ts';
import type { TunnelStream } from './tunnel-stream.ts';

const pair = disposedAfterEach();

/** Reads exactly `n` bytes from a stream paused by pause() (a 'data' listener does not resume it). */
function resumeAndRead(stream: TunnelStream, n: number): Promise<Buffer> {
  const got = readBytes(stream, n);
  stream.resume();
  return got;
}

/** A stream to an acceptor whose reader starts paused; `reader()` gives the accepted side. */
async function streamToPausedReader(
  kind: (typeof TRANSPORT_KINDS)[number],
): Promise<{ stream: TunnelStream; reader: () => TunnelStream }> {
  let accepted: TunnelStream | undefined;
  const p = await pair(kind, {
    onDial: (dial) => {
      accepted = dial.accept() as TunnelStream;
      accepted.on('error', () => {});
      accepted.pause();
    },
  });
  const stream = (await p.dialer.dial('reader:1')) as TunnelStream;
  stream.on('error', () => {});
  await waitFor(() => accepted !== undefined, 'the accepted stream');
  return { stream, reader: () => accepted! };
}

describe('TunnelStream.sendFrom', () => {
  for (const kind of TRANSPORT_KINDS) {
    it(`sends what the credit covers at once (${kind})`, async () => {
      const { stream, reader } = await streamToPausedReader(kind);
      const data = randomBytes(16 * 1024);
      let isSentLater = false;
      expect(stream.sendFrom(data, () => (isSentLater = true))).toBe(true);
      expect(stream.bytesOut).toBe(data.length);
      expect(digestOf(await resumeAndRead(reader(), data.length))).toEqual(digestOf(data));
      expect(isSentLater).toBe(false);
    });

    it(`copies what the credit does not cover: the caller may reuse its buffer at once (${kind})`, async () => {
      const { stream, reader } = await streamToPausedReader(kind);
      const buffer = randomBytes(3 * SMALL_INITIAL_STREAM_WINDOW_BYTES);
      const original = Buffer.from(buffer);
      let sentCount = 0;
      expect(stream.sendFrom(buffer, () => sentCount++)).toBe(false);
      expect(stream.bytesOut).toBe(SMALL_INITIAL_STREAM_WINDOW_BYTES);
      // A second send before the first is out is a caller bug, refused with nothing changed.
      expect(() => stream.sendFrom(buffer, () => {})).toThrow(ProtocolError);
      buffer.fill(0); // the next read of a shared read buffer
      expect(digestOf(await resumeAndRead(reader(), original.length))).toEqual(digestOf(original));
      await waitFor(() => sentCount === 1, 'onSent');
      expect(stream.bytesOut).toBe(original.length);
    });
  }
});
