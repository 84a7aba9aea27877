import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

import { SandboxError } from './errors.ts';

const LOG_TAIL_LINES = 40;
const DEFAULT_STOP_TIMEOUT_MS = 20_000;
const PORT_IN_USE = /address already in use|bind: address already in use|EADDRINUSE/i;

/**
 * One child process of a control plane (etcd, kube-apiserver, kube-controller-manager): its
 * output goes to a log file, and its last lines are kept for error messages.
 *
 * Lifecycle: `exited` settles once, when the child is gone. `stop()` sends SIGTERM, then
 * SIGKILL after `timeoutMs`; it is idempotent and safe to call after the child died.
 */
export class ManagedProcess {
  readonly name: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #child: ChildProcess;
  #log: WriteStream;
  #tail: string[] = [];
  #partial = '';
  #isExited = false;
  #stopping: Promise<void> | undefined;

  constructor(
    name: string,
    command: string,
    args: string[],
    options: { logFile: string; env?: NodeJS.ProcessEnv },
  ) {
    this.name = name;
    this.#log = createWriteStream(options.logFile, { flags: 'a' });
    this.#log.on('error', () => {});
    this.#child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (d: Buffer) => {
      this.#log.write(d);
      const lines = (this.#partial + d.toString()).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) this.#remember(line);
    };
    this.#child.stdout?.on('data', onData);
    this.#child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.#child.on('error', (err) => {
        this.#remember(`spawn failed: ${err.message}`);
        this.#isExited = true;
        resolve({ code: null, signal: null });
      });
      this.#child.on('close', (code, signal) => {
        if (this.#partial) this.#remember(this.#partial);
        this.#isExited = true;
        this.#log.end();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get isExited(): boolean {
    return this.#isExited;
  }

  /** The last lines the process printed. */
  get logTail(): readonly string[] {
    return [...this.#tail];
  }

  /** The error to report when the process ended while it should be running. */
  earlyExitError(
    exit: { code: number | null; signal: NodeJS.Signals | null },
    logFile: string,
  ): SandboxError {
    const tail = this.logTail;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    if (tail.some((l) => PORT_IN_USE.test(l))) {
      return new SandboxError(
        'SANDBOX_ERR_PORT_IN_USE',
        `${this.name} ${how}: a port it needs is already in use\n${tail.slice(-10).join('\n')}`,
        { logTail: tail },
      );
    }
    return new SandboxError(
      'SANDBOX_ERR_EARLY_EXIT',
      `${this.name} ${how} before it was ready (log: ${logFile}); last lines:\n${tail.slice(-15).join('\n')}`,
      { logTail: tail },
    );
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. Resolves once the process is gone. */
  stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#isExited) return;
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.#stopping;
  }

  /** Synchronous last resort for process exit handlers. */
  killNow(): void {
    if (!this.#isExited) this.#child.kill('SIGKILL');
  }

  #remember(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > LOG_TAIL_LINES) this.#tail.shift();
  }
}
