// Child process of the soak benchmark: the hub (`startHub`: proxy-server with the cluster
// gateway and agent admission; the controllers with --controllers) on the ports given, so
// that a restarted hub is found where the old one was. Reports `{ ready: true }` once
// started; answers probes (soak-probe.ts) with the proxy-server's `stats()`. SIGTERM closes
// the hub gracefully and exits; the parent's SIGKILL is the crash.
import { KubeConfig } from '@kubernetes/client-node';
import { parseArgs } from 'node:util';

import { type Hub, startHub } from '../../hub/hub-process/start-hub.ts';
import { SILENT_LOGGER } from '../../proxy-server/index.ts';
import { report, runAsBenchChild } from './bench-kit.ts';
import { answerProbes } from './soak-probe.ts';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'agent-port': { type: 'string' },
    'frontend-port': { type: 'string' },
    'gateway-port': { type: 'string' },
    controllers: { type: 'boolean', default: false },
  },
});
const kc = new KubeConfig();
kc.loadFromFile(values.kubeconfig as string);
/** Set once started; read by the handlers below, which may run before. */
const running: { hub?: Hub } = {};
let errors = 0;
runAsBenchChild(() => running.hub?.server?.destroy());
answerProbes(() => {
  const stats = running.hub?.server?.stats();
  return stats === undefined ? undefined : { ...stats, retriedErrors: errors };
});
process.on('SIGTERM', () => {
  const closing = running.hub?.close() ?? Promise.resolve();
  const bound = setTimeout(() => process.exit(0), 20_000);
  void closing.finally(() => {
    clearTimeout(bound);
    process.exit(0);
  });
});
running.hub = await startHub({
  hub: kc,
  leaderElection: false,
  // Without the controllers only the soak's own traffic uses the tunnel, so idle means 0 streams.
  components: { proxyServer: true, controllers: values.controllers === true },
  logger: SILENT_LOGGER,
  listen: {
    agentGrpc: Number(values['agent-port']),
    agentWebSocket: 0,
    frontendGrpc: Number(values['frontend-port']),
    gateway: Number(values['gateway-port']),
    registration: 0,
    health: 0,
  },
  onError: () => {
    errors++;
  },
});
report({ ready: true });
