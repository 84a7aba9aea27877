/**
 * Label writes a cache has not shown yet. A controller that writes a label and compares its next
 * read with the cache would otherwise write the same label again at every reconcile until the
 * watch delivers its own write — under load that is seconds, and with a thousand clusters, six
 * add-ons and retries seconds apart, thousands of needless PATCHes.
 *
 * `record` notes labels just written to an object; `apply` lays them over later reads of it until
 * a read shows them all (the cache caught up), the object is gone, or {@link LABEL_HOLD_MS} have
 * passed since the last write — so a change someone else makes to the same label right after
 * ours hides from the writer for at most that long, after which it sees (and may correct) it. A
 * null value removes the label, as in the merge patch. Reads are not changed in place.
 */
export const LABEL_HOLD_MS = 10_000;

export interface LabelOverlay {
  record(name: string, labels: Readonly<Record<string, string | null>>): void;
  apply<T extends { metadata?: { labels?: Record<string, string> } }>(
    name: string,
    read: T | undefined,
  ): T | undefined;
  /** Names with labels not yet seen in a read (leak checks). */
  readonly size: number;
}

export interface LabelOverlayOptions {
  /** Default {@link LABEL_HOLD_MS}. */
  readonly holdMs?: number;
  readonly now?: () => number;
}

interface Pending {
  readonly at: number;
  readonly labels: Readonly<Record<string, string | null>>;
}

export function createLabelOverlay(options: LabelOverlayOptions = {}): LabelOverlay {
  const holdMs = options.holdMs ?? LABEL_HOLD_MS;
  const now = options.now ?? Date.now;
  const pending = new Map<string, Pending>();
  const current = (name: string): Pending | undefined => {
    const written = pending.get(name);
    if (written !== undefined && now() - written.at > holdMs) {
      pending.delete(name);
      return undefined;
    }
    return written;
  };
  return {
    record(name, labels) {
      const earlier = current(name);
      pending.set(name, { at: now(), labels: { ...earlier?.labels, ...labels } });
    },
    apply(name, read) {
      const written = current(name);
      if (written === undefined) return read;
      const shown = read?.metadata?.labels ?? {};
      const entries = Object.entries(written.labels);
      if (read === undefined || entries.every(([key, value]) => (shown[key] ?? null) === value)) {
        pending.delete(name);
        return read;
      }
      const labels = { ...shown };
      for (const [key, value] of entries) {
        if (value === null) delete labels[key];
        else labels[key] = value;
      }
      return { ...read, metadata: { ...read.metadata, labels } };
    },
    get size() {
      return pending.size;
    },
  };
}
