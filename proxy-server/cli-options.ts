/**
 * Command-line flags and environment of the proxy-server process (`main.ts`), turned into
 * ProxyServerOptions. Kept apart from main.ts so the mapping is testable without a process.
 */
import { Command, Option } from 'commander';

import {
  DEFAULT_AGENT_ADMISSION_BURST,
  DEFAULT_AGENT_ADMISSION_RATE,
} from './agent-listener/admission-rate-limiter.ts';
import { DEFAULT_MAX_PENDING_HANDSHAKES } from './agent-listener/handshake-guard.ts';
import { ServerError, errorMessage } from './errors.ts';
import { addGatewayFlags, gatewayFromFlags } from './gateway/gateway-flags.ts';
import type { GatewayFlags } from './gateway/gateway-flags.ts';
import { createJsonLogger } from './logger.ts';
import type { LogLevel } from './logger.ts';
import type { ListenOptions, ProxyServerOptions } from './options.ts';

/** Default ports of the standalone process (ANP's are 8090 frontend, 8091 agent, 8092 health). */
export const DEFAULT_PORTS = {
  frontend: 8090,
  agent: 8091,
  health: 8092,
  ws: 8098, // not 8093: that is the agent's health port (as in ANP), and both may run on one host
  connect: 8094,
  frontendWs: 8095,
} as const;

/** Flags as commander parses them (all strings; validated by {@link optionsFromFlags}). */
export interface ServerFlags extends GatewayFlags {
  cert?: string;
  key?: string;
  ca?: string;
  bindAddress: string;
  connectBindAddress: string;
  agentPort: string;
  wsPort: string;
  frontendPort: string;
  frontendWsPort: string;
  connectPort: string;
  connectTls?: boolean;
  healthPort: string;
  serverId?: string;
  serverCount?: string;
  agentDialTimeoutMs?: string;
  shutdownTimeoutMs?: string;
  agentAdmissionRate?: string;
  agentAdmissionBurst?: string;
  agentMaxPendingHandshakes?: string;
  logLevel: string;
}

/** The `proxy-server` command with every flag; environment variables back some of them. */
export function buildServerCommand(): Command {
  const command = new Command('proxy-server')
    .description(
      'Spokelink proxy-server: the hub side of the tunnel (agents, ProxyService, HTTP CONNECT, metrics).',
    )
    .addOption(
      new Option('--cert <file>', 'serving certificate (PEM)').env('SPOKELINK_SERVER_CERT'),
    )
    .addOption(new Option('--key <file>', 'serving key (PEM)').env('SPOKELINK_SERVER_KEY'))
    .addOption(
      new Option('--ca <file>', 'CA that signs agent and frontend client certificates (PEM)').env(
        'SPOKELINK_CA_CERT',
      ),
    )
    .option(
      '--bind-address <host>',
      'address of the agent, frontend and health listeners',
      '0.0.0.0',
    )
    .option(
      '--connect-bind-address <host>',
      'address of the HTTP CONNECT listener (unauthenticated)',
      '127.0.0.1',
    )
    .option(
      '--agent-port <port>',
      'AgentService.Connect over gRPC, or "off"',
      String(DEFAULT_PORTS.agent),
    )
    .option(
      '--ws-port <port>',
      'agent WebSocket (wss://…/tunnel), or "off"',
      String(DEFAULT_PORTS.ws),
    )
    .option(
      '--frontend-port <port>',
      'ProxyService.Proxy over gRPC, or "off"',
      String(DEFAULT_PORTS.frontend),
    )
    .option(
      '--frontend-ws-port <port>',
      'frontend WebSocket (wss://…/frontend), or "off"',
      String(DEFAULT_PORTS.frontendWs),
    )
    .option('--connect-port <port>', 'HTTP CONNECT proxy, or "off"', String(DEFAULT_PORTS.connect))
    .option('--connect-tls', 'serve HTTP CONNECT over TLS')
    .option(
      '--health-port <port>',
      '/healthz, /readyz, /metrics, or "off"',
      String(DEFAULT_PORTS.health),
    )
    .addOption(
      new Option('--server-id <id>', "this replica's serverID (default: random UUID)").env(
        'SPOKELINK_SERVER_ID',
      ),
    )
    .addOption(
      new Option('--server-count <n>', 'number of proxy-server replicas').env(
        'SPOKELINK_SERVER_COUNT',
      ),
    )
    .option('--agent-dial-timeout-ms <ms>', "wait for an agent's DIAL_RSP")
    .option('--shutdown-timeout-ms <ms>', 'SIGTERM: time streams get to finish')
    .option(
      '--agent-admission-rate <n>',
      `new agent tunnels admitted per second, or "off" (default ${DEFAULT_AGENT_ADMISSION_RATE})`,
    )
    .option(
      '--agent-admission-burst <n>',
      `agent tunnels admitted at once after a quiet spell (default ${DEFAULT_AGENT_ADMISSION_BURST}, or the rate when --agent-admission-rate is set)`,
    )
    .option(
      '--agent-max-pending-handshakes <n>',
      `agent TLS handshakes in progress per listener before new connections are closed (default ${DEFAULT_MAX_PENDING_HANDSHAKES})`,
    )
    .addOption(
      new Option('--log-level <level>', 'lowest level logged')
        .choices(['error', 'warn', 'info', 'debug'])
        .default('info')
        .env('SPOKELINK_LOG_LEVEL'),
    );
  return addGatewayFlags(command);
}

