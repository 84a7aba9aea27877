// The fault tests' child processes: the hub (faults-hub-main.ts) and the agent as real
// processes that can be SIGKILLed and started again on the same ports, and the hubs'
// leadership timelines.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

import { eventually } from '../framework/kubectl.ts';
import type { HubChildConfig } from './faults-hub-main.ts';

const HUB_MAIN = fileURLToPath(new URL('./faults-hub-main.ts', import.meta.url));
/** Where fixed ports are picked: below the ephemeral range, above the usual services. */
const FIXED_PORT_MIN = 20_000;
const FIXED_PORT_MAX = 32_000;

/**
 * Free loopback ports below the kernel's ephemeral range (32768 and up): a child binds them
 * again after each restart, and a port in the ephemeral range may be taken meanwhile by any
 * outgoing connection or port-0 listener on the machine. Probed, then released.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const candidate =
      FIXED_PORT_MIN + Math.floor(Math.random() * (FIXED_PORT_MAX - FIXED_PORT_MIN));
    if (ports.includes(candidate)) continue;
    const isFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (isFree) ports.push(candidate);
  }
  return ports;
}

/**
 * One child process, restartable with the same arguments. `kill9()` SIGKILLs it and resolves
 * once it is gone; `stop()` sends SIGTERM (SIGKILL after 10 s). Both are safe to repeat.
 */
export class Child {
  readonly name: string;
  readonly #args: string[];
  readonly #onLine: (line: string) => void;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log: string[] = [];

  constructor(name: string, args: string[], onLine: (line: string) => void = () => {}) {
    this.name = name;
    this.#args = args;
    this.#onLine = onLine;
  }

  get isRunning(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && !this.#child.killed;
  }

  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  logTail(lines = 40): string {
    return this.#log.slice(-lines).join('\n');
  }

  start(): void {
    if (this.isRunning) throw new Error(`${this.name} is running`);
    const child = spawn(process.execPath, this.#args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.on('error', (err) => this.#remember(`spawn error: ${err.message}`));
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.on('data', (d: Buffer) => {
        const lines = (partial + d.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          this.#remember(line);
          this.#onLine(line);
        }
      });
    }
  }

  async kill9(): Promise<void> {
    if (this.#child?.exitCode === null) this.#child.kill('SIGKILL');
    await this.#exited;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child?.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.#exited;
      clearTimeout(timer);
    }
    await this.#exited;
  }

  #remember(line: string): void {
    this.#log.push(line);
    if (this.#log.length > 400) this.#log.shift();
  }
}

/** A hub child (faults-hub-main.ts): its gateway, agent address and leadership as it printed. */
export class HubChild {
  readonly child: Child;
  readonly config: HubChildConfig;
  /** Every change of isLeader() the child printed, with its timestamp (ms). */
  readonly leaderEvents: { isLeader: boolean; at: number }[] = [];
  #readyCount = 0;

  constructor(config: HubChildConfig) {
    this.config = config;
    this.child = new Child(`hub ${config.serverId}`, [HUB_MAIN, JSON.stringify(config)], (line) =>
      this.#onLine(line),
    );
  }

  get agentAddress(): string {
    return `127.0.0.1:${this.config.ports.agentGrpc}`;
  }

  get gateway(): string {
    return `https://127.0.0.1:${this.config.ports.gateway}`;
  }

  /** Whether the child's last word was that it leads (false once it is gone). */
  get isLeader(): boolean {
    return this.child.isRunning && this.leaderEvents.at(-1)?.isLeader === true;
  }

  /** Starts the process and resolves once it printed `ready`. */
  async start(): Promise<void> {
    const before = this.#readyCount;
    this.child.start();
    await eventually(
      `${this.child.name} to be ready`,
      async () => {
        if (!this.child.isRunning) throw new Error(`exited:\n${this.child.logTail()}`);
        return this.#readyCount > before ? true : undefined;
      },
      90_000,
      100,
    );
  }

  /** SIGKILL; a `leader: false` event is recorded at the moment of death. */
  async kill9(): Promise<void> {
    await this.child.kill9();
    if (this.leaderEvents.at(-1)?.isLeader === true)
      this.leaderEvents.push({ isLeader: false, at: Date.now() });
  }

  async stop(): Promise<void> {
    await this.child.stop();
    if (this.leaderEvents.at(-1)?.isLeader === true)
      this.leaderEvents.push({ isLeader: false, at: Date.now() });
  }

  #onLine(line: string): void {
    if (!line.startsWith('{"event"')) return;
    const event = JSON.parse(line) as { event: string; isLeader?: boolean; at: number };
    if (event.event === 'ready') this.#readyCount += 1;
    if (event.event === 'leader')
      this.leaderEvents.push({ isLeader: event.isLeader === true, at: event.at });
  }
}

/**
 * The moments at which two of `hubs` both said they lead, from their leadership timelines
 * (empty when leadership never overlapped).
 */
export function overlappingLeaders(hubs: readonly HubChild[]): string[] {
  const terms = hubs.flatMap((hub) => {
    const out: { hub: string; from: number; to: number }[] = [];
    let from: number | undefined;
    for (const e of hub.leaderEvents) {
      if (e.isLeader && from === undefined) from = e.at;
      if (!e.isLeader && from !== undefined) {
        out.push({ hub: hub.config.serverId, from, to: e.at });
        from = undefined;
      }
    }
    if (from !== undefined) out.push({ hub: hub.config.serverId, from, to: Infinity });
    return out;
  });
  const overlaps: string[] = [];
  for (const a of terms)
    for (const b of terms)
      if (a.hub < b.hub && a.from < b.to && b.from < a.to)
        overlaps.push(`${a.hub} [${a.from}, ${a.to}) and ${b.hub} [${b.from}, ${b.to})`);
  return overlaps;
}
