/**
 * The ConfigurationPolicy matcher (issue 7): one object template against the objects a cluster
 * holds → per-namespace results (compliance and OCM's outcome), the related objects, and what
 * enforce must create, update or delete. Pure, no I/O: the evaluator reads the objects (through
 * the tunnel), calls {@link evaluateTemplate}, performs the planned actions and reports.
 *
 * Rules (OCM's): `musthave` / `mustonlyhave` / `mustnothave` as in object-compare.ts; `metadata`
 * is compared only for `labels` and `annotations` (with `metadataComplianceType`, default the
 * template's type; `kubectl.kubernetes.io/last-applied-configuration` ignored); `status` is
 * compared but never written; `mustonlyhave` also refuses top-level keys the template lacks
 * (except `metadata`, `status`, and a ServiceAccount's `secrets` / `imagePullSecrets`). A
 * template with `metadata.name` is one object per namespace (enforce creates, updates or deletes
 * it); one without a name is every object of the kind in the namespace (optionally those
 * `objectSelector` selects) and is never enforced. Namespaced kinds use the template's
 * namespace, else the namespaceSelector's; cluster-scoped kinds ignore both.
 */
import { type LabelSelector, type ObjectTemplate, type RelatedObject } from '../../api/index.ts';
import { compileLabelSelector } from '../cluster-set/label-selector.ts';
import { Outcomes, type NamespaceResult } from './compliance-message.ts';
import {
  isMap,
  mergeValue,
  valuesEqual,
  type Json,
  type JsonMap,
  type MergeMode,
  omitKeys,
} from './object-compare.ts';

/** The compliance type, case folded. */
export type Compliance = 'musthave' | 'mustonlyhave' | 'mustnothave';

/** Reason of a template that cannot be decoded (OCM's). */
export const REASON_DECODE_ERROR = 'K8s decode object definition error';
/** Reason of a namespaced template with no namespace to look in (OCM's). */
export const REASON_MISSING_NAMESPACE = 'K8s missing namespace';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const NEVER_PRUNED = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/** A template checked and normalised by {@link parseTemplate}. */
export interface ParsedTemplate {
  readonly compliance: Compliance;
  readonly metadataCompliance: MergeMode;
  readonly definition: JsonMap;
  readonly apiVersion: string;
  readonly kind: string;
  /** Empty for an unnamed template. */
  readonly name: string;
  /** The template's own namespace, if it names one. */
  readonly namespace?: string;
  readonly objectSelector?: LabelSelector;
}

/** What discovery says about the template's kind on the cluster. */
export interface KindInfo {
  /** Plural resource name, e.g. `configmaps` (it starts every message). */
  readonly resource: string;
  readonly namespaced: boolean;
}

