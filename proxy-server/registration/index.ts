export { RegistrationError, isRegistrationError } from './registration-backend.ts';
export type { RegistrationBackend, RegistrationCaller } from './registration-backend.ts';
export { RegistrationListener } from './registration-listener.ts';
export type { RegistrationListenerOptions } from './registration-listener.ts';
