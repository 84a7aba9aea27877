export {
  REGISTRATION_REQUEST_TIMEOUT_MS,
  RegistrationClient,
  RegistrationRefusedError,
  discoverHub,
} from './registration-client.ts';
export type { DiscoverOptions } from './registration-client.ts';
export { startRegisteredAgent } from './registered-agent.ts';
export type { RegisteredAgent, RegisteredAgentOptions } from './registered-agent.ts';
export { SpokeSecrets } from './spoke-secrets.ts';
export type { BootstrapConfig, StoredIdentity } from './spoke-secrets.ts';
