/**
 * Applies one manifest to the spoke with its update strategy and reads back what the status
 * needs. A failure of this manifest (unknown kind, refused by the spoke's API server, a
 * server-side apply conflict) becomes its own `Applied=False` with the API server's message;
 * only an unreachable spoke rejects (the whole reconcile then reports Unknown).
 */
import type { ManifestCondition, ManifestConfigOption, ManifestWorkSpec } from '../../api/index.ts';
import { DEFAULT_WORK_FIELD_MANAGER, WorkConditionTypes, WorkReasons } from '../../api/index.ts';
import {
  decideCreateOnly,
  decideUpdate,
  isJsonObject,
  requiredObject,
  serverSideApplyBody,
  type JsonObject,
  type OwnerReference,
  type WriteDecision,
} from './apply-decision.ts';
import { appliedResource, type AppliedResource } from './applied-work.ts';
import { evaluateConditionRules } from './condition-rules.ts';
import { isOrphaned } from './delete-plan.ts';
import { isWorkError, WorkError } from './errors.ts';
import { checkExecutor, executorVerbs } from './executor-check.ts';
import { ignoreFieldsBody } from './ignore-fields.ts';
import {
  findManifestConfig,
  identityKey,
  splitApiVersion,
  type ResourceRef,
} from './resource-ref.ts';
import type { ResolvedKind, SpokeApi } from './spoke-client.ts';
import { statusFeedback } from './status-feedback.ts';
import type { ManifestOutcome, ResourceMeta } from './work-status.ts';

/** How long a custom resource waits for the CRD this work just applied to be served, in ms. */
export const CRD_WAIT_MS = 5_000;
const CRD_POLL_MS = 250;
/** Attempts of an `Update` write that meets a concurrent writer (409) before giving up. */
const UPDATE_ATTEMPTS = 3;

/** What {@link applyManifest} needs besides the manifest. */
export interface ApplyContext {
  readonly client: SpokeApi;
  /** The ownerReference to the AppliedManifestWork. */
  readonly owner: OwnerReference;
  readonly configs: readonly ManifestConfigOption[] | undefined;
  /** Groups of CRDs applied earlier in this reconcile: their kinds are waited for. */
  readonly crdGroups: ReadonlySet<string>;
  /** `spec.executor`: checked with SubjectAccessReviews before each write (executor-check.ts). */
  readonly executor?: ManifestWorkSpec['executor'] | undefined;
  /** `spec.deleteOption`: an object it orphans needs no `delete` permission. */
  readonly deleteOption?: ManifestWorkSpec['deleteOption'] | undefined;
  /**
   * The objects the AppliedManifestWork records (`identityKey`s): an `Update` manifest whose
   * object is not among them is most likely new, so it is created first and read only when it
   * turns out to exist (409), one request instead of two.
   */
  readonly recorded?: ReadonlySet<string>;
}

/** The result for one manifest. */
export interface ManifestResult {
  readonly outcome: ManifestOutcome;
  /** Where it lives, when its kind resolved. */
  readonly ref?: ResourceRef;
  /** The record for the AppliedManifestWork, when applied (never for ReadOnly). */
  readonly record?: AppliedResource;
  /** The resourceVersion last seen, for the drift watch. */
  readonly resourceVersion?: string;
  /** A CRD this manifest applied defines this group. */
  readonly crdGroup?: string;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function metaOf(object: JsonObject): JsonObject {
  return isJsonObject(object.metadata) ? object.metadata : {};
}

/** Whether the manifest's `Complete` condition (from its rules) was True: it is not updated. */
function wasComplete(previous: ManifestCondition | undefined): boolean {
  return (
    previous?.conditions.some(
      (c) => c.type === WorkConditionTypes.Complete && c.status === 'True',
    ) === true
  );
}

async function resolveKind(
  ctx: ApplyContext,
  apiVersion: string,
  kind: string,
): Promise<ResolvedKind> {
  const { group } = splitApiVersion(apiVersion);
  const deadline = Date.now() + (ctx.crdGroups.has(group) ? CRD_WAIT_MS : 0);
  for (;;) {
    try {
      return await ctx.client.resolve(apiVersion, kind);
    } catch (err: unknown) {
      if (!isWorkError(err, 'HUB_ERR_WORK_UNKNOWN_KIND') || Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, CRD_POLL_MS));
    }
  }
}

