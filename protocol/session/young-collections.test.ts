import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { echoAcceptor, readBytes, sessionPair, type SessionPair } from './session-test-kit.ts';
import { YOUNG_COLLECTION_EVERY_BYTES } from './young-collections.ts';

// V8's `gc` as `--expose-gc` would install it; vitest runs each test file in its own module
// graph, so young-collections.ts looks it up fresh here.
const gc = vi.fn();
let pairs: SessionPair[] = [];
beforeEach(() => {
  (globalThis as { gc?: unknown }).gc = gc;
});
afterEach(async () => {
  await Promise.all(pairs.map((p) => p.dispose()));
  pairs = [];
  delete (globalThis as { gc?: unknown }).gc;
});

describe('young collections paced by the tunnel data', () => {
  it('asks V8 for a scavenge per YOUNG_COLLECTION_EVERY_BYTES of DATA, sent and received', async () => {
    const p = await sessionPair('ws', { onDial: echoAcceptor });
    pairs.push(p);
    const stream = await p.dialer.dial('echo:1');
    // Both sessions live in this process: each echoed byte is counted four times (dialer out,
    // acceptor in, acceptor out, dialer in).
    const size = 3 * YOUNG_COLLECTION_EVERY_BYTES;
    const reply = readBytes(stream, size);
    const chunk = Buffer.alloc(64 * 1024, 7);
    for (let sent = 0; sent < size; sent += chunk.length) stream.write(chunk);
    expect((await reply).length).toBe(size);
    expect(gc).toHaveBeenCalledTimes(12);
    expect(gc).toHaveBeenCalledWith({ type: 'minor' });
    stream.destroy();
  });

  it('asks for none while less than that moved', async () => {
    const p = await sessionPair('ws', { onDial: echoAcceptor });
    pairs.push(p);
    const stream = await p.dialer.dial('echo:1');
    const size = YOUNG_COLLECTION_EVERY_BYTES / 8;
    const reply = readBytes(stream, size);
    stream.write(Buffer.alloc(size, 1));
    await reply;
    expect(gc).not.toHaveBeenCalled();
    stream.destroy();
  });
});