/** One write enforce needs. `object` is the full body (an update carries its resourceVersion). */
export interface PlannedAction {
  readonly verb: 'create' | 'update' | 'delete';
  /** `''` for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  readonly object: JsonMap;
}

/** The matcher's verdict for one template, assuming every planned action succeeds. */
export interface TemplateEvaluation {
  /** By namespace (`''` for cluster-scoped objects or a template error). */
  readonly results: Map<string, NamespaceResult>;
  readonly actions: readonly PlannedAction[];
}

function foldCompliance(value: unknown): Compliance | undefined {
  const folded = typeof value === 'string' ? value.toLowerCase() : '';
  return folded === 'musthave' || folded === 'mustonlyhave' || folded === 'mustnothave'
    ? folded
    : undefined;
}

/**
 * Checks a template: `complianceType` one of the three (any case), `objectDefinition` an object
 * with string `apiVersion` and `kind`. Returns the parsed template or the reason it is malformed.
 */
export function parseTemplate(
  template: Partial<ObjectTemplate> | undefined,
): ParsedTemplate | { readonly error: string } {
  const compliance = foldCompliance(template?.complianceType);
  if (compliance === undefined) {
    return {
      error: `complianceType ${JSON.stringify(template?.complianceType ?? null)} is not musthave, mustonlyhave or mustnothave`,
    };
  }
  const definition = template?.objectDefinition as unknown;
  if (!isMap(definition)) return { error: 'objectDefinition is not an object' };
  const { apiVersion, kind } = definition;
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    return { error: 'objectDefinition has no apiVersion' };
  }
  if (typeof kind !== 'string' || kind === '') return { error: 'objectDefinition has no kind' };
  const metadata = definition.metadata;
  if (metadata !== undefined && !isMap(metadata)) {
    return { error: 'objectDefinition.metadata is not an object' };
  }
  const name = metadata?.name;
  const namespace = metadata?.namespace;
  if (
    (name !== undefined && typeof name !== 'string') ||
    (namespace !== undefined && typeof namespace !== 'string')
  ) {
    return { error: 'objectDefinition.metadata.name and .namespace must be strings' };
  }
  const metadataCompliance = foldCompliance(template?.metadataComplianceType) ?? compliance;
  return {
    compliance,
    metadataCompliance: metadataCompliance === 'mustonlyhave' ? 'mustonlyhave' : 'musthave',
    definition,
    apiVersion,
    kind,
    name: name ?? '',
    ...(namespace === undefined || namespace === '' ? {} : { namespace }),
    ...(template?.objectSelector === undefined ? {} : { objectSelector: template.objectSelector }),
  };
}

/**
 * The namespaces a template is evaluated in: `['']` for cluster-scoped kinds, the template's own
 * namespace, else the namespaceSelector's `selected` (empty: the template has nowhere to look,
 * which {@link evaluateTemplate} reports as a missing namespace).
 */
export function templateNamespaces(
  template: ParsedTemplate,
  kind: KindInfo,
  selected: readonly string[],
): readonly string[] {
  if (!kind.namespaced) return [''];
  if (template.namespace !== undefined) return [template.namespace];
  return selected;
}

function withoutLastApplied(value: Json | undefined): Json | undefined {
  if (!isMap(value) || !(LAST_APPLIED in value)) return value;
  return omitKeys(value, LAST_APPLIED);
}

/** How an existing object compares with the template. */
export interface ObjectComparison {
  /** Everything but `status` matches. */
  readonly isSpecMatch: boolean;
  /** `status` given in the template does not match (never fixed by enforce). */
  readonly isStatusMismatch: boolean;
  /** The existing object with the template merged in: the body of an update. */
  readonly merged: JsonMap;
}

/** Compares `existing` with the template (see the module comment). */
export function compareObject(
  template: ParsedTemplate,
  existing: JsonMap,
  mode: MergeMode = template.compliance === 'mustonlyhave' ? 'mustonlyhave' : 'musthave',
): ObjectComparison {
  const definition = template.definition;
  const merged: JsonMap = { ...existing };
  let isSpecMatch = true;
  let isStatusMismatch = false;
  for (const [key, value] of Object.entries(definition)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata') {
      if (!isMap(value)) continue;
      const oldMeta = isMap(existing.metadata) ? existing.metadata : {};
      const newMeta: JsonMap = { ...oldMeta };
      for (const field of ['labels', 'annotations'] as const) {
        const wanted = field === 'annotations' ? withoutLastApplied(value[field]) : value[field];
        if (wanted === undefined) continue;
        const old = field === 'annotations' ? withoutLastApplied(oldMeta[field]) : oldMeta[field];
        const next = mergeValue(wanted, old, template.metadataCompliance);
        if (!valuesEqual(next, old)) {
          isSpecMatch = false;
          const kept =
            field === 'annotations' && isMap(oldMeta.annotations)
              ? oldMeta.annotations[LAST_APPLIED]
              : undefined;
          newMeta[field] =
            kept === undefined || !isMap(next) ? next : { ...next, [LAST_APPLIED]: kept };
        }
      }
      merged.metadata = newMeta;
      continue;
    }
    const next = mergeValue(value, existing[key], mode);
    if (valuesEqual(next, existing[key])) continue;
    if (key === 'status') isStatusMismatch = true;
    else {
      isSpecMatch = false;
      merged[key] = next;
    }
  }
  if (mode === 'mustonlyhave') {
    for (const key of Object.keys(existing)) {
      if (key in definition || NEVER_PRUNED.has(key)) continue;
      if (template.kind === 'ServiceAccount' && (key === 'secrets' || key === 'imagePullSecrets')) {
        continue;
      }
      isSpecMatch = false;
      delete merged[key];
    }
  }
  return { isSpecMatch, isStatusMismatch, merged };
}

