import type { TestProject } from 'vitest/node';

import { type ControlPlane, ensureBinaries, startControlPlane } from '../../sandbox/index.ts';
import type { SharedControlPlane } from './shared-control-plane.ts';

/**
 * Starts the real control planes the e2e tests share, once per `vitest run`, and stops them
 * after the last file. Tests reach them with `inject('hub')` and isolate themselves by
 * namespace or name.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binaries = await ensureBinaries();
  const hub = await startControlPlane({ name: 'hub', binaries });
  project.provide('hub', describePlane(hub));
  return async () => {
    await hub.stop();
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
