import { describe, expect, it } from 'vitest';

import { INITIAL_STREAM_WINDOW_BYTES, SMALL_INITIAL_STREAM_WINDOW_BYTES } from '../constants.ts';
import { Extension, type ExtensionName, negotiateExtensions } from '../extensions.ts';
import { delay, disposedAfterEach, FULL_EXTENSIONS, TRANSPORT_KINDS } from './session-test-kit.ts';
import type { TunnelStream } from './tunnel-stream.ts';

const pair = disposedAfterEach();

const CHUNK = Buffer.alloc(64 * 1024, 0x5a);
const WITHOUT_SMALL_WINDOW: ReadonlySet<ExtensionName> = negotiateExtensions(
  FULL_EXTENSIONS,
  [...FULL_EXTENSIONS].filter((e) => e !== Extension.INITIAL_WINDOW_64K),
);

/**
 * A source that writes as fast as the tunnel takes it to a reader that never reads; resolves
 * with what reached the reader's side once nothing moves any more.
 */
async function stalledStream(
  kind: (typeof TRANSPORT_KINDS)[number],
  extensions: ReadonlySet<ExtensionName>,
): Promise<{ bytesIn: number; receiveCredit: number; windowBytes: number; sent: number }> {
  let reader: TunnelStream | undefined;
  const p = await pair(kind, {
    extensions,
    onDial: (dial) => {
      reader = dial.accept() as TunnelStream;
      reader.on('error', () => {});
      reader.pause();
    },
  });
  const source = await p.dialer.dial('sink:1');
  source.on('error', () => {});
  const pump = (): void => {
    while (source.write(CHUNK));
  };
  source.on('drain', pump);
  pump();
  await delay(300); // everything that can move has moved
  const stats = reader!.flowStats();
  const result = {
    bytesIn: reader!.bytesIn,
    receiveCredit: stats.receiveCredit,
    windowBytes: stats.receiveWindowBytes,
    sent: (source as TunnelStream).bytesOut,
  };
  source.destroy();
  return result;
}

describe('initial-window-64k', () => {
  for (const kind of TRANSPORT_KINDS) {
    it(`starts streams at 64 KiB of credit when both peers have it (${kind})`, async () => {
      const s = await stalledStream(kind, FULL_EXTENSIONS);
      // Nothing was ever read, so nothing went into the reader's Readable or was granted again:
      // the source is out of credit after exactly one window.
      expect(s.windowBytes).toBe(SMALL_INITIAL_STREAM_WINDOW_BYTES);
      expect(s.receiveCredit).toBe(0);
      expect(s.sent).toBe(s.bytesIn);
      expect(s.bytesIn).toBe(SMALL_INITIAL_STREAM_WINDOW_BYTES);
    });

    it(`keeps 256 KiB when one peer does not announce it (${kind})`, async () => {
      expect(WITHOUT_SMALL_WINDOW.has(Extension.FLOW_CONTROL)).toBe(true);
      const s = await stalledStream(kind, WITHOUT_SMALL_WINDOW);
      expect(s.windowBytes).toBe(INITIAL_STREAM_WINDOW_BYTES);
      expect(s.receiveCredit).toBe(0);
      expect(s.sent).toBe(s.bytesIn);
      expect(s.bytesIn).toBe(INITIAL_STREAM_WINDOW_BYTES);
    });
  }
});
