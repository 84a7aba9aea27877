/**
 * The agent's install on a spoke as one YAML stream: the spoke CRDs (ClusterClaim,
 * AppliedManifestWork) and the objects `spokelink join` applies ({@link spokeObjects}), in
 * apply order (CRDs, then the namespace, then what lives in it). `spokelink join --output yaml`
 * prints it and `deploy/agent/` holds an example of it; both come from the code join applies,
 * so they cannot drift from it. Pure.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';

import { renderCrd, spokeCrds } from '../api/index.ts';
import { type JoinSpec, spokeObjects } from './spoke-objects.ts';

/** The objects, CRDs first. */
export function agentManifests(spec: JoinSpec): KubernetesObject[] {
  return [
    ...spokeCrds().map((def) => renderCrd(def) as unknown as KubernetesObject),
    ...spokeObjects(spec),
  ];
}

/**
 * {@link agentManifests} as a multi-document YAML stream for `kubectl apply -f`, after `header`
 * (comment lines, each starting with `#` and ending with a newline). The bootstrap Secret holds
 * `spec.token`: the text is a secret.
 */
export function agentManifestsYaml(spec: JoinSpec, header = ''): string {
  // Single quotes and no folding: the repository's Prettier style, so the checked-in example
  // passes `prettier --check` as generated.
  return (
    header +
    agentManifests(spec)
      .map((object) => stringify(object, { lineWidth: 0, singleQuote: true }))
      .join('---\n')
  );
}
