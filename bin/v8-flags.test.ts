import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import {
  HUB_V8_FLAGS,
  missingV8Flags,
  PROXY_SERVER_V8_FLAGS,
  TUNNEL_V8_FLAGS,
} from './v8-flags.ts';

const CLI = fileURLToPath(new URL('./spokelink.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'v8-flags-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const preload = join(scratch, 'print-exec-argv.mjs');
writeFileSync(
  preload,
  'const seen = { execArgv: process.execArgv, gc: typeof globalThis.gc };\n' +
    'process.stderr.write(`SEEN ${JSON.stringify(seen)}\\n`);\n',
);

/**
 * Runs the real CLI with a preload that prints the execArgv of every Node process it becomes
 * (the re-exec keeps NODE_OPTIONS) and whether V8's `gc` is there; returns the last: what the
 * command ran with.
 */
function ranWith(args: string[], nodeOptions = ''): { execArgv: string[]; gc: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: `${nodeOptions} --import=${preload}`.trim() },
    timeout: 30_000,
  });
  const lines = result.stderr.split('\n').filter((l) => l.startsWith('SEEN '));
  expect(lines.length, result.stderr).toBeGreaterThan(0);
  return JSON.parse(lines.at(-1)!.slice('SEEN '.length)) as { execArgv: string[]; gc: string };
}

describe('missingV8Flags', () => {
  it('returns the wanted flags that neither the command line nor NODE_OPTIONS names', () => {
    expect(missingV8Flags(['--max-semi-space-size=1'], [], undefined)).toEqual([
      '--max-semi-space-size=1',
    ]);
    expect(missingV8Flags(['--max-semi-space-size=1', '--a=1'], ['--a=7'], '')).toEqual([
      '--max-semi-space-size=1',
    ]);
  });

  it('leaves a flag the user set, in either spelling, with any value, or turned off', () => {
    expect(missingV8Flags(['--max-semi-space-size=1'], ['--max_semi_space_size=8'], '')).toEqual(
      [],
    );
    expect(
      missingV8Flags(['--max-semi-space-size=1'], [], '--inspect  --max-semi-space-size=16'),
    ).toEqual([]);
    expect(missingV8Flags(['--expose-gc'], [], '--no-expose-gc')).toEqual([]);
    expect(missingV8Flags(['--expose-gc'], ['--expose_gc'], undefined)).toEqual([]);
  });
});

describe('the spokelink command', () => {
  it('runs the agent and the proxy-server with the tunnel flags, the hub with its floor, and the other commands without', () => {
    for (const command of ['agent', 'proxy-server']) {
      const seen = ranWith([command, '--help']);
      expect(seen.execArgv).toEqual(expect.arrayContaining([...TUNNEL_V8_FLAGS]));
      expect(seen.gc).toBe('function');
    }
    expect(ranWith(['proxy-server', '--help']).execArgv).toEqual(
      expect.arrayContaining([...PROXY_SERVER_V8_FLAGS]),
    );
    expect(ranWith(['agent', '--help']).execArgv).not.toContain('--initial-old-space-size=64');
    const hub = ranWith(['hub', '--help']);
    expect(hub.execArgv).toEqual([...HUB_V8_FLAGS]);
    expect(hub.execArgv).toEqual(expect.arrayContaining([...TUNNEL_V8_FLAGS]));
    expect(hub.gc).toBe('function');
    for (const other of [['--help'], ['get', '--help']]) {
      const seen = ranWith(other);
      expect(seen.execArgv, other.join(' ')).toEqual([]);
      expect(seen.gc).toBe('undefined');
    }
  });

  it('leaves the flags to a user who set them in NODE_OPTIONS', () => {
    expect(ranWith(['agent', '--help'], '--no-expose-gc')).toEqual({
      execArgv: [],
      gc: 'undefined',
    });
  });
});
