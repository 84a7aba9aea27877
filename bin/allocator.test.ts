import { describe, expect, it } from 'vitest';

import {
  allocatorEnv,
  cachedJemallocPath,
  chooseAllocator,
  JEMALLOC_CONF,
  JEMALLOC_PATHS,
} from './allocator.ts';

const debianLib = JEMALLOC_PATHS[0] as string;
const only =
  (...paths: string[]) =>
  (path: string) =>
    paths.includes(path);

describe('chooseAllocator', () => {
  it('picks an installed jemalloc on Linux when nothing is asked for', () => {
    expect(chooseAllocator({}, 'linux', only(debianLib))).toEqual({
      kind: 'jemalloc',
      library: debianLib,
    });
    expect(
      chooseAllocator(
        { SPOKELINK_ALLOCATOR: 'auto' },
        'linux',
        only('/usr/lib64/libjemalloc.so.2'),
      ),
    ).toEqual({
      kind: 'jemalloc',
      library: '/usr/lib64/libjemalloc.so.2',
    });
  });

  it('finds the library fetched into the cache when none is installed', () => {
    const env = { SPOKELINK_CACHE_DIR: '/var/cache/sl' };
    expect(cachedJemallocPath(env)).toBe('/var/cache/sl/jemalloc/libjemalloc.so.2');
    expect(chooseAllocator(env, 'linux', only(cachedJemallocPath(env)))).toEqual({
      kind: 'jemalloc',
      library: '/var/cache/sl/jemalloc/libjemalloc.so.2',
    });
    expect(chooseAllocator(env, 'linux', only(cachedJemallocPath(env), debianLib))).toEqual({
      kind: 'jemalloc',
      library: debianLib,
    });
  });

  it('stays on the system malloc without a library, when told so, or off Linux', () => {
    expect(chooseAllocator({}, 'linux', only())).toEqual({
      kind: 'system',
      reason: 'no jemalloc library installed',
    });
    expect(chooseAllocator({ SPOKELINK_ALLOCATOR: 'system' }, 'linux', only(debianLib)).kind).toBe(
      'system',
    );
    expect(chooseAllocator({}, 'darwin', only(debianLib))).toEqual({
      kind: 'system',
      reason: 'not preloaded on darwin',
    });
  });

  it('takes a library path, and refuses one that does not exist', () => {
    expect(
      chooseAllocator({ SPOKELINK_ALLOCATOR: '/opt/je.so' }, 'linux', only('/opt/je.so')),
    ).toEqual({
      kind: 'jemalloc',
      library: '/opt/je.so',
    });
    expect(() => chooseAllocator({ SPOKELINK_ALLOCATOR: '/opt/je.so' }, 'linux', only())).toThrow(
      'SPOKELINK_ALLOCATOR names /opt/je.so, which does not exist',
    );
  });
});

describe('allocatorEnv', () => {
  const jemalloc = { kind: 'jemalloc', library: debianLib } as const;

  it('preloads the library with its settings, before what was preloaded already', () => {
    expect(allocatorEnv({ PATH: '/bin' }, jemalloc)).toEqual({
      PATH: '/bin',
      LD_PRELOAD: debianLib,
      MALLOC_CONF: JEMALLOC_CONF,
    });
    expect(
      allocatorEnv({ LD_PRELOAD: '/lib/other.so', MALLOC_CONF: 'narenas:2' }, jemalloc),
    ).toEqual({
      LD_PRELOAD: `${debianLib}:/lib/other.so`,
      MALLOC_CONF: 'narenas:2',
    });
  });

  it('asks for nothing when the process already runs on it, or on the system malloc', () => {
    expect(allocatorEnv({ LD_PRELOAD: `/lib/other.so ${debianLib}` }, jemalloc)).toBeUndefined();
    expect(allocatorEnv({}, { kind: 'system', reason: 'x' })).toBeUndefined();
  });
});
