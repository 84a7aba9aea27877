/**
 * How a Git channel's credentials and CA bundle reach the `git` CLI: through the environment of
 * the one `git fetch` that needs them, never argv (which every local user can read) and never the
 * URL (which shows in status messages and git's own errors).
 * - Basic auth: a credential helper configured through `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_<n>`/
 *   `GIT_CONFIG_VALUE_<n>` for the channel's origin only (`credential.<scheme>://<host>.helper`),
 *   so git hands the credentials to that origin alone (not to a host a redirect leads to). The
 *   helper is a fixed shell function that prints two environment variables; the values are in
 *   the environment of git and its helper, nowhere else.
 * - CA bundle: `http.sslCAInfo`, a file written by the caller (the bundled roots plus the
 *   channel's `caCerts`), removed after the fetch.
 * Pure functions; safe to call concurrently.
 */
import { rootCertificates } from 'node:tls';

import type { ChannelAccess } from './channel-access.ts';

/** Environment variable the credential helper reads the user name from. */
export const GIT_USERNAME_ENV = 'SPOKELINK_GIT_USERNAME';
/** Environment variable the credential helper reads the token (password) from. */
export const GIT_PASSWORD_ENV = 'SPOKELINK_GIT_PASSWORD';

/**
 * The credential helper (a `!` helper runs in `sh`): answers `get` with the two variables;
 * `store` and `erase` are ignored. `printf` is a shell builtin, so the values reach no argv.
 */
export const GIT_CREDENTIAL_HELPER = `!f() { test "$1" = get || return 0; printf 'username=%s\\npassword=%s\\n' "$${GIT_USERNAME_ENV}" "$${GIT_PASSWORD_ENV}"; }; f`;

/** The bundled roots plus `caPem`: what `http.sslCAInfo` points at for a channel with `caCerts`. */
export function caBundleFile(caPem: string): string {
  return `${rootCertificates.join('\n')}\n${caPem}`;
}

/**
 * The environment variables that give one git run `access` for `url` (an http(s) URL checked by
 * `checkRepositoryUrl`). `caFile`: the file holding {@link caBundleFile}, when `access.caPem` is
 * set. Empty for an anonymous channel without a CA bundle.
 */
export function gitAccessEnv(
  url: string,
  access: ChannelAccess,
  caFile?: string,
): Record<string, string> {
  const config: [string, string][] = [];
  const env: Record<string, string> = {};
  if (access.basicAuth !== undefined) {
    const { protocol, host } = new URL(url);
    config.push([`credential.${protocol}//${host}.helper`, GIT_CREDENTIAL_HELPER]);
    env[GIT_USERNAME_ENV] = access.basicAuth.user;
    env[GIT_PASSWORD_ENV] = access.basicAuth.password;
  }
  if (caFile !== undefined) config.push(['http.sslCAInfo', caFile]);
  if (config.length === 0) return env;
  env['GIT_CONFIG_COUNT'] = String(config.length);
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}
