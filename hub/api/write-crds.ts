// Writes our CRDs as YAML, one file each: `node hub/api/write-crds.ts <dir> [all|hub|spoke]`.
// Deployment manifests are built from its output; the schemas in hub/api/ are the source.
import { writeCrdFiles } from './crd-files.ts';
import { allCrds, hubCrds, spokeCrds } from './registry.ts';

const SETS = { all: allCrds, hub: hubCrds, spoke: spokeCrds } as const;

const [dir, which = 'all'] = process.argv.slice(2);
if (dir === undefined || !Object.hasOwn(SETS, which)) {
  process.stderr.write('usage: node hub/api/write-crds.ts <dir> [all|hub|spoke]\n');
  process.exit(2);
}
const paths = await writeCrdFiles(dir, SETS[which as keyof typeof SETS]());
process.stdout.write(`${paths.join('\n')}\n`);
