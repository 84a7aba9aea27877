/**
 * The status of a ManagedServiceAccount, as OCM's agent writes it (A3): conditions
 * `SecretCreated` and `TokenReported`, `expirationTimestamp` (the token's real expiry) and
 * `tokenSecretRef { name, lastRefreshTimestamp }`. Pure; inputs are not changed.
 */
import {
  ManagedServiceAccountConditions as C,
  type ManagedServiceAccountStatus,
} from '../../api/index.ts';
import { conditionTime, setCondition } from '../../kube/index.ts';

/** What a successful sync established. */
export interface SyncedToken {
  /** The hub Secret (named after the account). */
  readonly secretName: string;
  /** The token's own expiry (TokenRequest `status.expirationTimestamp`, the JWT's `exp`). */
  readonly expiresAt: Date;
  /** When the token in the Secret was issued by this hub; undefined: keep the status's. */
  readonly refreshedAt: Date | undefined;
}

/**
 * Both conditions True with OCM's reasons, the token's real expiry, the Secret reference.
 * `lastTransitionTime` moves only when a condition's status changes.
 */
export function syncedStatus(
  previous: ManagedServiceAccountStatus | undefined,
  token: SyncedToken,
  now: Date,
): ManagedServiceAccountStatus {
  let conditions = setCondition(
    previous?.conditions ?? [],
    {
      type: C.SecretCreated,
      status: 'True',
      reason: C.ReasonSecretCreated,
      message: `The token Secret ${token.secretName} is created on the hub.`,
    },
    now,
  );
  conditions = setCondition(
    conditions,
    {
      type: C.TokenReported,
      status: 'True',
      reason: C.ReasonTokenReported,
      message: 'The token of the ServiceAccount on the cluster is reported in the Secret.',
    },
    now,
  );
  const lastRefreshTimestamp =
    token.refreshedAt === undefined
      ? (previous?.tokenSecretRef?.lastRefreshTimestamp ?? conditionTime(now))
      : conditionTime(token.refreshedAt);
  return {
    ...previous,
    conditions,
    expirationTimestamp: conditionTime(token.expiresAt),
    tokenSecretRef: { name: token.secretName, lastRefreshTimestamp },
  };
}

/**
 * `TokenReported` False with reason `TokenReportFailed` and `message`; everything else as it
 * was (the Secret, if any, still holds the last token, and `expirationTimestamp` still says
 * when that token expires).
 */
export function failedStatus(
  previous: ManagedServiceAccountStatus | undefined,
  message: string,
  now: Date,
): ManagedServiceAccountStatus {
  return {
    ...previous,
    conditions: setCondition(
      previous?.conditions ?? [],
      { type: C.TokenReported, status: 'False', reason: C.ReasonTokenReportFailed, message },
      now,
    ),
  };
}
