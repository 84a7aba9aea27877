/**
 * What the TLS layer established about an agent API caller, read once per connection after the
 * handshake and judged by `checkCaller` (request-policy.ts).
 */
import type { TLSSocket } from 'node:tls';

import type { CallerCertificate } from './request-policy.ts';

function organizationsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The caller's certificate as `checkCaller` needs it; never throws. */
export function describeCaller(socket: TLSSocket): CallerCertificate {
  const cert = socket.getPeerCertificate();
  const hasCertificate = cert !== null && typeof cert === 'object' && cert.raw !== undefined;
  const subject = (hasCertificate ? cert.subject : undefined) as
    Record<string, unknown> | undefined;
  const commonName = subject?.['CN'];
  const error = socket.authorizationError as unknown;
  return {
    hasCertificate,
    isAuthorized: socket.authorized,
    authorizationError: error instanceof Error ? error.message : (error as string | undefined),
    commonName: typeof commonName === 'string' ? commonName : undefined,
    organizations: organizationsOf(subject?.['O']),
  };
}
