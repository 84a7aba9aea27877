// Public surface of hub/controllers/policy/: the governance policy framework (issue 7).
export {
  ensurePolicyAdmissionPolicy,
  MAX_POLICY_NAMESPACE_AND_NAME,
  POLICY_ADMISSION_POLICY_NAME,
  POLICY_NAME_TOO_LONG_MESSAGE,
  POLICY_REMEDIATION_UNSET_MESSAGE,
  policyAdmissionPolicy,
  policyAdmissionPolicyBinding,
} from './admission-policy.ts';
export {
  complianceEvents,
  complianceReason,
  POLICY_EVENT_COMPONENT,
  POLICY_STATUS_SYNC_REASON,
} from './compliance-events.ts';
export {
  Outcomes,
  policyMessage,
  templateStatus,
  type NamespaceResult,
  type Outcome,
  type TemplateStatus,
} from './compliance-message.ts';
export {
  evaluateConfigurationPolicy,
  REASON_UNKNOWN_KIND,
  type ConfigurationPolicyInput,
  type PolicyEvaluation,
  type PolicySpoke,
  type WatchInterest,
} from './evaluate-policy.ts';
export {
  createPolicyEvaluator,
  DEFAULT_EVALUATOR_RESYNC_MS,
  type PolicyEvaluator,
  type PolicyEvaluatorOptions,
} from './evaluator.ts';
export {
  compareObject,
  evaluateTemplate,
  parseTemplate,
  REASON_DECODE_ERROR,
  REASON_MISSING_NAMESPACE,
  relatedObjects,
  templateNamespaces,
  type Compliance,
  type KindInfo,
  type ObjectComparison,
  type ParsedTemplate,
  type PlannedAction,
  type TemplateEvaluation,
} from './matcher.ts';
export {
  compileGlob,
  selectNamespaces,
  type NamespaceInfo,
  type NamespaceSelection,
  type NamespaceSelector,
} from './namespace-selector.ts';
export {
  mergeValue,
  valuesEqual,
  type Json,
  type JsonMap,
  type MergeMode,
} from './object-compare.ts';
export {
  CONFIG_POLICY_ADDON,
  CONFIG_POLICY_ADDON_NAME,
  createPolicyAddOnControllers,
  POLICY_FRAMEWORK_ADDON,
  POLICY_FRAMEWORK_ADDON_NAME,
  type PolicyAddOnControllerOptions,
} from './policy-addon.ts';
export {
  eventName,
  isDue,
  MAX_HISTORY,
  parseInterval,
  replicaStatus,
  type EvaluationInterval,
  type TemplateOutcome,
} from './policy-status.ts';
export { policySetStatus, type PolicySetStatusInput } from './policy-set-status.ts';
export { kubePolicyStore, POLICY_FIELD_MANAGER, type PolicyStore } from './policy-store.ts';
export {
  aggregateCompliance,
  ARGOCD_COMPARE_ANNOTATION,
  clustersOf,
  decidePropagation,
  desiredReplica,
  replicaName,
  rootOf,
  TRIGGER_UPDATE_ANNOTATION,
  type Propagation,
  type PropagationInput,
} from './propagation.ts';
export {
  createPolicyPropagator,
  DEFAULT_PROPAGATOR_RESYNC_MS,
  type PolicyPropagator,
  type PolicyPropagatorOptions,
} from './propagator.ts';
