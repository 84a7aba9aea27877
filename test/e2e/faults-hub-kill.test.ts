// kill -9 of the hub process (proxy-server + controllers) in the middle of ManifestWork delivery
// and of a kubectl watch through its cluster gateway: the hub and a `spokelink agent` run as
// real child processes against the shared hub and spoke1. The hub comes back on the same ports,
// the agent reconnects by itself, the work converges, and no status ever claimed more than was
// true on the spoke.
import { describe, expect, it } from 'vitest';

import { CONFIG_MAPS, killScenario } from './faults-kill-kit.ts';
import { expectConverged } from './faults-monitor.ts';

const scenario = killScenario('fhk');
const { kit } = scenario;

describe('kill -9 of the hub process', () => {
  it('mid-delivery and mid-watch: the watch ends with an error, the work converges after the restart, nothing false is claimed', async () => {
    const { hub, available } = scenario;
    const { watch, raw } = await scenario.deliverWhileWatching();
    await hub.kill9();

    // The watches do not hang: the gateway's connections are gone. The raw response ends with
    // an error (no terminal chunk). kubectl ends too; it reports a broken watch stream only at
    // higher verbosity and exits as if the server had closed the watch (client-go's
    // StreamWatcher ends on any read error), so only its end is asserted.
    expect(await raw.end).toMatchObject({ how: 'error' });
    await watch.exit;

    // Nothing is delivered while no hub runs; the cluster's status is frozen as written.
    await hub.start();
    await expectConverged(kit, scenario.work, scenario.spokeNamespace, CONFIG_MAPS, () =>
      hub.child.logTail(),
    );
    // A new watch through the restarted hub's gateway works; no claim was ever false.
    await scenario.expectWatchAgainAndTrueClaims();
    // The cluster stayed or went back to Available.
    await kit.availableIs('True');
    expect(available.history.at(-1)?.status).toBe('True');
  });
});