async function write(
  client: SpokeApi,
  ref: ResourceRef,
  decision: WriteDecision,
  live: JsonObject | undefined,
): Promise<JsonObject | undefined> {
  switch (decision.action) {
    case 'create':
      return client.create(ref, decision.body);
    case 'update':
      return client.replace(ref, decision.body);
    case 'none':
      return live;
  }
}

/** Applies with `strategy`; resolves the live object afterwards (undefined: not there). */
async function applyWithStrategy(
  ctx: ApplyContext,
  ref: ResourceRef,
  required: JsonObject,
  config: ManifestConfigOption | undefined,
  isReadOnly: boolean,
): Promise<JsonObject | undefined> {
  const strategy = isReadOnly ? 'ReadOnly' : (config?.updateStrategy?.type ?? 'Update');
  switch (strategy) {
    case 'ReadOnly': {
      const live = await ctx.client.get(ref);
      if (live === undefined) {
        throw new WorkError('HUB_ERR_WORK_SPOKE_API', `${ref.resource} "${ref.name}" not found`, {
          status: 404,
          reason: 'NotFound',
        });
      }
      return live;
    }
    case 'ServerSideApply': {
      const ssa = config?.updateStrategy?.serverSideApply;
      const ignoreFields = ssa?.ignoreFields ?? [];
      const body =
        ignoreFields.length === 0
          ? required
          : ignoreFieldsBody(required, await ctx.client.get(ref), ignoreFields);
      return ctx.client.apply(
        ref,
        serverSideApplyBody(body, ctx.owner),
        ssa?.fieldManager ?? DEFAULT_WORK_FIELD_MANAGER,
        ssa?.force ?? false,
      );
    }
    case 'CreateOnly': {
      const live = await ctx.client.get(ref);
      return write(ctx.client, ref, decideCreateOnly(live, required, ctx.owner), live);
    }
    default: {
      if (ctx.recorded !== undefined && !ctx.recorded.has(identityKey(ref))) {
        try {
          return await write(
            ctx.client,
            ref,
            decideUpdate(undefined, required, ctx.owner),
            undefined,
          );
        } catch (err: unknown) {
          // It is there already (made by someone else, or recorded elsewhere): read and merge.
          if (!(err instanceof WorkError && err.status === 409)) throw err;
        }
      }
      for (let attempt = 1; ; attempt++) {
        const live = await ctx.client.get(ref);
        try {
          return await write(ctx.client, ref, decideUpdate(live, required, ctx.owner), live);
        } catch (err: unknown) {
          // Someone wrote in between (409) or created it first: read again and decide again.
          const isRace = err instanceof WorkError && err.status === 409;
          if (!isRace || attempt >= UPDATE_ATTEMPTS) throw err;
        }
      }
    }
  }
}

/**
 * Applies manifest `ordinal`. Resolves its result whatever the spoke answered; rejects only with
 * `HUB_ERR_WORK_SPOKE_UNREACHABLE`.
 */
