import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { cachedJemallocPath } from './allocator.ts';
import { fetchJemalloc } from './fetch-jemalloc.ts';

// Fetching for real (apt-get download from Debian's archive) is in
// test/integration/fetch-jemalloc.test.ts; these cases stay on this machine.
const dirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spokelink-jemalloc-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
/** Sees only files under `dir`: as if the machine had no jemalloc installed. */
const onlyUnder = (dir: string) => (path: string) => path.startsWith(dir) && existsSync(path);

describe('fetchJemalloc', () => {
  it('fetches nothing when told to use the system malloc, a given library, or off Linux', async () => {
    const cache = scratch();
    const lines: string[] = [];
    const progress = (line: string) => lines.push(line);
    const env = { SPOKELINK_CACHE_DIR: cache, PATH: process.env['PATH'] ?? '' };
    expect(
      await fetchJemalloc({ env: { ...env, SPOKELINK_ALLOCATOR: 'system' }, progress }),
    ).toEqual({ kind: 'system', reason: 'SPOKELINK_ALLOCATOR=system' });
    expect(await fetchJemalloc({ env, platform: 'darwin', progress })).toEqual({
      kind: 'system',
      reason: 'not preloaded on darwin',
    });
    await expect(
      fetchJemalloc({ env: { ...env, SPOKELINK_ALLOCATOR: join(cache, 'none.so') }, progress }),
    ).rejects.toThrow(`SPOKELINK_ALLOCATOR names ${join(cache, 'none.so')}, which does not exist`);
    expect(readdirSync(cache)).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('without apt, says why it stays on the system malloc and leaves nothing behind', async () => {
    const cache = scratch();
    const lines: string[] = [];
    const allocator = await fetchJemalloc({
      env: { SPOKELINK_CACHE_DIR: cache, PATH: scratch() },
      exists: onlyUnder(cache),
      progress: (line) => lines.push(line),
    });
    expect(allocator).toEqual({
      kind: 'system',
      reason: 'no jemalloc installed and fetching libjemalloc2 failed: apt-get not found',
    });
    expect(lines.at(-1)).toBe(
      'jemalloc: no jemalloc installed and fetching libjemalloc2 failed: apt-get not found; running on the system malloc',
    );
    expect(existsSync(cachedJemallocPath({ SPOKELINK_CACHE_DIR: cache }))).toBe(false);
    expect(readdirSync(join(cache, 'jemalloc'))).toEqual([]);
  });
});