function nameOf(object: JsonMap): string {
  const metadata = isMap(object.metadata) ? object.metadata : {};
  return typeof metadata.name === 'string' ? metadata.name : '';
}

function labelsOf(object: JsonMap): Record<string, string> {
  const metadata = isMap(object.metadata) ? object.metadata : {};
  return isMap(metadata.labels) ? (metadata.labels as Record<string, string>) : {};
}

/** The object enforce creates: the template with its namespace, without `status`. */
function desiredObject(template: ParsedTemplate, namespace: string): JsonMap {
  const rest = omitKeys(template.definition, 'status');
  const metadata = isMap(rest.metadata) ? rest.metadata : {};
  return {
    ...rest,
    metadata: { ...metadata, name: template.name, ...(namespace === '' ? {} : { namespace }) },
  };
}

function evaluateNamed(
  template: ParsedTemplate,
  namespace: string,
  existing: JsonMap | undefined,
  isEnforce: boolean,
  actions: PlannedAction[],
): NamespaceResult {
  const names = [template.name];
  const result = (isCompliant: boolean, reason: string): NamespaceResult => ({
    names,
    isCompliant,
    reason,
  });
  if (template.compliance === 'mustnothave') {
    if (existing === undefined) return result(true, Outcomes.NotFoundAsExpected);
    if (!compareObject(template, existing, 'musthave').isSpecMatch) {
      return result(true, Outcomes.NotFoundAsExpected);
    }
    if (!isEnforce) return result(false, Outcomes.FoundShouldNotExist);
    actions.push({ verb: 'delete', namespace, name: template.name, object: existing });
    return result(true, Outcomes.Deleted);
  }
  if (existing === undefined) {
    if (!isEnforce) return result(false, Outcomes.NotFoundShouldExist);
    actions.push({
      verb: 'create',
      namespace,
      name: template.name,
      object: desiredObject(template, namespace),
    });
    // A status the template asks for cannot be created: it is checked on the next pass.
    return result(true, Outcomes.Created);
  }
  const comparison = compareObject(template, existing);
  if (comparison.isSpecMatch && !comparison.isStatusMismatch) {
    return result(true, Outcomes.FoundAsExpected);
  }
  if (!isEnforce || comparison.isSpecMatch) return result(false, Outcomes.FoundNoMatch);
  actions.push({ verb: 'update', namespace, name: template.name, object: comparison.merged });
  return comparison.isStatusMismatch
    ? result(false, Outcomes.FoundNoMatch)
    : result(true, Outcomes.Updated);
}

