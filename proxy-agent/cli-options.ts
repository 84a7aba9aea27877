/**
 * Command-line flags of the agent process (main.ts) → ProxyAgentOptions. Separate from main.ts
 * so the mapping is unit-tested without starting anything.
 */
import { readFileSync } from 'node:fs';

import { Command, InvalidArgumentError } from 'commander';

import { AgentError } from './errors.ts';
import { createJsonLogger } from './logger.ts';
import type { LogLevel } from './logger.ts';
import type { AgentApiOptions, ProxyAgentOptions } from './options.ts';

/** Health port of the agent process unless --health-port is given (ANP's agent uses 8093). */
export const DEFAULT_CLI_HEALTH_PORT = 8093;
/** The agent process serves health on every interface, for kubelet probes from the pod IP. */
export const CLI_HEALTH_HOST = '0.0.0.0';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function integer(min: number, max: number) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`);
    }
    return Number(value);
  };
}

/** Builds the commander program (also used for --help). */
export function agentCommand(): Command {
  return new Command('spokelink-agent')
    .description('Spokelink proxy-agent: dials out to the hub and serves tunnelled dials')
    .requiredOption('--cluster-name <name>', "this cluster's name (DNS label)")
    .requiredOption('--agent-name <name>', "this agent's name within the cluster (DNS label)")
    .requiredOption(
      '--server <address>',
      'proxy-server address (repeatable): host:port, or wss://host:port/tunnel',
      collect,
      [],
    )
    .option('--transport <transport>', 'grpc or websocket', 'grpc')
    .requiredOption('--cert <file>', 'client certificate (PEM)')
    .requiredOption('--key <file>', 'client key (PEM)')
    .requiredOption('--ca <file>', 'CA bundle that verifies the proxy-server (PEM)')
    .option('--server-name <name>', 'name to verify the proxy-server certificate against')
    .requiredOption('--kube-apiserver <host:port>', "this cluster's API server")
    .option('--allow <host:port>', 'extra allowed dial target (repeatable)', collect, [])
    .option(
      '--agent-api-token-file <file>',
      'serve the agent-api target with this ServiceAccount token file (needs --kube-apiserver-ca)',
    )
    .option('--kube-apiserver-ca <file>', "CA bundle that verifies this cluster's API server (PEM)")
    .option(
      '--agent-api-identity-prefix <prefix>',
      'prefix every impersonated user and group must carry (default spokelink:hub:)',
    )
    .option('--dial-timeout-ms <ms>', 'TCP connect timeout for targets', integer(1, 3_600_000))
    .option(
      '--health-port <port>',
      '/healthz, /readyz, /metrics port (0 = any)',
      integer(0, 65535),
      DEFAULT_CLI_HEALTH_PORT,
    )
    .option('--log-level <level>', 'error, warn, info or debug', 'info')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
}

/** The parsed flags (commander's camelCase keys). */
interface AgentFlags {
  clusterName: string;
  agentName: string;
  server: string[];
  transport: string;
  cert: string;
  key: string;
  ca: string;
  serverName?: string;
  kubeApiserver: string;
  allow: string[];
  agentApiTokenFile?: string;
  kubeApiserverCa?: string;
  agentApiIdentityPrefix?: string;
  dialTimeoutMs?: number;
  healthPort: number;
  logLevel: string;
}

function readPem(path: string, flag: string, readFile: (path: string) => string): string {
  try {
    return readFile(path);
  } catch (err: unknown) {
    throw new AgentError(
      'AGENT_ERR_INVALID_OPTIONS',
      `invalid options: ${flag} ${path}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

function agentApiOptions(
  flags: AgentFlags,
  readFile: (path: string) => string,
): AgentApiOptions | undefined {
  if (flags.agentApiTokenFile === undefined) {
    if (flags.kubeApiserverCa !== undefined || flags.agentApiIdentityPrefix !== undefined) {
      throw new AgentError(
        'AGENT_ERR_INVALID_OPTIONS',
        'invalid options: --kube-apiserver-ca and --agent-api-identity-prefix need --agent-api-token-file',
      );
    }
    return undefined;
  }
  if (flags.kubeApiserverCa === undefined) {
    throw new AgentError(
      'AGENT_ERR_INVALID_OPTIONS',
      'invalid options: --agent-api-token-file needs --kube-apiserver-ca',
    );
  }
  // The token file itself is read by the agent (at start and whenever it changes).
  return {
    tokenFile: flags.agentApiTokenFile,
    kubeApiserverCaPem: readPem(flags.kubeApiserverCa, '--kube-apiserver-ca', readFile),
    ...(flags.agentApiIdentityPrefix === undefined
      ? {}
      : { identityPrefix: flags.agentApiIdentityPrefix }),
  };
}

/**
 * Parses `argv` (without the node and script entries) into ProxyAgentOptions, reading the PEM
 * files. Throws commander's CommanderError for unknown or missing flags, AgentError
 * `AGENT_ERR_INVALID_OPTIONS` for unreadable files or a bad --transport / --log-level.
 */
export function parseAgentArgs(
  argv: readonly string[],
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ProxyAgentOptions {
  const flags = agentCommand()
    .parse([...argv], { from: 'user' })
    .opts<AgentFlags>();
  if (flags.transport !== 'grpc' && flags.transport !== 'websocket') {
    throw new AgentError(
      'AGENT_ERR_INVALID_OPTIONS',
      `invalid options: --transport must be grpc or websocket`,
    );
  }
  const levels: readonly string[] = ['error', 'warn', 'info', 'debug'];
  if (!levels.includes(flags.logLevel)) {
    throw new AgentError(
      'AGENT_ERR_INVALID_OPTIONS',
      `invalid options: --log-level must be one of ${levels.join(', ')}`,
    );
  }
  const agentApi = agentApiOptions(flags, readFile);
  return {
    clusterName: flags.clusterName,
    agentName: flags.agentName,
    servers: flags.server,
    transport: flags.transport,
    tls: {
      certPem: readPem(flags.cert, '--cert', readFile),
      keyPem: readPem(flags.key, '--key', readFile),
      caPem: readPem(flags.ca, '--ca', readFile),
      ...(flags.serverName === undefined ? {} : { serverName: flags.serverName }),
    },
    kubeApiserver: flags.kubeApiserver,
    allow: flags.allow,
    ...(agentApi === undefined ? {} : { agentApi }),
    ...(flags.dialTimeoutMs === undefined ? {} : { dialTimeoutMs: flags.dialTimeoutMs }),
    health: { host: CLI_HEALTH_HOST, port: flags.healthPort },
    logger: createJsonLogger({ level: flags.logLevel as LogLevel }),
  };
}
