/**
 * Where an object lives on a spoke: group, version, resource (plural), namespace, name; its API
 * paths; and the version-less identity that ManifestWork rules (`resourceIdentifier`,
 * `orphaningRules`) and AppliedManifestWork records are matched by.
 */
import type { ManifestConfigOption, ResourceIdentifier } from '../../api/index.ts';

/** A group/version/resource: one collection of the spoke's API (one watch per GVR). */
export interface Gvr {
  /** `''` for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural resource name, e.g. `deployments`. */
  readonly resource: string;
}

/** One object on the spoke. `namespace` is absent for cluster-scoped objects. */
export interface ResourceRef extends Gvr {
  readonly namespace?: string;
  readonly name: string;
}

/** `apps/v1` → `{ group: 'apps', version: 'v1' }`; `v1` → `{ group: '', version: 'v1' }`. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The path of a group/version's discovery document or of its collections' root. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** The collection path of `gvr`, in `namespace` or cluster-wide. */
export function collectionPath(gvr: Gvr, namespace?: string): string {
  const root = groupVersionPath(gvr.group, gvr.version);
  const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${root}${scope}/${gvr.resource}`;
}

/** The path of one object. */
export function objectPath(ref: ResourceRef): string {
  return `${collectionPath(ref, ref.namespace)}/${encodeURIComponent(ref.name)}`;
}

/** `group/version/resource`: the key of one watch. */
export function gvrKey(gvr: Gvr): string {
  return `${gvr.group}/${gvr.version}/${gvr.resource}`;
}

/** `namespace/name` (namespace empty for cluster-scoped objects): an object within a GVR. */
export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** The version-less identity of an object: `group/resource/namespace/name`. */
export function identityKey(ref: {
  readonly group?: string;
  readonly resource: string;
  readonly namespace?: string;
  readonly name: string;
}): string {
  return `${ref.group ?? ''}/${ref.resource}/${ref.namespace ?? ''}/${ref.name}`;
}

/** Whether a `resourceIdentifier` / orphaning rule names `ref` (group and namespace default ''). */
export function identifies(rule: ResourceIdentifier, ref: ResourceRef): boolean {
  return identityKey(rule) === identityKey(ref);
}

/** The manifestConfigs entry for `ref`, if any (the first that names it, as OCM does). */
export function findManifestConfig(
  configs: readonly ManifestConfigOption[] | undefined,
  ref: ResourceRef,
): ManifestConfigOption | undefined {
  return configs?.find((config) => identifies(config.resourceIdentifier, ref));
}
