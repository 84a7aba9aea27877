// `npm run bench`: runs every benchmark in turn; each prints JSON lines, its summary last.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = ['control-plane.ts'];
for (const bench of benches) {
  const result = spawnSync(
    process.execPath,
    [fileURLToPath(new URL(bench, import.meta.url)), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
