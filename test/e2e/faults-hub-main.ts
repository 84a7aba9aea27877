// The hub as a child process for the fault tests: `startHub` (proxy-server + controllers under
// Lease leader election) with fixed ports, so that a SIGKILLed hub comes back where its agents
// dial, and short Lease timings. Run as `node faults-hub-main.ts '<json HubChildConfig>'`.
// Prints one JSON line per event on stdout: `ready` (with the endpoints), then `leader` on each
// change of isLeader() (with a timestamp, checked every 50 ms). SIGTERM closes the hub.
import { KubeConfig } from '@kubernetes/client-node';

import { startHub } from '../../hub/hub-process/start-hub.ts';
import { describeError } from '../../hub/kube/index.ts';

/** What the test gives the child. */
export interface HubChildConfig {
  readonly kubeconfigPath: string;
  readonly serverId: string;
  readonly serverCount: number;
  readonly ports: {
    readonly agentGrpc: number;
    readonly frontendGrpc: number;
    readonly registration: number;
    readonly gateway: number;
    readonly health: number;
  };
  readonly lease: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
}

const LEADER_POLL_MS = 50;

const config = JSON.parse(process.argv[2] ?? '{}') as HubChildConfig;
const print = (event: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ ...event, at: Date.now() })}\n`);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(config.kubeconfigPath);
const hub = await startHub({
  hub: kubeConfig,
  serverId: config.serverId,
  serverCount: config.serverCount,
  listen: { ...config.ports, agentWebSocket: 0 },
  leaseTimings: config.lease,
  onError: (what, err) =>
    process.stderr.write(`${JSON.stringify({ msg: 'retried', what, err: describeError(err) })}\n`),
});
print({ event: 'ready', endpoints: hub.endpoints });
let isLeader = false;
setInterval(() => {
  if (hub.isLeader() === isLeader) return;
  isLeader = hub.isLeader();
  print({ event: 'leader', isLeader });
}, LEADER_POLL_MS);
process.once('SIGTERM', () => {
  void hub.close().finally(() => process.exit(0));
});
