// Two `spokelink hub` replicas on one hub API server: both serve registration and tunnels,
// exactly one runs the controllers (Lease leader election); when it stops, the other takes
// over and registrations sent to either keep being signed.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, inject, it } from 'vitest';

import { createCsr, generateKeyPair, parseCertificate } from '../../certs/index.ts';
import { hubCrds } from '../../hub/api/index.ts';
import { type Hub, startHub } from '../../hub/hub-process/start-hub.ts';
import { installCrds } from '../../hub/kube/index.ts';
import { BootstrapTokens } from '../../hub/registration/bootstrap-tokens.ts';
import { ensureHubNamespace, ensureHubPki } from '../../hub/registration/hub-pki.ts';
import { AGENT_ORGANIZATION, agentCommonName } from '../../protocol/index.ts';
import { RegistrationClient } from '../../proxy-agent/index.ts';
import { eventually } from '../framework/kubectl.ts';

const hubPlane = inject('hub');

const PORTS = {
  agentGrpc: 0,
  agentWebSocket: 0,
  frontendGrpc: 0,
  registration: 0,
  gateway: 0,
  health: 0,
};
const LEASE = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

describe('hub replicas', () => {
  const kc = new KubeConfig();
  kc.loadFromFile(hubPlane.kubeconfigPath);
  const hubs: Hub[] = [];

  afterAll(async () => {
    await Promise.all(hubs.map((h) => h.close()));
  });

  async function register(hub: Hub, cluster: string): Promise<string> {
    const { token } = await new BootstrapTokens(kc).create({ ttlSeconds: 300 });
    const client = new RegistrationClient({
      hubUrl: hub.endpoints.registration ?? '',
      caPem: hub.pki.ca.certPem,
    });
    let status = await client.submit(token, {
      clusterName: cluster,
      agentName: 'agent',
      csr: createCsr({
        commonName: agentCommonName(cluster, 'agent'),
        organizations: [AGENT_ORGANIZATION],
        keyPair: generateKeyPair(),
      }),
    });
    status = await eventually(`the certificate of ${cluster}`, async () => {
      const current =
        status.phase === 'Issued' ? status : await client.status(status.name, { token });
      return current.phase === 'Issued' ? current : undefined;
    });
    return status.certificate ?? '';
  }

  it('run the controllers on one replica at a time, and either serves registration', async () => {
    await installCrds(kc, hubCrds());
    await ensureHubNamespace(kc);
    await ensureHubPki(kc, { serverNames: ['127.0.0.1'] });
    for (const id of ['replica-a', 'replica-b']) {
      hubs.push(
        await startHub({
          hub: kc,
          serverId: id,
          listen: PORTS,
          autoAccept: true,
          leaseTimings: LEASE,
        }),
      );
    }
    const [a, b] = hubs as [Hub, Hub];
    const leader = await eventually('one leader', async () => {
      const leaders = hubs.filter((h) => h.isLeader());
      return leaders.length === 1 ? leaders[0] : undefined;
    });
    const follower = leader === a ? b : a;
    expect(follower.isLeader()).toBe(false);

    // A registration sent to the follower is signed by the leader's controller.
    const first = await register(follower, 'replica-c1');
    expect(parseCertificate(first).commonName).toBe(agentCommonName('replica-c1', 'agent'));

    // The leader goes away (releasing its Lease): the follower takes over and signs.
    await leader.close();
    hubs.splice(hubs.indexOf(leader), 1);
    await eventually('the follower to lead', async () => (follower.isLeader() ? true : undefined));
    const second = await register(follower, 'replica-c2');
    expect(parseCertificate(second).commonName).toBe(agentCommonName('replica-c2', 'agent'));
  });
});
