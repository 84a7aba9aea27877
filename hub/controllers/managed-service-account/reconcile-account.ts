/**
 * One reconcile of one ManagedServiceAccount (key `<cluster namespace>/<name>`): what OCM's
 * agent does on the spoke (A5, A6), done by the hub through the tunnel.
 */
import { isDeepStrictEqual } from 'node:util';

import type { V1Secret } from '@kubernetes/client-node';

import type { ManagedServiceAccount, ManagedServiceAccountStatus } from '../../api/index.ts';
import { apiStatus, describeError, type KeyResult } from '../../kube/index.ts';
import { MsaError, isMsaError } from './errors.ts';
import { secretValue, tokenSecret, type HubAccounts } from './hub-accounts.ts';
import { failedStatus, syncedStatus, type SyncedToken } from './msa-status.ts';
import type { SpokeAccounts } from './spoke-accounts.ts';
import {
  MSA_INSTALL_NAMESPACE,
  MSA_LABEL,
  ROTATION_FRACTION,
  decideToken,
  expirationSecondsOf,
  rotationDueAt,
  tokenClaims,
} from './token-rotation.ts';

/** A reconcile after a rotation point is run at most this long after it was due, ms. */
export const ROTATION_SLACK_MS = 1_000;
/** The longest requeue asked for (the resync runs more often anyway), ms. */
export const MAX_REQUEUE_MS = 10 * 60_000;
/**
 * Failures in a row to reach a connected cluster at all (no answer from its API server: the
 * tunnel or the agent API) before `TokenReported` turns False. An agent that is going away is
 * still listed for a moment; its first failures must not be reported as the account's.
 */
export const UNREACHABLE_REPORT_AFTER = 3;

/** A sync the agent's departure cut short runs again after this long, ms. */
export const INTERRUPTED_RERUN_MS = 1_000;

/** What a reconcile needs; the controller builds it once. */
export interface AccountContext {
  readonly hub: HubAccounts;
  /** The spoke side of `cluster`, through the tunnel. */
  spoke(cluster: string): SpokeAccounts;
  /** Whether an agent of `cluster` is connected now. */
  isConnected(cluster: string): boolean;
  now(): Date;
  /** Default {@link ROTATION_FRACTION}. */
  readonly rotationFraction?: number;
  /** Unanswered failures in a row, per key (the controller's; reset on success). */
  readonly unreachable: Map<string, number>;
}

/** A spoke request that got no answer from the spoke's API server (tunnel, agent API). */
function isUnanswered(err: unknown): boolean {
  return isMsaError(err, 'HUB_ERR_MSA_SPOKE') && apiStatus(err.cause) === undefined;
}

/** The spoke identity of the account `name`. */
export function accountSubject(name: string): string {
  return `system:serviceaccount:${MSA_INSTALL_NAMESPACE}:${name}`;
}

/** Whether `secret` already is `wanted` in what the controller owns: label, owner, data. */
function isSecretCurrent(secret: V1Secret | undefined, wanted: V1Secret): boolean {
  return (
    secret?.metadata?.labels?.[MSA_LABEL] === 'true' &&
    isDeepStrictEqual(
      (secret.metadata.ownerReferences ?? []).map((o) => o.uid),
      (wanted.metadata?.ownerReferences ?? []).map((o) => o.uid),
    ) &&
    isDeepStrictEqual(secret.data ?? {}, wanted.data ?? {})
  );
}

/** Writes `status` when it differs; resolves false on a write conflict. */
async function writeStatus(
  ctx: AccountContext,
  msa: ManagedServiceAccount,
  status: ManagedServiceAccountStatus,
): Promise<boolean> {
  if (isDeepStrictEqual(status, msa.status ?? {})) return true;
  return ctx.hub.replaceStatus({ ...msa, status });
}

/**
 * Token present and valid, else a new one: resolves the status to write and when to look
 * again, or `again` after a write conflict. Rejects with {@link MsaError}.
 */
async function syncToken(
  ctx: AccountContext,
  msa: ManagedServiceAccount,
  cluster: string,
  name: string,
): Promise<{ synced: SyncedToken; dueAt: Date } | 'again'> {
  const fraction = ctx.rotationFraction ?? ROTATION_FRACTION;
  const expirationSeconds = expirationSecondsOf(msa);
  await ctx.hub.ensureSecretAccess(cluster);
  const spoke = ctx.spoke(cluster);
  const { isNew } = await spoke.ensureServiceAccount(name);
  const secret = await ctx.hub.getSecret(cluster, name);
  const stored = secretValue(secret, 'token');
  const subject = accountSubject(name);
  let decision = decideToken({
    token: stored,
    status: msa.status,
    expectedSubject: subject,
    isServiceAccountNew: isNew,
    now: ctx.now(),
    rotationFraction: fraction,
  });
  // E.g. the ServiceAccount was deleted and made again: its old tokens no longer authenticate.
  if (!decision.issue && !(await spoke.reviewToken(stored ?? '', subject)))
    decision = { issue: true, why: 'the token no longer authenticates' };
  const caPem = await spoke.caBundle();
  if (decision.issue) {
    const issued = await spoke.requestToken(name, expirationSeconds);
    const refreshedAt = ctx.now();
    if (!(await ctx.hub.writeSecret(tokenSecret(msa, issued.token, caPem), secret))) return 'again';
    const claims = tokenClaims(issued.token) ?? {
      subject,
      issuedAt: refreshedAt,
      expiresAt: issued.expiresAt,
    };
    return {
      synced: { secretName: name, expiresAt: issued.expiresAt, refreshedAt },
      dueAt: rotationDueAt({ ...claims, expiresAt: issued.expiresAt }, fraction),
    };
  }
  // The same token; the CA bundle, label or owner (an account made again) may be stale.
  const wanted = tokenSecret(msa, stored ?? '', caPem);
  if (!isSecretCurrent(secret, wanted) && !(await ctx.hub.writeSecret(wanted, secret)))
    return 'again';
  return {
    synced: { secretName: name, expiresAt: decision.claims.expiresAt, refreshedAt: undefined },
    dueAt: decision.dueAt,
  };
}

