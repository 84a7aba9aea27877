// `npm run k8s:build`: builds (or finds in the cache) the Kubernetes binaries and prints where.
import { ensureBinaries } from './build.ts';
import { SandboxError } from './errors.ts';

try {
  const paths = await ensureBinaries();
  process.stderr.write(`k8s binaries: ${Object.values(paths).join(' ')}\n`);
} catch (err) {
  if (err instanceof SandboxError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