function invalid(message: string, cause?: unknown): ServerError {
  return new ServerError(
    'SERVER_ERR_INVALID_OPTIONS',
    message,
    cause === undefined ? {} : { cause },
  );
}

function integer(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text))
    throw invalid(`--${flag} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function listener(flag: string, host: string, port: string, tls = false): ListenOptions | false {
  if (port === 'off') return false;
  return { host, port: integer(flag, port) ?? 0, ...(tls ? { tls } : {}) };
}

/**
 * Maps parsed flags to ProxyServerOptions, reading the PEM files with `readFile`. Throws
 * ServerError `SERVER_ERR_INVALID_OPTIONS` for a missing or unreadable file or a malformed
 * number; everything else is checked by validateOptions() when the server starts.
 */
export function optionsFromFlags(
  flags: ServerFlags,
  readFile: (path: string) => string,
): ProxyServerOptions {
  const read = (flag: 'cert' | 'key' | 'ca'): string => {
    const path = flags[flag];
    if (path === undefined || path === '') throw invalid(`--${flag} <file> is required`);
    try {
      return readFile(path);
    } catch (err) {
      throw invalid(`--${flag}: cannot read ${path}: ${errorMessage(err)}`, err);
    }
  };
  const serverCount = integer('server-count', flags.serverCount);
  const agentDialTimeoutMs = integer('agent-dial-timeout-ms', flags.agentDialTimeoutMs);
  const shutdownTimeoutMs = integer('shutdown-timeout-ms', flags.shutdownTimeoutMs);
  const agentAdmissionRate = admissionRateFromFlags(flags);
  return {
    tls: { certPem: read('cert'), keyPem: read('key'), caPem: read('ca') },
    listen: {
      agentGrpc: listener('agent-port', flags.bindAddress, flags.agentPort),
      agentWebSocket: listener('ws-port', flags.bindAddress, flags.wsPort),
      frontendGrpc: listener('frontend-port', flags.bindAddress, flags.frontendPort),
      frontendWebSocket: listener('frontend-ws-port', flags.bindAddress, flags.frontendWsPort),
      connect: listener(
        'connect-port',
        flags.connectBindAddress,
        flags.connectPort,
        flags.connectTls === true,
      ),
      health: listener('health-port', flags.bindAddress, flags.healthPort),
    },
    ...(flags.serverId === undefined ? {} : { serverId: flags.serverId }),
    ...(serverCount === undefined ? {} : { serverCount }),
    ...(agentDialTimeoutMs === undefined ? {} : { agentDialTimeoutMs }),
    ...(shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs }),
    ...(agentAdmissionRate === undefined ? {} : { agentAdmissionRate }),
    ...gatewayFromFlags(flags, flags.bindAddress, readFile),
    logger: createJsonLogger({ level: flags.logLevel as LogLevel }),
  };
}

/** `--agent-admission-rate` / `--agent-admission-burst`; undefined keeps the defaults. */
function admissionRateFromFlags(flags: ServerFlags): ProxyServerOptions['agentAdmissionRate'] {
  const burst = integer('agent-admission-burst', flags.agentAdmissionBurst);
  const maxPending = integer('agent-max-pending-handshakes', flags.agentMaxPendingHandshakes);
  if (flags.agentAdmissionRate === 'off') {
    if (burst !== undefined || maxPending !== undefined) {
      throw invalid(
        '--agent-admission-burst and --agent-max-pending-handshakes cannot be set with --agent-admission-rate off',
      );
    }
    return false;
  }
  const perSecond = integer('agent-admission-rate', flags.agentAdmissionRate);
  if (perSecond === undefined && burst === undefined && maxPending === undefined) return undefined;
  return {
    perSecond: perSecond ?? DEFAULT_AGENT_ADMISSION_RATE,
    ...(burst === undefined ? {} : { burst }),
    ...(maxPending === undefined ? {} : { maxPendingHandshakes: maxPending }),
  };
}
