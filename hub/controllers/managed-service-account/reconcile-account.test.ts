// What one reconcile does when the spoke fails it: the agent leaving mid-sync against a failure
// while it stays. The hub and spoke sides are in-memory stand-ins of the two interfaces the
// reconcile calls; the controller over a real API server and tunnel is in
// test/e2e/managed-service-account.test.ts.
import { describe, expect, it } from 'vitest';

import type { ManagedServiceAccount } from '../../api/index.ts';
import { MsaError } from './errors.ts';
import type { HubAccounts } from './hub-accounts.ts';
import {
  INTERRUPTED_RERUN_MS,
  reconcileAccount,
  UNREACHABLE_REPORT_AFTER,
  type AccountContext,
} from './reconcile-account.ts';
import type { SpokeAccounts } from './spoke-accounts.ts';

const CLUSTER = 'spoke-1';
const NAME = 'robot';

/** A context whose spoke fails every ensureServiceAccount after running `onCall`. */
function failingSpoke(onCall: () => void): {
  ctx: AccountContext;
  statuses: ManagedServiceAccount[];
  setConnected: (value: boolean) => void;
} {
  let connected = true;
  const statuses: ManagedServiceAccount[] = [];
  const msa: ManagedServiceAccount = {
    apiVersion: 'authentication.open-cluster-management.io/v1beta1',
    kind: 'ManagedServiceAccount',
    metadata: { name: NAME, namespace: CLUSTER, uid: 'u1', resourceVersion: '1' },
    spec: { rotation: { enabled: true, validity: '8640h0m0s' } },
  };
  const hub: HubAccounts = {
    getAccount: () => Promise.resolve(msa),
    replaceStatus: (m) => {
      statuses.push(m);
      return Promise.resolve(true);
    },
    clusterExists: () => Promise.resolve(true),
    getSecret: () => Promise.resolve(undefined),
    writeSecret: () => Promise.resolve(true),
    deleteSecret: () => Promise.resolve(),
    ensureSecretAccess: () => Promise.resolve(),
  };
  const refuse = (): never => {
    throw new Error('not reached in these tests');
  };
  const spoke: SpokeAccounts = {
    ensureServiceAccount: () => {
      onCall();
      return Promise.reject(
        new MsaError('HUB_ERR_MSA_SPOKE', `reading ServiceAccount on cluster ${CLUSTER}: boom`, {
          cause: new TypeError('fetch failed', { cause: new Error('other side closed') }),
        }),
      );
    },
    requestToken: refuse,
    reviewToken: refuse,
    deleteServiceAccount: refuse,
    caBundle: refuse,
  };
  const ctx: AccountContext = {
    hub,
    spoke: () => spoke,
    isConnected: () => connected,
    now: () => new Date('2026-03-01T10:00:00Z'),
    unreachable: new Map(),
  };
  return { ctx, statuses, setConnected: (value) => (connected = value) };
}

describe('reconcileAccount when the spoke fails it', () => {
  it('writes nothing and reports no error when the agent left during the sync, and runs again soon', async () => {
    const rig = failingSpoke(() => rig.setConnected(false));
    await expect(reconcileAccount(rig.ctx, CLUSTER, NAME)).resolves.toEqual({
      requeueAfterMs: INTERRUPTED_RERUN_MS,
    });
    expect(rig.statuses).toEqual([]);
    // The rerun finds the cluster gone and waits for the agent's return.
    await expect(reconcileAccount(rig.ctx, CLUSTER, NAME)).resolves.toEqual({});
  });

  it('rejects while the agent stays, and reports TokenReported False after repeated unanswered failures', async () => {
    const rig = failingSpoke(() => undefined);
    for (let run = 1; run < UNREACHABLE_REPORT_AFTER; run++) {
      await expect(reconcileAccount(rig.ctx, CLUSTER, NAME)).rejects.toThrow('boom');
      expect(rig.statuses).toEqual([]);
    }
    await expect(reconcileAccount(rig.ctx, CLUSTER, NAME)).rejects.toMatchObject({
      code: 'HUB_ERR_MSA_SPOKE',
    });
    const reported = rig.statuses
      .at(-1)
      ?.status?.conditions?.find((c) => c.type === 'TokenReported');
    expect([reported?.status, reported?.reason]).toEqual(['False', 'TokenReportFailed']);
    expect(reported?.message).toContain('boom');
  });
});
