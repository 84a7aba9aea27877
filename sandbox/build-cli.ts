// `npm run k8s:build` (and the first step of `npm test`): builds (or finds in the cache) the
// Kubernetes binaries and prints where; and fetches jemalloc where the machine has none, so that
// the spokelink processes the tests start run on the allocator the product is deployed with.
import { fetchJemalloc } from '../bin/fetch-jemalloc.ts';
import { ensureBinaries } from './build.ts';
import { SandboxError } from './errors.ts';

try {
  const paths = await ensureBinaries();
  process.stderr.write(`k8s binaries: ${Object.values(paths).join(' ')}\n`);
  const allocator = await fetchJemalloc().catch((err: unknown) => {
    // Only a SPOKELINK_ALLOCATOR naming a missing file gets here.
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  });
  process.stderr.write(
    allocator.kind === 'jemalloc'
      ? `allocator: jemalloc (${allocator.library})\n`
      : `allocator: system malloc (${allocator.reason})\n`,
  );
} catch (err) {
  if (err instanceof SandboxError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
