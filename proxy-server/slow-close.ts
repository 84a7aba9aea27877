/**
 * Names what holds up a close: the proxy-server's parts (proxy-server.ts) and the hub's
 * (hub-process/start-hub.ts) each close through this.
 */

/**
 * Waits for `closing` (passing on its failure); calls `warn()` once if it has not settled after
 * `afterMs`. The timer is unref'd and cleared when `closing` settles.
 */
export async function awaitWarningIfSlow(
  closing: Promise<unknown>,
  afterMs: number,
  warn: () => void,
): Promise<void> {
  const slow = setTimeout(warn, afterMs);
  slow.unref();
  try {
    await closing;
  } finally {
    clearTimeout(slow);
  }
}
