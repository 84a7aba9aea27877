import { homedir } from 'node:os';
import { join } from 'node:path';

/** The Kubernetes release the sandbox builds and runs. Must match k8s-bins/go.mod. */
export const KUBERNETES_VERSION = 'v1.36.3';
/** The etcd release, the one Kubernetes v1.36.3 pins. Must match k8s-bins/go.mod. */
export const ETCD_VERSION = 'v3.6.8';
/** Oldest Go that builds this release (its go.mod says `go 1.26.0`). */
export const MIN_GO_MINOR = 26;

/** The binaries a control plane needs, all built from the wrapper module. */
export const BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kubectl', 'etcd'] as const;
export type BinaryName = (typeof BINARIES)[number];

/**
 * Root of the machine-wide cache (outside the repository). SPOKELINK_CACHE_DIR overrides it,
 * otherwise $XDG_CACHE_HOME/spokelink or ~/.cache/spokelink.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env['SPOKELINK_CACHE_DIR']) return env['SPOKELINK_CACHE_DIR'];
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.cache'), 'spokelink');
}

/** The helm release built for rendering charts (HelmRepo subscriptions). Must match helm-bin/go.mod. */
export const HELM_VERSION = 'v3.22.0';
