/**
 * The logger the agent writes to (STYLE §4): short lowercase event phrases, data in fields with
 * the glossary keys (clusterName, agentId, serverId, streamId, dialId, ...). Never pass payload
 * bytes, tokens or keys in fields.
 */

/** Structured fields of one log line. Values must be JSON-serializable (bigint is written as text). */
export type LogFields = Readonly<Record<string, unknown>>;

/** Injected through `ProxyAgentOptions.logger`; each method must not throw. */
export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
}

/** Log levels, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}

/**
 * The default logger: one JSON object per line on `write` (stderr by default) with `time`,
 * `level`, `msg`, then the fields. Lines below `level` are dropped before any string is built.
 */
export function createJsonLogger(
  options: { level?: LogLevel; base?: LogFields; write?: (line: string) => void } = {},
): Logger {
  const threshold = LEVEL_RANK[options.level ?? 'info'];
  const base = options.base ?? {};
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const log =
    (level: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (LEVEL_RANK[level] > threshold) return;
      const record = { time: new Date().toISOString(), level, msg, ...base, ...fields };
      write(`${JSON.stringify(record, jsonReplacer)}\n`);
    };
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
}

/** A logger that drops everything (tests, embedded use). */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