function evaluateUnnamed(template: ParsedTemplate, objects: readonly JsonMap[]): NamespaceResult {
  let candidates = objects;
  if (template.objectSelector !== undefined) {
    const compiled = compileLabelSelector(template.objectSelector);
    if (!compiled.ok) {
      return {
        names: [],
        isCompliant: false,
        reason: REASON_DECODE_ERROR,
        message: `objectSelector: ${compiled.message}`,
      };
    }
    candidates = objects.filter((o) => compiled.selector.matches(labelsOf(o)));
  }
  const mode = template.compliance === 'mustonlyhave' ? 'mustonlyhave' : 'musthave';
  const matching: string[] = [];
  const mismatching: string[] = [];
  for (const object of candidates) {
    const c = compareObject(template, object, mode);
    (c.isSpecMatch && !c.isStatusMismatch ? matching : mismatching).push(nameOf(object));
  }
  matching.sort();
  mismatching.sort();
  if (template.compliance === 'mustnothave') {
    return matching.length > 0
      ? { names: matching, isCompliant: false, reason: Outcomes.FoundShouldNotExist }
      : { names: [], isCompliant: true, reason: Outcomes.NotFoundAsExpected };
  }
  if (template.objectSelector !== undefined && candidates.length > 0) {
    // Selected objects are each held to the template.
    return mismatching.length > 0
      ? { names: mismatching, isCompliant: false, reason: Outcomes.FoundNoMatch }
      : { names: matching, isCompliant: true, reason: Outcomes.FoundAsExpected };
  }
  return matching.length > 0
    ? { names: matching, isCompliant: true, reason: Outcomes.FoundAsExpected }
    : { names: [], isCompliant: false, reason: Outcomes.NotFoundShouldExist };
}

/**
 * Evaluates `template` in each of `namespaces` (from {@link templateNamespaces}); `objects(ns)`
 * are the objects of the kind there (`''`: cluster-scoped) — for a named template, at least the
 * one of that name if it exists. `isEnforce` is ignored for unnamed templates (always inform).
 */
export function evaluateTemplate(
  template: ParsedTemplate,
  namespaces: readonly string[],
  objects: (namespace: string) => readonly JsonMap[],
  isEnforce: boolean,
): TemplateEvaluation {
  const results = new Map<string, NamespaceResult>();
  const actions: PlannedAction[] = [];
  if (namespaces.length === 0) {
    const subject = template.name === '' ? '' : `${template.name} `;
    results.set('', {
      names: template.name === '' ? [] : [template.name],
      isCompliant: false,
      reason: REASON_MISSING_NAMESPACE,
      message: `namespaced object ${subject}of kind ${template.kind} has no namespace specified from the policy namespaceSelector nor the object metadata`,
    });
    return { results, actions };
  }
  for (const namespace of namespaces) {
    const here = objects(namespace);
    results.set(
      namespace,
      template.name === ''
        ? evaluateUnnamed(template, here)
        : evaluateNamed(
            template,
            namespace,
            here.find((o) => nameOf(o) === template.name),
            isEnforce,
            actions,
          ),
    );
  }
  return { results, actions };
}

/**
 * The related objects of a template's results, as ConfigurationPolicy status lists them: one per
 * object name (an unnamed result with no names is `-`), sorted by namespace then name.
 */
export function relatedObjects(
  template: ParsedTemplate,
  kind: KindInfo,
  results: ReadonlyMap<string, NamespaceResult>,
  properties: (namespace: string, name: string) => RelatedObject['properties'] = () => undefined,
): RelatedObject[] {
  const out: RelatedObject[] = [];
  for (const [namespace, result] of results) {
    if (result.reason === REASON_MISSING_NAMESPACE || result.reason === REASON_DECODE_ERROR)
      continue;
    for (const name of result.names.length > 0 ? result.names : ['-']) {
      const extra = properties(namespace, name);
      out.push({
        object: {
          apiVersion: template.apiVersion,
          kind: template.kind,
          metadata: { name, ...(namespace === '' || !kind.namespaced ? {} : { namespace }) },
        },
        compliant: result.isCompliant ? 'Compliant' : 'NonCompliant',
        reason: result.reason,
        ...(extra === undefined ? {} : { properties: extra }),
      });
    }
  }
  return out.sort((a, b) => {
    const ka = `${a.object?.metadata?.namespace ?? ''}/${a.object?.metadata?.name ?? ''}`;
    const kb = `${b.object?.metadata?.namespace ?? ''}/${b.object?.metadata?.name ?? ''}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}
