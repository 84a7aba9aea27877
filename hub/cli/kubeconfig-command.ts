/**
 * `spokelink kubeconfig <cluster>`: prints a kubeconfig that reaches `<cluster>`'s API server
 * through the hub's cluster gateway (`<gateway>/clusters/<cluster>`), verified with the
 * proxy-server's CA (no insecure-skip-tls-verify), as the hub user of the hub kubeconfig (its
 * token or client certificate: the gateway authenticates hub users). What that user may do on
 * the spoke is the spoke's RBAC for `spokelink:hub:<user>`.
 *
 *   kubectl --kubeconfig <(spokelink kubeconfig cluster1) get ns
 *
 * With no flags it uses the local sandbox (`spokelink sandbox up`); each flag overrides one
 * piece.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';

import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';

import { renderKubeconfig } from '../../certs/index.ts';
import { gatewayClusterUrl } from '../../proxy-server/index.ts';
import { readState, sandboxDir } from '../local-sandbox/state.ts';

/** Flags of `spokelink kubeconfig`. */
export interface KubeconfigFlags {
  hubKubeconfig?: string;
  gateway?: string;
  ca?: string;
}

/** What a gateway kubeconfig is made of. */
export interface GatewayKubeconfigSource {
  readonly cluster: string;
  /** `https://host:port` of the gateway. */
  readonly gateway: string;
  /** CA bundle of the gateway's serving certificate (the proxy-server's CA). */
  readonly caPem: string;
  /** The hub kubeconfig whose current user is copied. */
  readonly hubKubeconfigPath: string;
}

/** A user-facing failure: its message is printed as is, exit code 1. */
export class KubeconfigCommandError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeconfigCommandError';
  }
}

type Credentials = { token: string } | { clientCertPem: string; clientKeyPem: string };

function pemOf(data: string | undefined, file: string | undefined): string | undefined {
  if (data !== undefined && data !== null && data !== '')
    return Buffer.from(data, 'base64').toString('utf8');
  if (file !== undefined && file !== null && file !== '') return readFileSync(file, 'utf8');
  return undefined;
}

/** The current user's credentials in a hub kubeconfig: a token or a client certificate. */
function hubCredentials(path: string): { userName: string; credentials: Credentials } {
  const config = new KubeConfig();
  try {
    config.loadFromFile(path);
  } catch (err) {
    throw new KubeconfigCommandError(
      `cannot read the hub kubeconfig ${path}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const user = config.getCurrentUser();
  if (user === null)
    throw new KubeconfigCommandError(`the hub kubeconfig ${path} has no current user`);
  if (user.token !== undefined && user.token !== null && user.token !== '')
    return { userName: user.name, credentials: { token: user.token.trim() } };
  const clientCertPem = pemOf(user.certData, user.certFile);
  const clientKeyPem = pemOf(user.keyData, user.keyFile);
  if (clientCertPem !== undefined && clientKeyPem !== undefined)
    return { userName: user.name, credentials: { clientCertPem, clientKeyPem } };
  throw new KubeconfigCommandError(
    `the current user of ${path} (${user.name}) has neither a token nor a client certificate; the gateway accepts only those`,
  );
}

/** Renders the kubeconfig `spokelink kubeconfig` prints. Throws KubeconfigCommandError. */
export function renderGatewayKubeconfig(source: GatewayKubeconfigSource): string {
  let server: string;
  try {
    server = gatewayClusterUrl(source.gateway, source.cluster);
  } catch (err) {
    throw new KubeconfigCommandError((err as Error).message, { cause: err });
  }
  const { userName, credentials } = hubCredentials(source.hubKubeconfigPath);
  try {
    return renderKubeconfig({
      clusterName: source.cluster,
      contextName: source.cluster,
      server,
      caPem: source.caPem,
      userName,
      ...credentials,
    });
  } catch (err) {
    throw new KubeconfigCommandError(
      `cannot render the kubeconfig: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/** Fills in what the flags leave out from the running sandbox. */
export function resolveKubeconfigSource(
  cluster: string,
  flags: KubeconfigFlags,
  env: NodeJS.ProcessEnv = process.env,
): GatewayKubeconfigSource {
  const needsSandbox =
    flags.hubKubeconfig === undefined || flags.gateway === undefined || flags.ca === undefined;
  const state = needsSandbox ? readState(sandboxDir(env)) : undefined;
  if (needsSandbox && (state?.gateway === undefined || state.hub === undefined)) {
    throw new KubeconfigCommandError(
      'no hub is configured: pass --hub-kubeconfig, --gateway and --ca, or start one with `spokelink sandbox up`',
    );
  }
  const caFile = flags.ca ?? state?.gateway?.caFile ?? '';
  let caPem: string;
  try {
    caPem = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new KubeconfigCommandError(
      `cannot read the gateway CA ${caFile}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return {
    cluster,
    gateway: flags.gateway ?? state?.gateway?.url ?? '',
    caPem,
    hubKubeconfigPath: flags.hubKubeconfig ?? state?.hub?.kubeconfig ?? '',
  };
}

/** Registers `spokelink kubeconfig <cluster>`. */
export function registerKubeconfigCommand(program: Command): void {
  program
    .command('kubeconfig')
    .description(
      "print a kubeconfig for a cluster's API server through the hub's cluster gateway, as your hub user",
    )
    .argument('<cluster>', 'managed cluster name')
    .option(
      '--hub-kubeconfig <file>',
      'hub kubeconfig whose current user is used (default: the sandbox hub)',
    )
    .option('--gateway <url>', 'cluster gateway https://host:port (default: the sandbox gateway)')
    .option('--ca <file>', "CA of the gateway's serving certificate (default: the sandbox hub CA)")
    .action((cluster: string, flags: KubeconfigFlags) => {
      try {
        process.stdout.write(renderGatewayKubeconfig(resolveKubeconfigSource(cluster, flags)));
      } catch (err) {
        if (!(err instanceof KubeconfigCommandError)) throw err;
        process.stderr.write(`error: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
