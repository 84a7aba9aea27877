/**
 * `spokelink agent --registration`: the agent as `spokelink join` deploys it. It reads its
 * cluster and hub from the bootstrap Secret on its spoke, registers (or reuses its stored
 * certificate), runs the tunnel agent and renews its certificate. Credentials for its spoke
 * come from `--spoke-kubeconfig` (a local process, `join --run-local`) or, without it, from the
 * pod's ServiceAccount (in-cluster).
 */
import { readFileSync } from 'node:fs';

import { KubeConfig } from '@kubernetes/client-node';
import { Command, InvalidArgumentError } from 'commander';

import { SPOKE_AGENT_NAMESPACE } from '../../protocol/index.ts';
import { AgentError } from '../errors.ts';
import { createJsonLogger } from '../logger.ts';
import type { LogLevel } from '../logger.ts';
import type { RegisteredAgentOptions } from './registered-agent.ts';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const IN_CLUSTER_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

interface Flags {
  registration: boolean;
  spokeKubeconfig?: string;
  namespace: string;
  tokenFile?: string;
  allow: string[];
  healthPort: number;
  logLevel: string;
  pollMs?: number;
}

function integer(min: number, max: number) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`);
    }
    return Number(value);
  };
}

function invalid(message: string): AgentError {
  return new AgentError('AGENT_ERR_INVALID_OPTIONS', `invalid options: ${message}`);
}

/** True when argv asks for the registered agent. */
export function isRegistrationMode(argv: readonly string[]): boolean {
  return argv.includes('--registration');
}

/** Parses `spokelink agent --registration …` into {@link RegisteredAgentOptions}. */
export function parseRegisteredAgentArgs(argv: readonly string[]): RegisteredAgentOptions {
  const flags = new Command('spokelink-agent')
    .description('Spokelink agent, registered with the hub through `spokelink join`')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .requiredOption('--registration', 'register with the hub from the bootstrap Secret')
    .option(
      '--spoke-kubeconfig <file>',
      "this cluster's API server and the agent's credentials (default: in-cluster)",
    )
    .option(
      '--namespace <ns>',
      'namespace of the bootstrap and identity Secrets',
      SPOKE_AGENT_NAMESPACE,
    )
    .option(
      '--token-file <file>',
      "the agent ServiceAccount's token, for the agent API (default: the kubeconfig's, or in-cluster)",
    )
    .option(
      '--allow <host:port>',
      'extra allowed dial target (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option(
      '--health-port <port>',
      'port of /healthz, /readyz, /metrics (0: off)',
      integer(0, 65535),
      8093,
    )
    .option(
      '--poll-ms <ms>',
      'how often to ask the hub while registration is pending',
      integer(100, 600_000),
    )
    .option('--log-level <level>', 'error, warn, info or debug', 'info')
    .parse([...argv], { from: 'user' })
    .opts<Flags>();
  if (!['error', 'warn', 'info', 'debug'].includes(flags.logLevel)) {
    throw invalid(`--log-level must be error, warn, info or debug, got ${flags.logLevel}`);
  }
  const spoke = new KubeConfig();
  let tokenFile = flags.tokenFile;
  let caPem: string;
  if (flags.spokeKubeconfig === undefined) {
    spoke.loadFromCluster();
    tokenFile ??= IN_CLUSTER_TOKEN;
    caPem = readFileSync(IN_CLUSTER_CA, 'utf8');
  } else {
    spoke.loadFromFile(flags.spokeKubeconfig);
    const user = spoke.getCurrentUser();
    tokenFile ??= (user as { authProvider?: unknown; tokenFile?: string } | null)?.tokenFile;
    const cluster = spoke.getCurrentCluster();
    if (cluster?.caData !== undefined)
      caPem = Buffer.from(cluster.caData, 'base64').toString('utf8');
    else if (cluster?.caFile !== undefined) caPem = readFileSync(cluster.caFile, 'utf8');
    else throw invalid(`--spoke-kubeconfig ${flags.spokeKubeconfig} has no certificate-authority`);
  }
  if (tokenFile === undefined) {
    throw invalid('--token-file is required when the spoke kubeconfig has no tokenFile');
  }
  const server = spoke.getCurrentCluster()?.server;
  if (server === undefined) throw invalid('the spoke kubeconfig has no current cluster');
  const url = new URL(server);
  const kubeApiserver = `${url.hostname}:${url.port === '' ? '443' : url.port}`;
  const logger = createJsonLogger({ level: flags.logLevel as LogLevel });
  return {
    spoke,
    namespace: flags.namespace,
    logger,
    ...(flags.pollMs === undefined ? {} : { pollMs: flags.pollMs }),
    agent: {
      kubeApiserver,
      allow: flags.allow,
      agentApi: { tokenFile, kubeApiserverCaPem: caPem },
      logger,
      health: flags.healthPort === 0 ? false : { host: '0.0.0.0', port: flags.healthPort },
    },
  };
}