export async function applyManifest(
  ctx: ApplyContext,
  manifest: JsonObject,
  ordinal: number,
  previous: ManifestCondition | undefined,
): Promise<ManifestResult> {
  const apiVersion = text(manifest.apiVersion);
  const kind = text(manifest.kind);
  const name = text(metaOf(manifest).name);
  const namespace = text(metaOf(manifest).namespace);
  const { group, version } = splitApiVersion(apiVersion ?? '');
  const partial: ResourceMeta = {
    ordinal,
    ...(group === '' ? {} : { group }),
    ...(version === '' ? {} : { version }),
    ...(kind === undefined ? {} : { kind }),
    ...(name === undefined ? {} : { name }),
    ...(namespace === undefined ? {} : { namespace }),
  };
  const unresolved = (message: string): ManifestResult => ({
    outcome: {
      meta: partial,
      applied: { ok: false, message },
      fetch: { state: 'incomplete' },
      feedback: statusFeedback(undefined, { group, version, kind: kind ?? '' }, undefined),
      rules: [],
    },
  });
  if (apiVersion === undefined || kind === undefined || name === undefined) {
    return unresolved('the manifest needs apiVersion, kind and metadata.name');
  }
  let resolved: ResolvedKind;
  try {
    resolved = await resolveKind(ctx, apiVersion, kind);
  } catch (err: unknown) {
    if (isWorkError(err, 'HUB_ERR_WORK_SPOKE_UNREACHABLE')) throw err;
    return unresolved(err instanceof Error ? err.message : String(err));
  }
  const ref: ResourceRef = {
    group,
    version,
    resource: resolved.resource,
    name,
    ...(resolved.namespaced ? { namespace: namespace ?? 'default' } : {}),
  };
  const meta: ResourceMeta = {
    ordinal,
    ...(group === '' ? {} : { group }),
    version,
    kind,
    resource: resolved.resource,
    name,
    ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
  };
  const config = findManifestConfig(ctx.configs, ref);
  const isReadOnly = config?.updateStrategy?.type === 'ReadOnly' || wasComplete(previous);
  let live: JsonObject | undefined;
  try {
    const isOrphan = isOrphaned(ctx.deleteOption, appliedResource(ref, undefined));
    await checkExecutor(
      ctx.client,
      ctx.executor,
      ref,
      executorVerbs({ isReadOnly, isOrphaned: isOrphan }),
    );
    live = await applyWithStrategy(
      ctx,
      ref,
      requiredObject(manifest, ref.namespace),
      config,
      isReadOnly,
    );
  } catch (err: unknown) {
    if (!(err instanceof WorkError) || err.code === 'HUB_ERR_WORK_SPOKE_UNREACHABLE') throw err;
    // Refused by the spoke: report it, and what is there now (if anything).
    let after: ManifestOutcome['fetch'];
    try {
      const current = await ctx.client.get(ref);
      after = current === undefined ? { state: 'missing' } : { state: 'found', live: current };
    } catch (getErr: unknown) {
      if (isWorkError(getErr, 'HUB_ERR_WORK_SPOKE_UNREACHABLE')) throw getErr;
      after = {
        state: 'failed',
        message: getErr instanceof Error ? getErr.message : String(getErr),
      };
    }
    const current = after.state === 'found' ? after.live : undefined;
    const rv = current === undefined ? undefined : text(metaOf(current).resourceVersion);
    return {
      outcome: {
        meta,
        applied: {
          ok: false,
          message: err.message,
          ...(err.code === 'HUB_ERR_WORK_IGNORE_FIELD'
            ? { reason: WorkReasons.AppliedManifestSSAIgnoreFieldError }
            : {}),
        },
        fetch: after,
        feedback: statusFeedback(current, { group, version, kind }, config?.feedbackRules),
        rules: evaluateConditionRules(current, { group, kind }, config?.conditionRules),
      },
      ref,
      ...(rv === undefined ? {} : { resourceVersion: rv }),
    };
  }
  const feedback = statusFeedback(live, { group, version, kind }, config?.feedbackRules);
  const rules = evaluateConditionRules(live, { group, kind }, config?.conditionRules);
  const uid = live === undefined ? undefined : text(metaOf(live).uid);
  const rv = live === undefined ? undefined : text(metaOf(live).resourceVersion);
  const crdGroup =
    group === 'apiextensions.k8s.io' && kind === 'CustomResourceDefinition'
      ? text((manifest.spec as { group?: unknown } | undefined)?.group)
      : undefined;
  return {
    outcome: {
      meta,
      applied: { ok: true },
      fetch: live === undefined ? { state: 'missing' } : { state: 'found', live },
      feedback,
      rules,
    },
    ref,
    ...(isReadOnly ? {} : { record: appliedResource(ref, uid) }),
    ...(rv === undefined ? {} : { resourceVersion: rv }),
    ...(crdGroup === undefined ? {} : { crdGroup }),
  };
}
