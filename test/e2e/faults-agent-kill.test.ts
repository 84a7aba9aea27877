// kill -9 of the agent process in the middle of ManifestWork delivery and of a watch through
// the cluster gateway: the hub (a child process) and a `spokelink agent` child against the
// shared hub and spoke1. The gateway's watches end with an error, the cluster turns Unknown and
// stays so while no agent runs, the restarted agent reconnects, the cluster is Available again,
// the work converges, and no status ever claimed more than was true on the spoke.
import { describe, expect, it } from 'vitest';

import { CONFIG_MAPS, killScenario } from './faults-kill-kit.ts';
import { expectConverged } from './faults-monitor.ts';

const scenario = killScenario('fak');
const { kit } = scenario;

describe('kill -9 of the agent', () => {
  it('mid-delivery and mid-watch: watches end with an error, Unknown while it is gone, then Available and converged', async () => {
    const { hub, agent, available } = scenario;
    const { watch, raw } = await scenario.deliverWhileWatching();
    await agent.kill9();

    // The gateway is up, the tunnel stream under each watch is gone: the response must end
    // broken, not as a watch the API server closed (a client would then just re-watch from a
    // resourceVersion it believes is current, and never learn the cluster was unreachable).
    expect(await raw.end).toMatchObject({ how: 'error' });
    await watch.exit;

    // Unknown once the hub sees no agent, and never True again until an agent is back.
    await kit.availableIs('Unknown');
    const unknownAt = Date.now();
    // A new watch through the gateway now fails at once (no agent), it does not hang.
    const refused = kit.rawWatch(hub.gateway, '/api/v1/namespaces/default/configmaps');
    expect(await refused.end).toMatchObject({ how: 'clean', status: 503 });
    expect(available.since(unknownAt)).not.toContain('True');

    agent.start();
    await kit.availableIs('True');
    await expectConverged(kit, scenario.work, scenario.spokeNamespace, CONFIG_MAPS, () =>
      agent.logTail(),
    );
    await scenario.expectWatchAgainAndTrueClaims();
    const history = available.history.map((h) => h.status);
    expect(history.slice(history.lastIndexOf('Unknown'))).toEqual(['Unknown', 'True']);
  });
});
