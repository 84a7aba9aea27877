import type { TestProject } from 'vitest/node';

import { KubeConfig } from '@kubernetes/client-node';

import { allCrds, spokeCrds } from '../../hub/api/index.ts';
import { installCrds } from '../../hub/kube/index.ts';
import { type ControlPlane, ensureBinaries, startControlPlane } from '../../sandbox/index.ts';
import type { SharedControlPlane } from './shared-control-plane.ts';

/**
 * Starts the real control planes the e2e tests share, once per `vitest run`, and stops them
 * after the last file. Tests reach them with `inject('hub')`, `inject('spoke1')` and
 * `inject('spoke2')` (for two-spoke flows) and isolate themselves by namespace or name.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binaries = await ensureBinaries();
  // A hub and two spokes, started side by side (so the second spoke adds little to the set-up
  // time): each a real control plane.
  const [hub, spoke, spoke2] = await Promise.all([
    startControlPlane({ name: 'hub', binaries }),
    startControlPlane({ name: 'spoke1', binaries }),
    startControlPlane({ name: 'spoke2', binaries }),
  ]);
  // The OCM CRDs are installed once for the whole run (all kinds on the hub, spoke kinds on the
  // spoke). Files that install them again find them present and so never delete them: CRD
  // deletion is slow on a loaded API server and would race the next file's install.
  await Promise.all([
    installCrds(kubeConfigOf(hub), allCrds()),
    installCrds(kubeConfigOf(spoke), spokeCrds()),
    installCrds(kubeConfigOf(spoke2), spokeCrds()),
  ]);
  project.provide('hub', describePlane(hub));
  project.provide('spoke1', describePlane(spoke));
  project.provide('spoke2', describePlane(spoke2));
  return async () => {
    await Promise.all([hub.stop(), spoke.stop(), spoke2.stop()]);
  };
}

function describePlane(plane: ControlPlane): SharedControlPlane {
  return {
    name: plane.name,
    server: plane.server,
    kubeconfigPath: plane.kubeconfigPath,
    dir: plane.dir,
    servingCaPem: plane.servingCaPem,
    clientCa: plane.clientCa,
    admin: plane.admin,
    binaries: plane.binaries,
    timings: plane.timings,
    pids: plane.pids(),
  };
}

function kubeConfigOf(plane: ControlPlane): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigPath);
  return kc;
}
