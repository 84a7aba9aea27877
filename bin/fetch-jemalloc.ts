// Brings jemalloc to a Debian or Ubuntu machine that lacks it, for the processes the project
// starts itself: `sandbox up` and the benchmarks run the product as the container image does,
// on jemalloc (bin/allocator.ts says why). It asks apt for the distribution's `libjemalloc2`
// package file (`apt-get download`, which needs no root and installs nothing), unpacks it with
// `dpkg-deb` in a temporary folder and keeps the one shared library in the project's cache,
// where `chooseAllocator` finds it. A library that cannot be preloaded into Node is not kept.
//
// Nothing here is fatal: without apt, without the package, with SPOKELINK_ALLOCATOR set, or off
// Linux, the answer is the allocator the CLI would choose anyway, with the reason it is not
// jemalloc.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { type Allocator, allocatorEnv, cachedJemallocPath, chooseAllocator } from './allocator.ts';

const run = promisify(execFile);

/** The Debian package that holds jemalloc's shared library. */
export const JEMALLOC_PACKAGE = 'libjemalloc2';

export interface FetchJemallocOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  /** Whether a file exists (tests narrow where an installed jemalloc is looked for). */
  readonly exists?: (path: string) => boolean;
  /** One line per step (default: stderr). */
  readonly progress?: (line: string) => void;
}

/**
 * The allocator the CLI will choose for `env` once this returns: jemalloc when it is installed,
 * cached, or could be fetched now; else the system malloc with the reason. Throws only for a
 * SPOKELINK_ALLOCATOR path that does not exist (as `chooseAllocator` does).
 */
export async function fetchJemalloc(options: FetchJemallocOptions = {}): Promise<Allocator> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const chosen = chooseAllocator(env, platform, options.exists);
  const wanted = env['SPOKELINK_ALLOCATOR'] ?? 'auto';
  if (chosen.kind === 'jemalloc' || wanted !== 'auto' || platform !== 'linux') return chosen;

  const target = cachedJemallocPath(env);
  mkdirSync(dirname(target), { recursive: true });
  const work = mkdtempSync(join(dirname(target), '.fetch-'));
  try {
    progress(`jemalloc: not installed; fetching Debian's ${JEMALLOC_PACKAGE} into ${target}`);
    await run('apt-get', ['download', JEMALLOC_PACKAGE], { cwd: work, env });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (deb === undefined) throw new Error(`apt-get download ${JEMALLOC_PACKAGE} left no .deb`);
    const root = join(work, 'root');
    await run('dpkg-deb', ['-x', join(work, deb), root], { env });
    const library = findLibrary(join(root, 'usr', 'lib'));
    if (library === undefined) throw new Error(`${deb} holds no libjemalloc.so.2`);
    // Preload it into Node once before keeping it: a library that breaks every process started
    // with it must not be found by the CLI.
    const probe = allocatorEnv(env, { kind: 'jemalloc', library });
    await run(process.execPath, ['-e', '0'], { env: probe ?? env });
    const partial = join(work, 'libjemalloc.so.2');
    copyFileSync(library, partial);
    renameSync(partial, target);
    progress(`jemalloc: ${deb} unpacked; spokelink processes preload ${target}`);
    return { kind: 'jemalloc', library: target };
  } catch (err) {
    const reason = `no jemalloc installed and fetching ${JEMALLOC_PACKAGE} failed: ${describe(err)}`;
    progress(`jemalloc: ${reason}; running on the system malloc`);
    return { kind: 'system', reason };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `libjemalloc.so.2` in `lib` or one folder below it (Debian's multiarch folder). */
function findLibrary(lib: string): string | undefined {
  let entries;
  try {
    entries = readdirSync(lib, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (entry.name === 'libjemalloc.so.2' && entry.isFile()) return join(lib, entry.name);
  }
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(lib, entry.name, 'libjemalloc.so.2'))
    .find((path) => existsSync(path));
}

/** The first line of what a failed command or call said. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: unknown; stderr?: unknown };
  if (e.code === 'ENOENT') return `${(e as { path?: string }).path ?? 'a command'} not found`;
  const stderr = typeof e.stderr === 'string' ? e.stderr.trim() : '';
  const lines = (stderr === '' ? e.message : stderr).split('\n');
  // apt-get warns about its download sandbox when run as root; the error is the E: line.
  return lines.find((l) => l.startsWith('E:')) ?? lines[0] ?? e.message;
}
