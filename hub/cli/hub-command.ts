/**
 * `spokelink hub`: the hub process — the proxy-server (tunnel, gateway, registration API) and
 * the hub controllers — until SIGTERM/SIGINT. `spokelink init` must have prepared the hub.
 */
import { type Command, InvalidArgumentError } from 'commander';

import { startHub } from '../hub-process/start-hub.ts';
import { resolveHubKubeconfig } from './get-command.ts';

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw new InvalidArgumentError('expected a port (0-65535)');
  return Number(value);
}

/** Registers `hub` on `program`. */
export function registerHubCommand(program: Command): void {
  program
    .command('hub')
    .description(
      'run the hub: proxy-server (tunnel, cluster gateway, registration) and controllers',
    )
    .option('--kubeconfig <file>', 'the hub cluster (default $KUBECONFIG, else the sandbox hub)')
    .option('--bind-address <host>', 'address every listener binds', '127.0.0.1')
    .option('--advertise-address <host>', 'the host agents dial (default: the bind address)')
    .option('--agent-port <port>', 'gRPC agent listener', port, 8091)
    .option('--agent-websocket-port <port>', 'WebSocket agent listener (/tunnel)', port, 8098)
    .option('--frontend-port <port>', 'gRPC ProxyService frontend', port, 8090)
    .option('--registration-port <port>', 'registration API', port, 8099)
    .option('--gateway-port <port>', 'cluster gateway (/clusters/<cluster>/…)', port, 8443)
    .option('--health-port <port>', '/healthz, /readyz, /metrics', port, 8092)
    .option(
      '--server-count <n>',
      'number of hub replicas; agents hold a tunnel to each (keep equal to the replicas)',
      (v) => {
        if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError('expected a positive integer');
        return Number(v);
      },
    )
    .option('--auto-accept', 'accept new clusters at registration')
    .option('--agent-cert-seconds <n>', 'lifetime of agent certificates', (v) =>
      Number.parseInt(v, 10),
    )
    .option(
      '--components <list>',
      'what to run here: proxy-server, controllers or both',
      'proxy-server,controllers',
    )
    .action(
      async (opts: {
        kubeconfig?: string;
        bindAddress: string;
        advertiseAddress?: string;
        agentPort: number;
        agentWebsocketPort: number;
        frontendPort: number;
        registrationPort: number;
        gatewayPort: number;
        healthPort: number;
        serverCount?: number;
        autoAccept?: boolean;
        agentCertSeconds?: number;
        components: string;
      }) => {
        const components = new Set(opts.components.split(',').map((c) => c.trim()));
        for (const c of components) {
          if (c !== 'proxy-server' && c !== 'controllers') {
            process.stderr.write(`error: --components: unknown component "${c}"\n`);
            process.exitCode = 2;
            return;
          }
        }
        try {
          const hub = await startHub({
            hub: resolveHubKubeconfig(opts.kubeconfig),
            components: {
              proxyServer: components.has('proxy-server'),
              controllers: components.has('controllers'),
            },
            ...(opts.advertiseAddress === undefined
              ? {}
              : { advertiseHost: opts.advertiseAddress }),
            listen: {
              host: opts.bindAddress,
              agentGrpc: opts.agentPort,
              agentWebSocket: opts.agentWebsocketPort,
              frontendGrpc: opts.frontendPort,
              registration: opts.registrationPort,
              gateway: opts.gatewayPort,
              health: opts.healthPort,
            },
            ...(opts.serverCount === undefined ? {} : { serverCount: opts.serverCount }),
            autoAccept: opts.autoAccept === true,
            ...(opts.agentCertSeconds === undefined
              ? {}
              : { agentCertSeconds: opts.agentCertSeconds }),
            onError: (what, err) =>
              process.stderr.write(
                `${JSON.stringify({ level: 'warn', msg: 'hub retrying', what, error: err instanceof Error ? err.message : String(err) })}\n`,
              ),
          });
          process.stderr.write(
            `${JSON.stringify({ level: 'info', msg: 'hub running', ...hub.endpoints })}\n`,
          );
          let signals = 0;
          const stop = () => {
            signals += 1;
            if (signals > 1) process.exit(1);
            hub.close().then(
              () => process.exit(0),
              () => process.exit(1),
            );
          };
          process.on('SIGTERM', stop);
          process.on('SIGINT', stop);
        } catch (err: unknown) {
          process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exitCode = 1;
        }
      },
    );
}
