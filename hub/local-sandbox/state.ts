import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where a local sandbox keeps its state: $SPOKELINK_HOME/sandbox, default ~/.spokelink/sandbox. */
export function sandboxDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['SPOKELINK_HOME'] ?? join(homedir(), '.spokelink'), 'sandbox');
}

export interface SandboxCluster {
  name: string;
  /** The spoke API server, direct (for the sandbox's own use). */
  server: string;
  /** Admin kubeconfig of the spoke, direct. */
  kubeconfig: string;
  /** A kubeconfig that reaches the spoke only through the tunnel (HTTP CONNECT frontend). */
  tunnelKubeconfig: string;
  agentPid: number | undefined;
}

/** What `sandbox serve` writes for `up`, `status` and `down` to read. */
export interface SandboxState {
  /** starting → ready, or failed (with `error`). */
  phase: 'starting' | 'ready' | 'failed';
  pid: number;
  startedAt: string;
  readyAt?: string;
  error?: string;
  /** Progress lines, newest last. */
  progress: string[];
  hub?: { server: string; kubeconfig: string };
  proxyServer?: { connect: string; health: string; agentGrpc: string; frontendGrpc: string };
  /** The cluster gateway (`spokelink kubeconfig` reads it) and the CA of its serving certificate. */
  gateway?: { url: string; caFile: string };
  clusters: SandboxCluster[];
}

export function statePath(dir: string): string {
  return join(dir, 'state.json');
}

/** Reads the state, or undefined when there is none (or it is unreadable). */
export function readState(dir: string): SandboxState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

/** Writes the state atomically (write, then rename), so readers never see half a file. */
export function writeState(dir: string, state: SandboxState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${statePath(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, statePath(dir));
}

/** Whether a process id names a live process. */
export function isRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
