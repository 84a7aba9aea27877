/**
 * Whether a Placement's tolerations let it select a tainted ManagedCluster, as OCM's placement
 * decides it (pkg/placement/plugins/tainttoleration): every taint of the cluster must be
 * tolerated, except that `PreferNoSelect` never excludes (OCM does not implement it) and
 * `NoSelectIfNew` does not exclude a cluster the placement has already chosen. A toleration
 * with `tolerationSeconds` tolerates only until the taint's `timeAdded` plus that many seconds
 * (a taint without `timeAdded` counts as added long ago); the earliest such expiry is reported
 * so the placement can be scheduled again when it falls due. Pure.
 */
import type { ManagedCluster, Taint, Toleration } from '../../api/index.ts';

/** What the tolerations decide for one cluster. */
export interface TolerationVerdict {
  readonly tolerated: boolean;
  /** When tolerated only until then: the earliest expiry, ms since the epoch. */
  readonly expiresAtMs?: number;
}

/**
 * Why the tolerations are unusable, or undefined: OCM refuses a toleration without a key
 * unless its operator is `Exists`, and an `Exists` toleration with a value.
 */
export function tolerationsProblem(
  tolerations: readonly Toleration[] | undefined,
): string | undefined {
  for (const [index, toleration] of (tolerations ?? []).entries()) {
    const operator = toleration.operator ?? 'Equal';
    if ((toleration.key ?? '') === '' && operator !== 'Exists')
      return `tolerations[${index}]: a toleration without a key must use operator Exists`;
    if (operator === 'Exists' && (toleration.value ?? '') !== '')
      return `tolerations[${index}]: operator Exists takes no value`;
  }
  return undefined;
}

/** Whether `toleration` tolerates `taint` at `nowMs`, and until when. */
function tolerates(taint: Taint, toleration: Toleration, nowMs: number): TolerationVerdict {
  if ((toleration.effect ?? '') !== '' && toleration.effect !== taint.effect)
    return { tolerated: false };
  if ((toleration.key ?? '') !== '' && toleration.key !== taint.key) return { tolerated: false };
  const operator = toleration.operator ?? 'Equal';
  const matched =
    operator === 'Exists' ||
    ((operator === 'Equal' || operator === '') && (toleration.value ?? '') === (taint.value ?? ''));
  if (!matched) return { tolerated: false };
  if (toleration.tolerationSeconds === undefined) return { tolerated: true };
  const addedMs = taint.timeAdded == null ? Number.NaN : Date.parse(taint.timeAdded);
  const expiresAtMs = addedMs + toleration.tolerationSeconds * 1000;
  // NaN (no timeAdded) compares false: expired.
  return nowMs < expiresAtMs ? { tolerated: true, expiresAtMs } : { tolerated: false };
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * Whether `cluster` may be selected by a placement with `tolerations` at `now`;
 * `isDecided`: the placement's decisions hold the cluster already (for `NoSelectIfNew`).
 */
export function clusterTolerated(
  cluster: ManagedCluster,
  tolerations: readonly Toleration[] | undefined,
  isDecided: boolean,
  now: Date,
): TolerationVerdict {
  const nowMs = now.getTime();
  let expiresAtMs: number | undefined;
  for (const taint of cluster.spec?.taints ?? []) {
    if (taint.effect === 'PreferNoSelect') continue;
    if (taint.effect === 'NoSelectIfNew' && isDecided) continue;
    const verdict = (tolerations ?? [])
      .map((toleration) => tolerates(taint, toleration, nowMs))
      .find((v) => v.tolerated);
    if (verdict === undefined) return { tolerated: false };
    expiresAtMs = earliest(expiresAtMs, verdict.expiresAtMs);
  }
  return expiresAtMs === undefined ? { tolerated: true } : { tolerated: true, expiresAtMs };
}
