import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';

import { describe, expect, it } from 'vitest';

import {
  SMALL_INITIAL_STREAM_WINDOW_BYTES,
  type StreamResetCode,
  type TunnelStreamApi,
} from '../../protocol/index.ts';
import type { IncomingDial, TunnelStream } from '../../protocol/session/index.ts';
import {
  delay,
  digestOf,
  disposedAfterEach,
  hashAll,
  TRANSPORT_KINDS,
  waitFor,
  waitIdle,
  writeAllThenEnd,
  type SessionPair,
} from '../../protocol/session/session-test-kit.ts';
import { bridgeStreams, tunnelEnd } from './bridge-streams.ts';

const pair = disposedAfterEach();

/** What the relay in the middle joined: its two streams and the bridge's outcome. */
interface Relayed {
  readonly inbound: TunnelStreamApi;
  readonly outbound: TunnelStreamApi;
  readonly outcome: Promise<Error | undefined>;
}

/**
 * client ⇄ relay ⇄ far over two real tunnels, the relay joining each stream the client dials to
 * one it dials to `far`, as the proxy-server joins a frontend stream to an agent stream.
 */
async function relayChain(
  kind: (typeof TRANSPORT_KINDS)[number],
  far: (stream: TunnelStreamApi) => void,
): Promise<{
  client: SessionPair;
  toFar: SessionPair;
  relayed: () => Promise<Relayed>;
}> {
  const toFar = await pair(kind, {
    onDial: (dial: IncomingDial) => {
      const stream = dial.accept();
      stream.on('error', () => {});
      far(stream);
    },
  });
  let resolveRelayed: (r: Relayed) => void = () => {};
  const relayedOnce = new Promise<Relayed>((resolve) => (resolveRelayed = resolve));
  const client = await pair(kind, {
    onDial: (dial: IncomingDial) => {
      void toFar.dialer.dial('far:1').then((outbound) => {
        const inbound = dial.accept();
        const outcome = bridgeStreams(tunnelEnd(inbound), tunnelEnd(outbound));
        resolveRelayed({ inbound, outbound, outcome });
      });
    },
  });
  return { client, toFar, relayed: () => relayedOnce };
}

function resetCodeOf(stream: Duplex): Promise<StreamResetCode | undefined> {
  return new Promise((resolve) =>
    stream.once('error', (err) => resolve((err as { resetCode?: StreamResetCode }).resetCode)),
  );
}

describe('bridgeStreams between two tunnel streams', () => {
  for (const kind of TRANSPORT_KINDS) {
    it(`relays 8 MiB each way byte-exact, each end passed on as a half-close (${kind})`, async () => {
      const up = randomBytes(8 * 1024 * 1024);
      const down = randomBytes(8 * 1024 * 1024);
      let farGot: Promise<{ bytes: number; sha256: string }> | undefined;
      const chain = await relayChain(kind, (stream) => {
        farGot = hashAll(stream);
        writeAllThenEnd(stream, down);
      });
      const stream = await chain.client.dialer.dial('relay:1');
      const clientGot = hashAll(stream);
      writeAllThenEnd(stream, up);
      expect(await clientGot).toEqual(digestOf(down));
      await waitFor(() => farGot !== undefined, 'the far end');
      expect(await farGot).toEqual(digestOf(up));
      expect(await (await chain.relayed()).outcome).toBeUndefined();
      // Nothing left anywhere: streams, dials, buffered bytes.
      await waitIdle(chain.client);
      await waitIdle(chain.toFar);
    });

    it(`holds no more than its receive window at the relay when the reader stalls (${kind})`, async () => {
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      let farStream: TunnelStream | undefined;
      const chain = await relayChain(kind, (stream) => {
        farStream = stream as TunnelStream;
        const pump = (): void => {
          while (stream.write(chunk));
        };
        stream.on('drain', pump);
        pump();
      });
      const stream = await chain.client.dialer.dial('relay:1');
      stream.on('error', () => {});
      stream.pause(); // never reads
      await waitFor(() => (farStream?.bytesOut ?? 0) > 0, 'data from the far end');
      await delay(300); // everything that can move has moved
      // One window at the client (never read) and one at the relay, not a byte more: a pipe
      // through the relay's Readable and Writable would take up to two more chunks.
      expect(farStream!.bytesOut).toBe(2 * SMALL_INITIAL_STREAM_WINDOW_BYTES);
      expect(chain.toFar.dialer.stats().bufferedBytes).toBe(SMALL_INITIAL_STREAM_WINDOW_BYTES);
      stream.destroy();
    });

    it(`passes a reset on with its code, both ways (${kind})`, async () => {
      const farStreams: TunnelStreamApi[] = [];
      const chain = await relayChain(kind, (stream) => farStreams.push(stream));
      const first = await chain.client.dialer.dial('relay:1');
      const firstCode = resetCodeOf(first);
      await waitFor(() => farStreams.length === 1, 'the far end');
      farStreams[0]!.reset('connection-reset');
      expect(await firstCode).toBe('connection-reset');
      expect(await (await chain.relayed()).outcome).toBeInstanceOf(Error);

      const second = await chain.client.dialer.dial('relay:1');
      second.on('error', () => {});
      await waitFor(() => farStreams.length === 2, 'the far end');
      const farCode = resetCodeOf(farStreams[1]!);
      second.write('x');
      second.reset('overloaded');
      expect(await farCode).toBe('overloaded');
      await waitIdle(chain.client);
      await waitIdle(chain.toFar);
    });
  }
});
