// The hub names a part that holds up its close (start-hub.ts `stopWarningIfSlow`).
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { Logger } from '../../proxy-server/index.ts';
import { SLOW_STOP_WARNING, stopWarningIfSlow } from './start-hub.ts';

function recordingLogger() {
  const warnings: [string, Record<string, unknown> | undefined][] = [];
  const logger: Logger = {
    error: () => undefined,
    warn: (msg, fields) => warnings.push([msg, fields]),
    info: () => undefined,
    debug: () => undefined,
  };
  return { logger, warnings };
}

describe('stopWarningIfSlow', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('names a part still stopping after 10 s, once, and waits for it', async () => {
    vi.useFakeTimers();
    const { logger, warnings } = recordingLogger();
    let finish: () => void = () => undefined;
    let stopped = false;
    const stopping = stopWarningIfSlow(
      ['ManifestWorks', () => new Promise<void>((resolve) => (finish = resolve))],
      logger,
    ).then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(9_999);
    expect(warnings).toEqual([]);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(warnings).toEqual([[SLOW_STOP_WARNING, { part: 'ManifestWorks', waitedMs: 10_000 }]]);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('says nothing about a part that stops in time, and passes on its failure', async () => {
    vi.useFakeTimers();
    const { logger, warnings } = recordingLogger();
    await stopWarningIfSlow(['placements', async () => undefined], logger);
    await expect(
      stopWarningIfSlow(['leader elector', () => Promise.reject(new Error('lease gone'))], logger),
    ).rejects.toThrow('lease gone');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(warnings).toEqual([]);
  });
});
