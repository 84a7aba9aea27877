/**
 * `npm run fuzz`: property-based fuzzing of the tunnel protocol, hundreds of thousands of cases
 * (protocol/fuzz/: codec, flow-control windows, two real sessions under random frames).
 *
 *   node test/fuzz/run.ts [--runs N] [--seed S] [--target NAME]
 *
 * Progress goes to stderr; the last stdout line is JSON:
 * {"cases":…, "failures":0, "seed":…, "duration_s":…}. A failure prints fast-check's
 * counterexample (shrunk) and the command that replays it. Exit code 1 on any failure.
 */
import { parseArgs } from 'node:util';

import fc from 'fast-check';

import { FUZZ_TARGETS } from '../../protocol/fuzz/index.ts';

const DEFAULT_RUNS = 300_000;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: String(DEFAULT_RUNS) },
    seed: { type: 'string' },
    target: { type: 'string' },
    path: { type: 'string' },
  },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
  process.stderr.write('usage: node test/fuzz/run.ts [--runs N] [--seed S] [--target NAME]\n');
  process.exit(2);
}
const targets = FUZZ_TARGETS.filter((t) => values.target === undefined || t.name === values.target);
if (targets.length === 0) {
  process.stderr.write(`unknown target; one of: ${FUZZ_TARGETS.map((t) => t.name).join(', ')}\n`);
  process.exit(2);
}
const shares = targets.reduce((sum, t) => sum + t.share, 0);

const started = performance.now();
let cases = 0;
let failures = 0;
process.stderr.write(`fuzzing ${runs} cases, seed ${seed}\n`);
for (const target of targets) {
  const numRuns = Math.max(1, Math.round((runs * target.share) / shares));
  const t0 = performance.now();
  let done = 0;
  const progress = setInterval(() => {
    process.stderr.write(`  ${target.name}: ${done}/${numRuns}\n`);
  }, 10_000);
  // Counts executed cases for the progress line (a hook around every case).
  const property = (target.property() as unknown as fc.IPropertyWithHooks<never[]>).beforeEach(
    (previous) => {
      done++;
      return previous();
    },
  );
  const details = await fc.check(property, {
    numRuns,
    seed,
    ...(values.path === undefined ? {} : { path: values.path }),
  });
  clearInterval(progress);
  cases += details.numRuns;
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (details.failed) {
    failures++;
    process.stderr.write(`✗ ${target.name} failed after ${details.numRuns} cases (${seconds} s)\n`);
    process.stderr.write(`${fc.defaultReportMessage(details)}\n`);
    process.stderr.write(
      `${String((details.errorInstance as Error | undefined)?.stack ?? details.errorInstance)}\n`,
    );
    process.stderr.write(
      `replay: node test/fuzz/run.ts --target ${target.name} --seed ${details.seed} --path ${details.counterexamplePath ?? ''} --runs 1\n`,
    );
  } else {
    process.stderr.write(
      `✓ ${target.name}: ${details.numRuns} cases in ${seconds} s — ${target.what}\n`,
    );
  }
}
const durationS = Math.round((performance.now() - started) / 100) / 10;
process.stdout.write(`${JSON.stringify({ cases, failures, seed, duration_s: durationS })}\n`);
process.exitCode = failures === 0 ? 0 : 1;
