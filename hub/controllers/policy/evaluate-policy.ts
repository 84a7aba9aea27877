/**
 * One ConfigurationPolicy evaluated against a cluster (issue 7): its object templates are
 * resolved with the cluster's discovery, the objects read (named: GET; unnamed: LIST in each
 * namespace), judged by the matcher, and under enforce the planned creates, updates and deletes
 * are made — all through `spoke`, i.e. the tunnel and the agent API as the hub controllers'
 * prefixed identity. A template that cannot be decoded, or names a kind the cluster does not
 * serve, is a NonCompliant template with a clear message; other failures (the cluster cannot be
 * reached) reject, and the caller retries. Stateless.
 */
import { HttpMethod } from '@kubernetes/client-node';

import type { ConfigurationPolicyStatus, ObjectTemplate, RelatedObject } from '../../api/index.ts';
import type { SpokeClient } from '../manifest-work/spoke-client.ts';
import { collectionPath, type ResourceRef } from '../manifest-work/resource-ref.ts';
import { isWorkError } from '../manifest-work/errors.ts';
import { templateStatus, type NamespaceResult, type TemplateStatus } from './compliance-message.ts';
import {
  evaluateTemplate,
  parseTemplate,
  REASON_DECODE_ERROR,
  relatedObjects,
  templateNamespaces,
  type KindInfo,
  type PlannedAction,
} from './matcher.ts';
import { selectNamespaces, type NamespaceSelector } from './namespace-selector.ts';
import { isMap, type JsonMap } from './object-compare.ts';

/** Reason of a template whose kind the cluster does not serve. */
export const REASON_UNKNOWN_KIND = 'K8s error';

/** What {@link evaluateConfigurationPolicy} needs of the cluster. */
export type PolicySpoke = Pick<
  SpokeClient,
  'resolve' | 'get' | 'create' | 'replace' | 'delete' | 'request'
>;

/** The spec fields the evaluation reads. */
export interface ConfigurationPolicyInput {
  /** The ConfigurationPolicy's name (for decode-error messages). */
  readonly name: string;
  readonly namespaceSelector?: NamespaceSelector;
  readonly objectTemplates: readonly Partial<ObjectTemplate>[];
  readonly isEnforce: boolean;
}

/** What the cluster's objects of one template's kind look like, for the watches. */
export interface WatchInterest {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  /** Undefined: any namespace (cluster-scoped kinds, or unnamed over every namespace). */
  readonly namespaces?: readonly string[];
  /** Undefined: any name (unnamed templates). */
  readonly name?: string;
}

