/**
 * The Logger components receive through options (STYLE §4), and the default implementation:
 * one JSON object per line on stderr. Messages are short lowercase event phrases; data goes in
 * fields with the glossary keys (clusterName, agentId, streamId, dialId, transport).
 */

/** Severity, most to least severe. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * What proxy-server logs through. Implementations must not throw and must not block: they are
 * called from socket event handlers. Fields never hold payload bytes, tokens or keys.
 */
export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Lowest level written; default 'info'. */
  level?: LogLevel;
  /** Where lines go; default process.stderr. */
  stream?: { write(line: string): unknown };
  /** Added to every line as `component`; default 'proxy-server'. */
  component?: string;
}

const SEVERITY: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

// Errors become { name, code, message }; bigint ids become decimal strings.
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) {
    const { code } = value as { code?: unknown };
    return { name: value.name, ...(code === undefined ? {} : { code }), message: value.message };
  }
  return value;
}

/**
 * A Logger writing JSON lines `{"time","level","component","msg",...fields}`. Stateless apart
 * from its options; safe to share between servers. A field that cannot be serialized (a
 * cycle) is replaced by a note rather than throwing.
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const threshold = SEVERITY[options.level ?? 'info'];
  const stream = options.stream ?? process.stderr;
  const component = options.component ?? 'proxy-server';
  const write =
    (level: LogLevel) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (SEVERITY[level] > threshold) return;
      const record = { time: new Date().toISOString(), level, component, msg, ...fields };
      let line: string;
      try {
        line = JSON.stringify(record, replacer);
      } catch {
        line = JSON.stringify({
          time: record.time,
          level,
          component,
          msg,
          fields: 'unserializable',
        });
      }
      stream.write(`${line}\n`);
    };
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') };
}

/** A Logger that drops everything (tests, embedding). */
export const SILENT_LOGGER: Logger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
};
