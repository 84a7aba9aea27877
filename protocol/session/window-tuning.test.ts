import { pipeline } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { INITIAL_STREAM_WINDOW_BYTES, SMALL_INITIAL_STREAM_WINDOW_BYTES } from '../constants.ts';
import { delay, disposedAfterEach, waitFor } from './session-test-kit.ts';
import { AUTO_WINDOW_MAX_BYTES, type TunnelStream } from './tunnel-stream.ts';

const pair = disposedAfterEach();

const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

describe('receive-window auto-tuning', () => {
  it('grows the window of a reader that keeps up', async () => {
    let accepted: TunnelStream | undefined;
    const p = await pair('ws', {
      onDial: (dial) => {
        accepted = dial.accept() as TunnelStream;
        accepted.on('error', () => {});
        accepted.resume();
      },
    });
    const stream = await p.dialer.dial('sink:1');
    stream.on('error', () => {});
    for (let i = 0; i < 512; i++) {
      if (!stream.write(CHUNK)) await new Promise((r) => stream.once('drain', r));
    }
    await waitFor(() => accepted?.bytesIn === 512 * CHUNK.length, 'all bytes at the reader');
    // 32 MiB in quick succession: on an idle machine the window reaches AUTO_WINDOW_MAX_BYTES.
    expect(accepted!.flowStats().receiveWindowBytes).toBeGreaterThan(INITIAL_STREAM_WINDOW_BYTES);
    expect(accepted!.flowStats().receiveWindowBytes).toBeLessThanOrEqual(AUTO_WINDOW_MAX_BYTES);
    stream.destroy();
  });

  it('keeps the initial window on a relay whose far reader never reads', async () => {
    // client ⇄ relay ⇄ source, as the proxy-server relays a frontend stream to an agent: the
    // relay drains its first window of the source's data into the client stream's credit and
    // buffers at once, and then nothing more moves.
    let relayed: TunnelStream | undefined;
    const toSource = await pair('ws', {
      onDial: (dial) => {
        const source = dial.accept();
        source.on('error', () => {});
        const pump = (): void => {
          while (source.write(CHUNK));
        };
        source.on('drain', pump);
        pump();
      },
    });
    const toRelay = await pair('ws', {
      onDial: (dial) => {
        const inbound = dial.accept();
        void toSource.dialer.dial('source:1').then((outbound) => {
          relayed = outbound as TunnelStream;
          pipeline(outbound, inbound, () => {});
        });
      },
    });
    const client = await toRelay.dialer.dial('relay:1');
    client.on('error', () => {});
    client.pause();
    await waitFor(() => (relayed?.bytesIn ?? 0) > 0, 'data at the relay');
    await delay(300); // everything that can move has moved
    // The pair negotiated every extension, `initial-window-64k` among them.
    expect(relayed!.flowStats().receiveWindowBytes).toBe(SMALL_INITIAL_STREAM_WINDOW_BYTES);
    expect(relayed!.flowStats().queuedBytes).toBeLessThanOrEqual(SMALL_INITIAL_STREAM_WINDOW_BYTES);
    client.destroy();
  });
});
