// Which malloc the spokelink processes run on. Every byte a tunnel relays passes through Buffers
// that die in bursts between V8 collections (V8 collects when about 64 MiB of such external
// memory has piled up). glibc's malloc keeps the pages of those bursts: once a younger
// allocation sits above them its heap cannot shrink, and the RSS of a busy hub or agent climbs
// by tens of MiB over an hour while the memory the program holds stays flat (`npm run soak`
// measured it: the "native" part of the RSS grew, the V8 heap and the Buffers did not). jemalloc
// gives such pages back after a few seconds. So the CLI preloads jemalloc where one is installed
// (Debian/Ubuntu `libjemalloc2`, Fedora/Alpine `jemalloc`); the container image installs it.
// Where none is, `sandbox up`, `npm test`'s build step and the benchmarks fetch Debian's package
// into the cache (bin/fetch-jemalloc.ts), so that the sandbox, the tests and the figures are of
// the product as it is deployed; the CLI looks there too.
//
// SPOKELINK_ALLOCATOR: unset or `auto` (jemalloc when found), `system` (glibc's malloc), or the
// path of a jemalloc shared library (an error if it does not exist).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { cacheRoot } from '../sandbox/versions.ts';

/** Where distributions install jemalloc's shared library. */
export const JEMALLOC_PATHS: readonly string[] = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
  '/usr/local/lib/libjemalloc.so.2',
];

/** Where `fetchJemalloc` puts the library: the project's cache (`cacheRoot`), `jemalloc/`. */
export function cachedJemallocPath(env: NodeJS.ProcessEnv): string {
  return join(cacheRoot(env), 'jemalloc', 'libjemalloc.so.2');
}

/**
 * jemalloc's settings: a background thread returns unused pages even while the process is
 * idle (without it, only new allocations trigger the purge).
 */
export const JEMALLOC_CONF = 'background_thread:true';

export type Allocator =
  | { readonly kind: 'system'; readonly reason: string }
  | { readonly kind: 'jemalloc'; readonly library: string };

/** The allocator `env` asks for (see the file comment); throws for a path that does not exist. */
export function chooseAllocator(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  exists: (path: string) => boolean = existsSync,
): Allocator {
  const wanted = env['SPOKELINK_ALLOCATOR'] ?? 'auto';
  if (wanted === 'system') return { kind: 'system', reason: 'SPOKELINK_ALLOCATOR=system' };
  if (platform !== 'linux') return { kind: 'system', reason: `not preloaded on ${platform}` };
  if (wanted !== 'auto') {
    if (!exists(wanted))
      throw new Error(`SPOKELINK_ALLOCATOR names ${wanted}, which does not exist`);
    return { kind: 'jemalloc', library: wanted };
  }
  const library = [...JEMALLOC_PATHS, cachedJemallocPath(env)].find((p) => exists(p));
  return library === undefined
    ? { kind: 'system', reason: 'no jemalloc library installed' }
    : { kind: 'jemalloc', library };
}

/**
 * The environment a process started with `env` needs for `allocator`, or undefined when it
 * already has it (its LD_PRELOAD names the library) or needs nothing (system).
 */
export function allocatorEnv(
  env: NodeJS.ProcessEnv,
  allocator: Allocator,
): NodeJS.ProcessEnv | undefined {
  if (allocator.kind === 'system') return undefined;
  const preload = env['LD_PRELOAD'] ?? '';
  if (preload.split(/[:\s]+/).includes(allocator.library)) return undefined;
  return {
    ...env,
    LD_PRELOAD: preload === '' ? allocator.library : `${allocator.library}:${preload}`,
    MALLOC_CONF: env['MALLOC_CONF'] ?? JEMALLOC_CONF,
  };
}
