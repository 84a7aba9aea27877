/**
 * The proxy-server process's `--gateway-*` flags (cli-options.ts adds them to its command and
 * spreads {@link gatewayFromFlags} into its options). The gateway is on when
 * `--gateway-hub-server` is given.
 */
import type { Command } from 'commander';

import { ServerError, errorMessage } from '../errors.ts';
import type { GatewayOptions } from './gateway-options.ts';

/** Default port of the standalone process's gateway (cluster-proxy's user-server uses 9092 too). */
export const DEFAULT_GATEWAY_PORT = 9092;

/** The gateway's flags as commander parses them. */
export interface GatewayFlags {
  gatewayPort: string;
  gatewayHubServer?: string;
  gatewayHubCa?: string;
  gatewayHubCert?: string;
  gatewayHubKey?: string;
  gatewayHubTokenFile?: string;
  gatewayClientCa?: string;
  gatewayCert?: string;
  gatewayKey?: string;
  gatewayIdentityPrefix?: string;
}

/** Adds the `--gateway-*` flags to `command` and returns it. */
export function addGatewayFlags(command: Command): Command {
  return command
    .option(
      '--gateway-port <port>',
      'cluster gateway (https://…/clusters/<cluster>/), or "off"; on with --gateway-hub-server',
      String(DEFAULT_GATEWAY_PORT),
    )
    .option(
      '--gateway-hub-server <url>',
      'hub API server the gateway asks for TokenReview and SubjectAccessReview',
    )
    .option('--gateway-hub-ca <file>', "CA of the hub API server's serving certificate (PEM)")
    .option('--gateway-hub-cert <file>', 'client certificate for the hub API server (PEM)')
    .option('--gateway-hub-key <file>', 'its key (PEM)')
    .option(
      '--gateway-hub-token-file <file>',
      'or a bearer token for the hub API server (read once)',
    )
    .option(
      '--gateway-client-ca <file>',
      "the hub API server's client CA: callers' client certificates from it are accepted",
    )
    .option(
      '--gateway-cert <file>',
      "the gateway's client certificate for agents (O spokelink:gateways, from --ca)",
    )
    .option('--gateway-key <file>', 'its key (PEM)')
    .option('--gateway-identity-prefix <prefix>', 'prefix of identities impersonated on spokes');
}

function invalid(message: string, cause?: unknown): ServerError {
  return new ServerError(
    'SERVER_ERR_INVALID_OPTIONS',
    message,
    cause === undefined ? {} : { cause },
  );
}

/**
 * `{ gateway }` for ProxyServerOptions, or `{}` when the gateway is off. Reads the PEM and token
 * files with `readFile`. Throws ServerError `SERVER_ERR_INVALID_OPTIONS` for a missing or
 * unreadable file or a bad port; the rest is checked when the server starts.
 */
export function gatewayFromFlags(
  flags: GatewayFlags,
  bindAddress: string,
  readFile: (path: string) => string,
): { gateway?: GatewayOptions } {
  if (flags.gatewayHubServer === undefined || flags.gatewayPort === 'off') return {};
  const read = (flag: string, path: string | undefined): string => {
    if (path === undefined || path === '') throw invalid(`--${flag} <file> is required`);
    try {
      return readFile(path);
    } catch (err) {
      throw invalid(`--${flag}: cannot read ${path}: ${errorMessage(err)}`, err);
    }
  };
  const optional = (flag: string, path: string | undefined): string | undefined =>
    path === undefined ? undefined : read(flag, path);
  if (!/^[0-9]+$/.test(flags.gatewayPort))
    throw invalid(
      `--gateway-port must be a non-negative integer or "off", got ${JSON.stringify(flags.gatewayPort)}`,
    );
  const clientCertPem = optional('gateway-hub-cert', flags.gatewayHubCert);
  const clientKeyPem = optional('gateway-hub-key', flags.gatewayHubKey);
  const token = optional('gateway-hub-token-file', flags.gatewayHubTokenFile)?.trim();
  const clientCaPem = optional('gateway-client-ca', flags.gatewayClientCa);
  return {
    gateway: {
      listen: { host: bindAddress, port: Number(flags.gatewayPort) },
      hub: {
        server: flags.gatewayHubServer,
        caPem: read('gateway-hub-ca', flags.gatewayHubCa),
        ...(clientCertPem === undefined ? {} : { clientCertPem }),
        ...(clientKeyPem === undefined ? {} : { clientKeyPem }),
        ...(token === undefined ? {} : { token }),
      },
      ...(clientCaPem === undefined ? {} : { clientCaPem }),
      ...(flags.gatewayIdentityPrefix === undefined
        ? {}
        : { identityPrefix: flags.gatewayIdentityPrefix }),
      cert: {
        certPem: read('gateway-cert', flags.gatewayCert),
        keyPem: read('gateway-key', flags.gatewayKey),
      },
    },
  };
}
