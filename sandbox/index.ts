// Public surface of sandbox/: real local control planes and the build of their binaries.
export {
  binaryCacheDir,
  type BinaryPaths,
  ensureBinaries,
  type EnsureBinariesOptions,
  formatDuration,
  type KubernetesBinaryPaths,
} from './build.ts';
export { ensureHelm, type EnsureHelmOptions, helmCacheDir } from './helm-build.ts';
export {
  type ControlPlane,
  type ControlPlaneOptions,
  CONTROLLERS,
  startControlPlane,
  type StartTimings,
  sweepStale,
} from './control-plane.ts';
export { type AdminCredentials, apiGet, apiRequest } from './api-probe.ts';
export { SANDBOX_ERROR_CODES, SandboxError, type SandboxErrorCode } from './errors.ts';
export {
  BINARIES,
  type BinaryName,
  cacheRoot,
  ETCD_VERSION,
  HELM_VERSION,
  KUBERNETES_VERSION,
} from './versions.ts';
