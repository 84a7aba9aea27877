import { describe, expect, it } from 'vitest';

import { DIAL_FAILURE_REASONS } from '../error-codes.ts';
import { ProtocolError } from '../errors.ts';
import {
  FULL_EXTENSIONS,
  NO_EXTENSIONS,
  TRANSPORT_KINDS,
  echoAcceptor,
  readBytes,
  disposedAfterEach,
  waitFor,
  waitIdle,
} from './session-test-kit.ts';
import type { IncomingDial } from './types.ts';

const pair = disposedAfterEach();

const MODES = [
  { mode: 'extensions', extensions: FULL_EXTENSIONS },
  { mode: 'plain ANP', extensions: NO_EXTENSIONS },
] as const;

describe.each(TRANSPORT_KINDS.flatMap((kind) => MODES.map((m) => ({ kind, ...m }))))(
  'TunnelSession over $kind, $mode',
  ({ kind, extensions }) => {
    it('dials, accepts and echoes', async () => {
      const p = await pair(kind, { extensions, onDial: echoAcceptor });
      const stream = await p.dialer.dial('kube-apiserver:443');
      expect(stream.remoteAddress).toBe('kube-apiserver:443');
      expect(stream.streamId).toBeGreaterThan(0n);
      // Read the echo before end(): without half-close, end() closes both directions (ANP).
      const reply = readBytes(stream, 12);
      stream.write('hello ');
      stream.write('tunnel');
      expect((await reply).toString()).toBe('hello tunnel');
      stream.end();
      stream.resume();
      await waitIdle(p);
      expect(p.dialer.stats()).toMatchObject({ bytesOut: 12, bytesIn: 12 });
    });

    it.each(DIAL_FAILURE_REASONS)('rejection reason %s reaches the dialer', async (reason) => {
      const p = await pair(kind, {
        extensions,
        onDial: (dial) => dial.reject(reason, `refusing with ${reason}`),
      });
      const err = await p.dialer.dial('svc:80').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason });
      await waitIdle(p);
    });

    it('fails a dial with timeout when no answer comes, and the acceptor sees the cancel', async () => {
      let pending: IncomingDial | undefined;
      const p = await pair(kind, { extensions, onDial: (dial) => (pending = dial) });
      const err = await p.dialer.dial('svc:80', { timeoutMs: 50 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PROTO_ERR_DIAL_FAILED', reason: 'timeout' });
      await waitFor(() => pending?.signal.aborted === true, 'acceptor dial aborted');
      const late = pending!.accept(); // after a cancel: destroyed, not registered
      expect(late.destroyed).toBe(true);
      pending!.reject('refused', 'too late'); // no-op
      await waitIdle(p);
    });

    it('after accept(), reject() is a no-op and a second accept() throws', async () => {
      const p = await pair(kind, {
        extensions,
        onDial: (dial) => {
          const stream = dial.accept();
          stream.on('error', () => {});
          dial.reject('internal', 'late error path');
          expect(() => dial.accept()).toThrow(/already accepted/);
          stream.end();
          stream.resume();
        },
      });
      const stream = await p.dialer.dial('svc:80');
      stream.resume();
      stream.end();
      await waitIdle(p);
    });

    it('sends DRAIN and the peer sees isPeerDraining', async () => {
      const p = await pair(kind, { extensions });
      const seen = new Promise<void>((resolve) => p.dialer.once('peer-drain', resolve));
      p.acceptor.sendDrain();
      p.acceptor.sendDrain();
      await seen;
      expect(p.dialer.isPeerDraining).toBe(true);
      expect(p.acceptor.isPeerDraining).toBe(false);
    });

    it('close() waits for open streams, then both sessions close cleanly', async () => {
      const p = await pair(kind, { extensions, onDial: echoAcceptor });
      const stream = await p.dialer.dial('svc:80');
      const reply = readBytes(stream, 10);
      let isClosed = false;
      const closing = p.dialer.close().then(() => (isClosed = true));
      await expect(p.dialer.dial('svc:80')).rejects.toMatchObject({ reason: 'tunnel-closed' });
      stream.write('still open');
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(isClosed).toBe(false);
      expect((await reply).toString()).toBe('still open');
      stream.end();
      stream.resume();
      await closing;
      const acceptorClose = await new Promise<unknown>((resolve) =>
        p.acceptor.isClosed ? resolve(undefined) : p.acceptor.once('close', resolve),
      );
      expect(acceptorClose).toBeUndefined();
      expect(p.dialer.isClosed && p.acceptor.isClosed).toBe(true);
    });

    it('destroy() is idempotent and settles close()', async () => {
      const p = await pair(kind, { extensions, onDial: echoAcceptor });
      const stream = await p.dialer.dial('svc:80');
      const streamError = new Promise<unknown>((resolve) => stream.once('error', resolve));
      let closes = 0;
      p.dialer.on('close', () => closes++);
      const closing = p.dialer.close();
      const cause = new Error('operator abort');
      p.dialer.destroy(cause);
      p.dialer.destroy();
      await closing;
      await p.dialer.close();
      expect(closes).toBe(1);
      expect(await streamError).toMatchObject({
        code: 'PROTO_ERR_STREAM_RESET',
        resetCode: 'tunnel-closed',
        cause,
      });
      expect(stream.resetCode).toBe('tunnel-closed');
      await waitFor(() => p.acceptor.isClosed, 'acceptor closed');
      expect(p.dialer.stats()).toMatchObject({ openStreams: 0, pendingDials: 0, bufferedBytes: 0 });
      expect(p.acceptor.stats()).toMatchObject({
        openStreams: 0,
        pendingDials: 0,
        bufferedBytes: 0,
      });
    });
  },
);
