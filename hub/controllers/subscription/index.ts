// Public surface of hub/controllers/subscription/: Channel and Subscription delivery (issue 8).
export {
  APPLICATION_ADDON,
  APPLICATION_ADDON_NAME,
  createApplicationAddOnController,
  type ApplicationAddOnControllerOptions,
} from './addon.ts';
export {
  ensureSubscriptionAdmissionPolicy,
  PRIVILEGE_REFUSED_MESSAGE,
  SUBSCRIPTION_POLICY_NAME,
  subscriptionAdmissionPolicy,
} from './admission-policy.ts';
export {
  CHANNEL_READER_CLUSTER_ROLE,
  kubeChannelRefReader,
  type ChannelAccess,
  type ChannelRefReader,
} from './channel-access.ts';
export {
  createSubscriptionController,
  DEFAULT_SUBSCRIPTION_RESYNC_MS,
  FAILED_SOURCE_RETRY_MS,
  PLACEMENT_RULE_LABEL,
  RECONCILE_RATE_MS,
  type SubscriptionController,
  type SubscriptionControllerOptions,
} from './controller.ts';
export { HOSTING_SUBSCRIPTION_LABEL, hostingLabelValue, workName } from './delivery.ts';
export {
  isSubscriptionError,
  SUBSCRIPTION_ERROR_CODES,
  SUBSCRIPTION_ERROR_REASONS,
  SubscriptionError,
  type SubscriptionErrorCode,
} from './errors.ts';
export { NAMESPACE_CHANNEL_MESSAGE } from './resolve-source.ts';
export { CLUSTER_REPORT_LABEL } from './subscription-status.ts';
export type { RenderTools } from './render.ts';
export { defaultRenderTools } from './render-tools.ts';
