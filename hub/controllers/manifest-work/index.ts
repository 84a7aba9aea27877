// Public surface of hub/controllers/manifest-work/: ManifestWork delivery through the tunnel.
export {
  ensureManifestWorkAdmissionPolicy,
  MANIFEST_LIMIT_BYTES,
  MANIFEST_WORK_POLICY_NAME,
  manifestWorkAdmissionPolicy,
  manifestWorkAdmissionPolicyBinding,
} from './admission-policy.ts';
export { applyOrder, kindRank, UNKNOWN_KIND_RANK } from './apply-order.ts';
export { appliedWorkName, hubHashOf } from './applied-work.ts';
export {
  createManifestWorkController,
  DEFAULT_WORK_RESYNC_MS,
  type ManifestWorkController,
  type ManifestWorkControllerOptions,
} from './controller.ts';
export { isOrphaned, planDeletion, type DeletePlan } from './delete-plan.ts';
export {
  isWorkError,
  WORK_ERROR_CODES,
  WorkError,
  type WorkErrorCode,
  type WorkErrorOptions,
} from './errors.ts';
export { FEEDBACK_PATH_SUBSET, statusFeedback, type FeedbackResult } from './status-feedback.ts';
