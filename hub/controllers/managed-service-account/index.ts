// Public surface of hub/controllers/managed-service-account/: ManagedServiceAccounts through
// the tunnel (issue 6), their add-on, and a KubeConfig from an account's Secret.
export {
  MANAGED_SERVICE_ACCOUNT_ADDON,
  MSA_ADDON_NAME,
  createManagedServiceAccountAddOnController,
  type ManagedServiceAccountAddOnControllerOptions,
} from './addon.ts';
export {
  DEFAULT_MSA_RESYNC_MS,
  createManagedServiceAccountController,
  type ManagedServiceAccountController,
  type ManagedServiceAccountControllerOptions,
} from './controller.ts';
export { MSA_ERROR_CODES, MsaError, isMsaError, type MsaErrorCode } from './errors.ts';
export { MSA_SECRETS_CLUSTER_ROLE, SECRET_ACCESS_BINDING } from './hub-accounts.ts';
export {
  kubeConfigFromManagedServiceAccount,
  kubeConfigFromTokenSecret,
  type GatewayTarget,
  type ManagedServiceAccountKubeConfigOptions,
} from './msa-kubeconfig.ts';
export { failedStatus, syncedStatus, type SyncedToken } from './msa-status.ts';
export { accountSubject } from './reconcile-account.ts';
export {
  DEFAULT_VALIDITY,
  MIN_EXPIRATION_SECONDS,
  MSA_INSTALL_NAMESPACE,
  MSA_LABEL,
  ROTATION_FRACTION,
  decideToken,
  expirationSecondsOf,
  parseGoDuration,
  rotationDueAt,
  tokenClaims,
  type TokenClaims,
  type TokenDecision,
  type TokenObservation,
} from './token-rotation.ts';
