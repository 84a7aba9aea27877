// jemalloc fetched for real: `apt-get download` from the machine's Debian archive into a cache
// of the test's own, then a Node process started the way the CLI starts itself runs on it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';

import { allocatorEnv, cachedJemallocPath, chooseAllocator } from '../../bin/allocator.ts';
import { fetchJemalloc } from '../../bin/fetch-jemalloc.ts';

const run = promisify(execFile);
const cache = mkdtempSync(join(tmpdir(), 'spokelink-jemalloc-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

describe('fetchJemalloc on this machine', () => {
  it('keeps libjemalloc2 in the cache, where the CLI finds it and Node runs on it', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, SPOKELINK_CACHE_DIR: cache };
    delete env['SPOKELINK_ALLOCATOR'];
    const target = cachedJemallocPath(env);
    const lines: string[] = [];
    // Look only in the test's cache, so an installed jemalloc does not answer instead.
    const exists = (path: string) => path === target && existsSync(path);
    const allocator = await fetchJemalloc({ env, exists, progress: (l) => lines.push(l) });

    expect(allocator).toEqual({ kind: 'jemalloc', library: target });
    expect(lines[0]).toBe(`jemalloc: not installed; fetching Debian's libjemalloc2 into ${target}`);
    expect(lines[1]).toMatch(/^jemalloc: libjemalloc2_[^ ]+\.deb unpacked; spokelink processes/);
    expect(readdirSync(join(cache, 'jemalloc'))).toEqual(['libjemalloc.so.2']);
    expect(chooseAllocator(env, 'linux', exists)).toEqual(allocator);

    // The library is mapped into a process started with the CLI's environment for it.
    const { stdout } = await run(
      process.execPath,
      ['-e', `process.stdout.write(require('fs').readFileSync('/proc/self/maps', 'utf8'))`],
      { env: allocatorEnv(env, allocator) ?? env, maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stdout).toContain(target);

    // A second call finds it and fetches nothing.
    lines.length = 0;
    expect(await fetchJemalloc({ env, exists, progress: (l) => lines.push(l) })).toEqual(allocator);
    expect(lines).toEqual([]);
  });
});
