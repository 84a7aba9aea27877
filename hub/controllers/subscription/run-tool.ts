/**
 * Runs one external tool (git, tar, helm, kubectl) for the subscription controller: no shell,
 * no stdin, a deadline after which the process is killed, stdout kept up to a byte limit and
 * stderr's last lines kept for the error message. Stateless.
 */
import { spawn } from 'node:child_process';

/** Default deadline of one tool run, ms. */
export const TOOL_TIMEOUT_MS = 60_000;
/** Default limit of the stdout kept, bytes (rendered manifests). */
export const TOOL_MAX_STDOUT_BYTES = 16 * 1024 * 1024;
const STDERR_TAIL_BYTES = 2_048;

/** Options of {@link runTool}. */
export interface RunToolOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly maxStdoutBytes?: number;
}

/** How a run ended that was not a success. */
export class ToolFailure extends Error {
  /** The exit code, or undefined when killed or never started. */
  readonly exitCode: number | undefined;
  /** The end of stderr, trimmed. */
  readonly stderrTail: string;

  constructor(message: string, exitCode: number | undefined, stderrTail: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ToolFailure';
    this.exitCode = exitCode;
    this.stderrTail = stderrTail;
  }
}

/**
 * Runs `command args…`, resolving with stdout once it exits 0. Rejects with a
 * {@link ToolFailure} when it cannot start, exits non-zero, outlives `timeoutMs` (killed with
 * SIGKILL) or prints more than `maxStdoutBytes`.
 */
export function runTool(
  command: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? TOOL_TIMEOUT_MS;
  const maxStdout = options.maxStdoutBytes ?? TOOL_MAX_STDOUT_BYTES;
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failure: ToolFailure | undefined;
    const stop = (f: ToolFailure) => {
      failure ??= f;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () =>
        stop(
          new ToolFailure(`${command} did not finish within ${timeoutMs} ms`, undefined, stderr),
        ),
      timeoutMs,
    );
    child.stdout.on('error', () => undefined);
    child.stderr.on('error', () => undefined);
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > maxStdout) {
        stop(new ToolFailure(`${command} printed more than ${maxStdout} bytes`, undefined, ''));
        return;
      }
      chunks.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-STDERR_TAIL_BYTES);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(
        new ToolFailure(`${command} could not be started: ${err.message}`, undefined, '', err),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const tail = stderr.trim();
      if (failure !== undefined) reject(failure);
      else if (code === 0) resolve(Buffer.concat(chunks));
      else
        reject(
          new ToolFailure(`${command} exited with code ${code ?? 'null'}`, code ?? undefined, tail),
        );
    });
  });
}

/** The last non-empty line of a tool's stderr, for a one-line status message. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}
