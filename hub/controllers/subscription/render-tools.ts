import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { binaryCacheDir, helmCacheDir } from '../../../sandbox/index.ts';
import type { RenderTools } from './render.ts';

/**
 * The kubectl and helm a hub renders with when it is not told: the binaries the sandbox built
 * into its cache (`ensureBinaries`) when they are there, else `kubectl` and `helm` on PATH. Only
 * looks; never builds. A missing tool fails only the subscriptions that need it (kustomize
 * directories, charts), with `RenderFailed` naming the tool.
 */
export function defaultRenderTools(env: NodeJS.ProcessEnv = process.env): RenderTools {
  const cached = (dir: () => string, name: string) => {
    try {
      const path = join(dir(), name);
      return existsSync(path) ? path : name;
    } catch {
      return name; // a wrapper module that cannot be read: fall back to PATH
    }
  };
  return {
    kubectl: cached(() => binaryCacheDir(env), 'kubectl'),
    helm: cached(() => helmCacheDir(env), 'helm'),
  };
}
