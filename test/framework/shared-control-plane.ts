import type { CertificateAuthority } from '../../certs/index.ts';
import type { AdminCredentials, BinaryPaths, StartTimings } from '../../sandbox/index.ts';

/** What global setup tells test files about a shared control plane (plain, serializable data). */
export interface SharedControlPlane {
  name: string;
  server: string;
  kubeconfigPath: string;
  dir: string;
  servingCaPem: string;
  clientCa: CertificateAuthority;
  admin: AdminCredentials;
  binaries: BinaryPaths;
  timings: StartTimings;
  pids: Record<string, number>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    hub: SharedControlPlane;
    spoke1: SharedControlPlane;
    /** A second spoke, for flows across two clusters (placement, replica sets). */
    spoke2: SharedControlPlane;
  }
}