/** The evaluation's result. */
export interface PolicyEvaluation {
  readonly templates: readonly TemplateStatus[];
  readonly status: Pick<
    ConfigurationPolicyStatus,
    'compliant' | 'compliancyDetails' | 'relatedObjects'
  >;
  /** What to watch so that a change on the cluster re-evaluates the policy. */
  readonly interests: readonly WatchInterest[];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function nameOf(o: JsonMap): string {
  return isMap(o.metadata) && typeof o.metadata.name === 'string' ? o.metadata.name : '';
}

async function listIn(
  spoke: PolicySpoke,
  kind: ResourceRef,
  namespace: string,
): Promise<JsonMap[]> {
  const list = await spoke.request(
    HttpMethod.GET,
    collectionPath(kind, namespace === '' ? undefined : namespace),
  );
  const items = list?.items;
  return Array.isArray(items) ? items.filter(isMap) : [];
}

const VERB_FAILED: Record<PlannedAction['verb'], [string, string]> = {
  create: ['K8s creation error', 'created'],
  update: ['K8s update template error', 'updated'],
  delete: ['K8s deletion error', 'deleted'],
};

/** See the module comment. `now` stamps the conditions. */
export async function evaluateConfigurationPolicy(
  spoke: PolicySpoke,
  policy: ConfigurationPolicyInput,
  now: Date,
): Promise<PolicyEvaluation> {
  const templates: TemplateStatus[] = [];
  const related: RelatedObject[] = [];
  const interests: WatchInterest[] = [];
  let namespaces: readonly string[] | undefined;
  let selectorError: string | undefined;
  const selected = async (): Promise<readonly string[]> => {
    if (namespaces !== undefined) return namespaces;
    if (policy.namespaceSelector === undefined) return (namespaces = []);
    const list = await listIn(
      spoke,
      { group: '', version: 'v1', resource: 'namespaces', name: '' },
      '',
    );
    const all = list.map((ns) => ({
      name: nameOf(ns),
      labels: (isMap(ns.metadata) && isMap(ns.metadata.labels) ? ns.metadata.labels : {}) as Record<
        string,
        string
      >,
    }));
    const selection = selectNamespaces(policy.namespaceSelector, all);
    if (!selection.ok) selectorError = selection.message;
    return (namespaces = selection.ok ? selection.namespaces : []);
  };
  for (const [index, raw] of policy.objectTemplates.entries()) {
    const failed = (reason: string, message: string): void => {
      templates.push(
        templateStatus('', new Map([['', { names: [], isCompliant: false, reason, message }]])),
      );
    };
    const template = parseTemplate(raw);
    if ('error' in template) {
      failed(
        REASON_DECODE_ERROR,
        `Decoding error, please check your policy file! Aborting handling the object template at index [${index}] in policy \`${policy.name}\` with error = \`${template.error}\``,
      );
      continue;
    }
    let kind: KindInfo & { group: string; version: string };
    try {
      const resolved = await spoke.resolve(template.apiVersion, template.kind);
      kind = { ...resolved, namespaced: resolved.namespaced };
    } catch (err: unknown) {
      if (!isWorkError(err, 'HUB_ERR_WORK_UNKNOWN_KIND')) throw err;
      failed(
        REASON_UNKNOWN_KIND,
        `couldn't find mapping resource with kind ${template.kind} in API version ${template.apiVersion}, please check if you have CRD deployed`,
      );
      continue;
    }
    const wanted = kind.namespaced && template.namespace === undefined ? await selected() : [];
    if (selectorError !== undefined && kind.namespaced && template.namespace === undefined) {
      failed(REASON_DECODE_ERROR, selectorError);
      continue;
    }
    const where = templateNamespaces(template, kind, wanted);
    const objects = new Map<string, JsonMap[]>();
    const gvr = { group: kind.group, version: kind.version, resource: kind.resource };
    for (const ns of where) {
      if (template.name !== '') {
        const found = await spoke.get({
          ...gvr,
          name: template.name,
          ...(ns === '' ? {} : { namespace: ns }),
        });
        objects.set(ns, found === undefined ? [] : [found as JsonMap]);
      } else {
        objects.set(ns, await listIn(spoke, { ...gvr, name: '' }, ns));
      }
    }
    interests.push({
      ...gvr,
      ...(kind.namespaced ? { namespaces: where } : {}),
      ...(template.name === '' ? {} : { name: template.name }),
    });
    const evaluation = evaluateTemplate(
      template,
      where,
      (ns) => objects.get(ns) ?? [],
      policy.isEnforce,
    );
    const results = new Map<string, NamespaceResult>(evaluation.results);
    const created = new Map<string, string>();
    for (const action of evaluation.actions) {
      const ref: ResourceRef = {
        ...gvr,
        name: action.name,
        ...(action.namespace === '' ? {} : { namespace: action.namespace }),
      };
      try {
        if (action.verb === 'create') {
          const answer = await spoke.create(ref, action.object);
          const uid = isMap(answer.metadata) ? answer.metadata.uid : undefined;
          if (typeof uid === 'string') created.set(`${action.namespace}/${action.name}`, uid);
        } else if (action.verb === 'update') await spoke.replace(ref, action.object);
        else {
          const meta = isMap(action.object.metadata) ? action.object.metadata : {};
          await spoke.delete(ref, typeof meta.uid === 'string' ? meta.uid : undefined);
        }
      } catch (err: unknown) {
        if (!isWorkError(err, 'HUB_ERR_WORK_SPOKE_API')) throw err;
        const [reason, done] = VERB_FAILED[action.verb];
        const place = action.namespace === '' ? '' : ` in namespace ${action.namespace}`;
        results.set(action.namespace, {
          names: [action.name],
          isCompliant: false,
          reason,
          message: `${kind.resource} [${action.name}]${place} could not be ${done}: ${errorText(err)}`,
        });
      }
    }
    templates.push(templateStatus(kind.resource, results));
    related.push(
      ...relatedObjects(template, kind, results, (ns, name) => {
        const uid = created.get(`${ns}/${name}`);
        return uid === undefined ? undefined : { createdByPolicy: true, uid };
      }),
    );
  }
  if (namespaces !== undefined && policy.namespaceSelector !== undefined) {
    // A namespace that starts or stops matching the selector changes the outcome.
    interests.push({ group: '', version: 'v1', resource: 'namespaces' });
  }
  const isCompliant = templates.every((t) => t.isCompliant);
  return {
    templates,
    interests,
    status: {
      compliant: isCompliant ? 'Compliant' : 'NonCompliant',
      compliancyDetails: templates.map((t) => ({
        Compliant: t.isCompliant ? 'Compliant' : 'NonCompliant',
        Validity: {},
        conditions: [
          {
            type: t.isCompliant ? 'notification' : 'violation',
            status: 'True',
            reason: t.reason,
            message: t.message,
            lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          },
        ],
      })),
      relatedObjects: related,
    },
  };
}