/**
 * Reconciles the account `namespace/name`:
 * - gone (or being deleted): if the cluster is connected its labelled ServiceAccount on the
 *   spoke is deleted, then its hub Secret (owner-reference GC would too); an unconnected
 *   cluster is swept when its agent returns (the controller lists the labelled ServiceAccounts
 *   then);
 * - in a namespace that is no ManagedCluster's: TokenReported False, nothing else;
 * - cluster not connected: nothing at all (no status is written: the last token and its real
 *   expiry stay as they are), the controller runs it again when an agent connects;
 * - else the ServiceAccount, the token (issued when {@link decideToken} or a TokenReview says
 *   so), the Secret and the status; requeued for its rotation point.
 * A failure while connected writes TokenReported False/TokenReportFailed with the message,
 * then rejects (the queue retries with backoff); a failure once the agent is gone writes
 * nothing and is no error: it runs again after {@link INTERRUPTED_RERUN_MS}. The first
 * {@link UNREACHABLE_REPORT_AFTER} − 1 failures in a row that got no answer from the spoke at
 * all write nothing and reject.
 */
export async function reconcileAccount(
  ctx: AccountContext,
  namespace: string,
  name: string,
): Promise<KeyResult> {
  const key = `${namespace}/${name}`;
  const msa = await ctx.hub.getAccount(namespace, name);
  if (msa === undefined || msa.metadata?.deletionTimestamp != null) {
    if (ctx.isConnected(namespace)) await ctx.spoke(namespace).deleteServiceAccount(name);
    // Garbage collection removes the Secret by its owner reference; deleting it here as well
    // makes it go at once. Best effort: a namespace the hub was never granted is GC's alone.
    await ctx.hub
      .ensureSecretAccess(namespace)
      .then(() => ctx.hub.deleteSecret(namespace, name))
      .catch(() => undefined);
    return {};
  }
  if (!(await ctx.hub.clusterExists(namespace))) {
    const message = `Namespace ${namespace} is not the namespace of a ManagedCluster: a ManagedServiceAccount works only in a cluster namespace.`;
    const written = await writeStatus(ctx, msa, failedStatus(msa.status, message, ctx.now()));
    return written ? {} : { again: true };
  }
  if (!ctx.isConnected(namespace)) return {};
  let result: Awaited<ReturnType<typeof syncToken>>;
  try {
    result = await syncToken(ctx, msa, namespace, name);
  } catch (err: unknown) {
    // The agent left during the sync: no status (it would be false) and no error (nothing
    // failed but the connection). A quiet rerun soon: it finds the cluster gone and waits for
    // the agent's return, or syncs if the agent came back before the controller noticed it left.
    if (!ctx.isConnected(namespace)) return { requeueAfterMs: INTERRUPTED_RERUN_MS };
    if (isUnanswered(err)) {
      const count = (ctx.unreachable.get(key) ?? 0) + 1;
      ctx.unreachable.set(key, count);
      if (count < UNREACHABLE_REPORT_AFTER) throw err;
    }
    const message = isMsaError(err) ? err.message : describeError(err);
    const written = await writeStatus(ctx, msa, failedStatus(msa.status, message, ctx.now()));
    if (!written) return { again: true };
    // A bad spec waits for its edit (a new generation runs it again); the rest is retried.
    if (isMsaError(err, 'HUB_ERR_MSA_INVALID_SPEC')) return {};
    throw err instanceof MsaError
      ? err
      : new MsaError('HUB_ERR_MSA_SPOKE', message, { cause: err });
  }
  ctx.unreachable.delete(key);
  if (result === 'again') return { again: true };
  const now = ctx.now();
  if (!(await writeStatus(ctx, msa, syncedStatus(msa.status, result.synced, now))))
    return { again: true };
  const waitMs = result.dueAt.getTime() - now.getTime() + ROTATION_SLACK_MS;
  return { requeueAfterMs: Math.min(MAX_REQUEUE_MS, Math.max(ROTATION_SLACK_MS, waitMs)) };
}
