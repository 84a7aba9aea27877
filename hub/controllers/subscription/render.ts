/**
 * Turning source files into Kubernetes objects on the hub: multi-document YAML, kustomize
 * directories through the real `kubectl kustomize`, and Helm charts (a chart directory from Git
 * or a downloaded `.tgz`) through the `helm template` of the helm binary the sandbox builds.
 * Tools run with a private HOME and helm's cache, config and data folders in a scratch folder,
 * so no user configuration or repository list is read. Stateless.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { parseAllDocuments, stringify } from 'yaml';

import { SubscriptionError } from './errors.ts';
import type { SourceObject } from './package-filter.ts';
import { lastLine, runTool, ToolFailure } from './run-tool.ts';

/** The binaries the renderers run. */
export interface RenderTools {
  /** `kubectl` (for `kubectl kustomize`). */
  readonly kubectl: string;
  /** `helm` (for `helm template`). */
  readonly helm: string;
}

/**
 * The Kubernetes objects of a YAML text: every document with a string `apiVersion` and `kind`
 * (others are ignored, as OCM does); `List` objects are unfolded. `where` names the file in
 * errors (`HUB_ERR_SUB_RENDER_FAILED` on a YAML syntax error).
 */
export function parseObjects(text: string, where: string): SourceObject[] {
  const out: SourceObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    const first = doc.errors[0];
    if (first !== undefined) {
      throw new SubscriptionError(
        'HUB_ERR_SUB_RENDER_FAILED',
        `${where} is not valid YAML: ${first.message.split('\n')[0] ?? ''}`,
      );
    }
    const value: unknown = doc.toJS();
    collect(value, out);
  }
  return out;
}

function collect(value: unknown, out: SourceObject[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const o = value as Record<string, unknown>;
  if (typeof o['apiVersion'] !== 'string' || typeof o['kind'] !== 'string') return;
  if (o['kind'] === 'List' && Array.isArray(o['items'])) {
    for (const item of o['items'] as unknown[]) collect(item, out);
    return;
  }
  out.push(o as SourceObject);
}

/** Reads and parses plain YAML files; `root` only shortens the names in errors. */
export function readYamlFiles(root: string, files: readonly string[]): SourceObject[] {
  return files.flatMap((f) => parseObjects(readFileSync(f, 'utf8'), relative(root, f)));
}

function toolEnv(scratch: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: scratch,
    HELM_CACHE_HOME: join(scratch, 'cache'),
    HELM_CONFIG_HOME: join(scratch, 'config'),
    HELM_DATA_HOME: join(scratch, 'data'),
    KUBECONFIG: join(scratch, 'no-kubeconfig'),
    LANG: 'C',
  };
}

async function withScratch<T>(run: (scratch: string) => Promise<T>): Promise<T> {
  const scratch = mkdtempSync(join(tmpdir(), 'spokelink-render-'));
  try {
    return await run(scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function renderFailure(what: string, err: unknown): SubscriptionError {
  const why = err instanceof ToolFailure ? lastLine(err.stderrTail) || err.message : String(err);
  return new SubscriptionError('HUB_ERR_SUB_RENDER_FAILED', `${what} failed: ${why}`, {
    cause: err,
  });
}

/**
 * `kubectl kustomize <dir>` → objects. The caller has checked the repository with
 * `assertLocalKustomizations` first. `shown` names the directory in errors.
 */
export async function kustomize(
  tools: RenderTools,
  dir: string,
  shown: string,
): Promise<SourceObject[]> {
  return withScratch(async (scratch) => {
    let out: Buffer;
    try {
      out = await runTool(tools.kubectl, ['kustomize', dir], { env: toolEnv(scratch) });
    } catch (err: unknown) {
      throw renderFailure(`kustomize build of "${shown}"`, err);
    }
    return parseObjects(out.toString(), `kustomize output of "${shown}"`);
  });
}

/** What `helm template` renders. */
export interface HelmTemplateInput {
  /** A chart directory or `.tgz` file. */
  readonly chart: string;
  readonly releaseName: string;
  readonly namespace: string;
  /** Values (`packageOverrides` `path: spec`); undefined: the chart's defaults. */
  readonly values?: Record<string, unknown>;
  /** Names the chart in errors. */
  readonly shown: string;
}

/**
 * `helm template <release> <chart> --namespace <ns> --include-crds --skip-tests [-f values]` →
 * objects (chart tests are not part of an install).
 * Rejects with `HUB_ERR_SUB_RENDER_FAILED` and helm's last error line.
 */
export async function helmTemplate(
  tools: RenderTools,
  input: HelmTemplateInput,
): Promise<SourceObject[]> {
  return withScratch(async (scratch) => {
    const args = [
      'template',
      input.releaseName,
      input.chart,
      '--namespace',
      input.namespace,
      '--include-crds',
      '--skip-tests',
    ];
    if (input.values !== undefined) {
      const file = join(scratch, 'values.yaml');
      writeFileSync(file, stringify(input.values), { mode: 0o600 });
      args.push('--values', file);
    }
    let out: Buffer;
    try {
      out = await runTool(tools.helm, args, { env: toolEnv(scratch) });
    } catch (err: unknown) {
      throw renderFailure(`helm template of ${input.shown}`, err);
    }
    return parseObjects(out.toString(), `helm template output of ${input.shown}`);
  });
}
