/**
 * The OCM registration verbs: `init`, `token`, `accept`, `deny` on the hub (like clusteradm's),
 * and `join`, `unjoin` on a spoke. Hub commands find the hub as `get clusters` does
 * (`--kubeconfig`, else $KUBECONFIG, else the sandbox); spoke commands take the spoke's
 * kubeconfig the same way (`--kubeconfig`, else $KUBECONFIG).
 */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type Command, InvalidArgumentError } from 'commander';

import { publicKeyHashSha256 } from '../../certs/index.ts';
import { parseBootstrapToken } from '../../protocol/index.ts';
import { hubCrds } from '../api/index.ts';
import { apiStatus, installCrds } from '../kube/index.ts';
import {
  applyJoin,
  applyUnjoin,
  JoinError,
  prepareLocalAgent,
  verifyHub,
} from '../join/join-cluster.ts';
import { agentManifestsYaml } from '../join/agent-manifests.ts';
import type { JoinSpec } from '../join/spoke-objects.ts';
import { ensureManifestWorkAdmissionPolicy } from '../controllers/manifest-work/index.ts';
import { ensurePolicyAdmissionPolicy } from '../controllers/policy/index.ts';
import { ensureSubscriptionAdmissionPolicy } from '../controllers/subscription/index.ts';
import { BootstrapTokens } from '../registration/bootstrap-tokens.ts';
import { acceptCluster, denyCluster } from '../registration/cluster-decisions.ts';
import { HUB_INFO_CONFIGMAP, HUB_NAMESPACE } from '../registration/constants.ts';
import { ensureHubNamespace, ensureHubPki } from '../registration/hub-pki.ts';
import { resolveHubKubeconfig } from './get-command.ts';

const DEFAULT_REGISTRATION_PORT = 8099;
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** `24h`, `30m`, `90s`, `2d` → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(text);
  if (match === null) throw new InvalidArgumentError('expected a duration like 30m, 24h or 7d');
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds <= 0) throw new InvalidArgumentError('the duration must be positive');
  return seconds;
}

function fail(message: string): void {
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 1;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function hubInfo(hub: KubeConfig): Promise<{ registration: string } | undefined> {
  try {
    const map = await hub.makeApiClient(CoreV1Api).readNamespacedConfigMap({
      name: HUB_INFO_CONFIGMAP,
      namespace: HUB_NAMESPACE,
    });
    const registration = map.data?.['registration'];
    return registration === undefined ? undefined : { registration };
  } catch (err: unknown) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

function joinCommandLine(registration: string, token: string, caHash: string): string {
  return `spokelink join --hub ${registration} --token ${token} --ca-hash ${caHash} --cluster-name <cluster_name>`;
}

function spokeKubeconfig(flag: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (flag !== undefined) kc.loadFromFile(flag);
  else if ((process.env['KUBECONFIG'] ?? '') !== '') kc.loadFromDefault();
  else
    throw new JoinError(
      'no spoke is configured: pass --kubeconfig <the spoke cluster kubeconfig> or set KUBECONFIG',
    );
  return kc;
}

/** Registers init, token, accept, deny, join and unjoin on `program`. */
export function registerRegistrationCommands(program: Command): void {
  program
    .command('init')
    .description(
      'prepare a hub: CRDs, the hub namespace and CA, a bootstrap token; prints the join command',
    )
    .option('--kubeconfig <file>', 'the hub cluster (default $KUBECONFIG, else the sandbox hub)')
    .option(
      '--advertise-address <host>',
      'the host spokes dial to reach the proxy-server',
      '127.0.0.1',
    )
    .option(
      '--registration-port <port>',
      'the registration port of `spokelink hub`',
      String(DEFAULT_REGISTRATION_PORT),
    )
    .option('--token-ttl <duration>', 'lifetime of the bootstrap token', parseDuration, 24 * 3600)
    .action(
      async (opts: {
        kubeconfig?: string;
        advertiseAddress: string;
        registrationPort: string;
        tokenTtl: number;
      }) => {
        try {
          const hub = resolveHubKubeconfig(opts.kubeconfig);
          process.stderr.write('installing the OCM CRDs on the hub\n');
          await installCrds(hub, hubCrds());
          await ensureHubNamespace(hub);
          // ManifestWork's 500 KiB limit and name rules, enforced by the hub API server itself.
          await ensureManifestWorkAdmissionPolicy(hub);
          // OCM's Policy webhook rules (name length, remediationAction), likewise.
          await ensurePolicyAdmissionPolicy(hub);
          // Only a cluster-admin may make a Subscription privileged (cluster-scoped objects).
          await ensureSubscriptionAdmissionPolicy(hub);
          process.stderr.write(
            `creating the hub CA and certificates in namespace ${HUB_NAMESPACE}\n`,
          );
          const pki = await ensureHubPki(hub, { serverNames: [opts.advertiseAddress] });
          const registration = `https://${opts.advertiseAddress}:${opts.registrationPort}`;
          const core = hub.makeApiClient(CoreV1Api);
          const body = {
            metadata: { name: HUB_INFO_CONFIGMAP, namespace: HUB_NAMESPACE },
            data: { registration },
          };
          try {
            await core.createNamespacedConfigMap({ namespace: HUB_NAMESPACE, body });
          } catch (err: unknown) {
            if (apiStatus(err) !== 409) throw err;
            await core.replaceNamespacedConfigMap({
              name: HUB_INFO_CONFIGMAP,
              namespace: HUB_NAMESPACE,
              body,
            });
          }
          const { token, expiration } = await new BootstrapTokens(hub).create({
            ttlSeconds: opts.tokenTtl,
          });
          const caHash = publicKeyHashSha256(pki.ca.certPem);
          process.stdout.write(
            `The hub is ready. Start it with \`spokelink hub --advertise-address ${opts.advertiseAddress}\`, then on each spoke run:\n\n` +
              `  ${joinCommandLine(registration, token, caHash)}\n\n` +
              `The token registers one cluster and expires at ${expiration.toISOString()} (\`spokelink token create\` makes more).\n`,
          );
        } catch (err: unknown) {
          fail(errorText(err));
        }
      },
    );

  const tokenCommand = program
    .command('token')
    .description('bootstrap tokens for `spokelink join`');
  tokenCommand
    .command('create', { isDefault: true })
    .description('create a single-use bootstrap token and print the join command')
    .option('--kubeconfig <file>', 'the hub cluster')
    .option('--ttl <duration>', 'lifetime of the token', parseDuration, 24 * 3600)
    .action(async (opts: { kubeconfig?: string; ttl: number }) => {
      try {
        const hub = resolveHubKubeconfig(opts.kubeconfig);
        const pki = await ensureHubPki(hub, { serverNames: [], readOnly: true });
        const info = await hubInfo(hub);
        const { token } = await new BootstrapTokens(hub).create({ ttlSeconds: opts.ttl });
        const caHash = publicKeyHashSha256(pki.ca.certPem);
        process.stdout.write(
          info === undefined
            ? `${token}\n`
            : `${joinCommandLine(info.registration, token, caHash)}\n`,
        );
      } catch (err: unknown) {
        fail(errorText(err));
      }
    });
  tokenCommand
    .command('list')
    .description('list the bootstrap tokens (never their secrets)')
    .option('--kubeconfig <file>', 'the hub cluster')
    .action(async (opts: { kubeconfig?: string }) => {
      try {
        const tokens = await new BootstrapTokens(resolveHubKubeconfig(opts.kubeconfig)).list();
        const now = Date.now();
        const rows = [['ID', 'EXPIRES', 'STATE', 'USED BY']];
        for (const t of tokens) {
          const state =
            t.expiration.getTime() <= now
              ? 'expired'
              : t.consumedAt !== undefined
                ? 'used'
                : t.boundTo !== undefined
                  ? 'in use'
                  : 'unused';
          rows.push([
            t.id,
            t.expiration.toISOString(),
            state,
            t.boundTo?.split('/').slice(0, 2).join('/') ?? '',
          ]);
        }
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        for (const r of rows)
          process.stdout.write(
            `${r
              .map((c, i) => c.padEnd(widths[i]! + 3))
              .join('')
              .trimEnd()}\n`,
          );
      } catch (err: unknown) {
        fail(errorText(err));
      }
    });
  tokenCommand
    .command('delete <id>')
    .description('delete a bootstrap token')
    .option('--kubeconfig <file>', 'the hub cluster')
    .action(async (id: string, opts: { kubeconfig?: string }) => {
      try {
        const ok = await new BootstrapTokens(resolveHubKubeconfig(opts.kubeconfig)).delete(id);
        if (!ok) fail(`no bootstrap token ${id}`);
        else process.stdout.write(`bootstrap token ${id} deleted\n`);
      } catch (err: unknown) {
        fail(errorText(err));
      }
    });

  for (const verb of ['accept', 'deny'] as const) {
    program
      .command(`${verb} <clusters...>`)
      .description(
        verb === 'accept'
          ? 'accept clusters: their agents get certificates and may connect'
          : 'deny clusters: pending certificate requests are denied, connected agents cut off',
      )
      .option('--kubeconfig <file>', 'the hub cluster')
      .action(async (clusters: string[], opts: { kubeconfig?: string }) => {
        try {
          const hub = resolveHubKubeconfig(opts.kubeconfig);
          for (const cluster of clusters) {
            let denied: string[] = [];
            try {
              if (verb === 'accept') await acceptCluster(hub, cluster);
              else denied = await denyCluster(hub, cluster);
            } catch (err: unknown) {
              if (apiStatus(err) === 404) {
                fail(`there is no ManagedCluster "${cluster}" (has it run \`spokelink join\`?)`);
                continue;
              }
              throw err;
            }
            if (verb === 'deny') {
              process.stdout.write(
                `cluster ${cluster} denied${denied.length > 0 ? ` (denied ${denied.join(', ')})` : ''}\n`,
              );
            } else {
              process.stdout.write(`cluster ${cluster} accepted\n`);
            }
          }
        } catch (err: unknown) {
          fail(errorText(err));
        }
      });
  }

  program
    .command('join')
    .description(
      "join this cluster to a hub: applies the agent's objects; --run-local also runs the agent here; --output yaml prints them instead",
    )
    .requiredOption(
      '--hub <url>',
      "the hub's registration address, https://host:port (from `spokelink init`)",
    )
    .requiredOption('--token <token>', 'a bootstrap token (`spokelink token create` on the hub)')
    .requiredOption('--cluster-name <name>', 'the name of this cluster on the hub (DNS label)')
    .option('--ca-hash <sha256:hex>', "pin the hub CA's public key")
    .option('--agent-name <name>', "this agent's name (DNS label)", 'agent')
    .option('--kubeconfig <file>', 'the spoke cluster (default $KUBECONFIG)')
    .option('--transport <transport>', 'websocket or grpc', 'websocket')
    .option('--image <image>', 'the agent image of the Deployment', 'spokelink/spokelink:latest')
    .option(
      '--run-local',
      'run the agent as a local process (with its ServiceAccount token) instead of the Deployment',
    )
    .option('--health-port <port>', 'health port of the local agent (0: off)', '0')
    .option('--output <format>', 'print the objects (yaml) instead of applying them')
    .option('--skip-hub-verification', 'with --output: do not check the token with the hub first')
    .action(
      async (opts: {
        hub: string;
        token: string;
        clusterName: string;
        caHash?: string;
        agentName: string;
        kubeconfig?: string;
        transport: string;
        image: string;
        runLocal?: boolean;
        healthPort: string;
        output?: string;
        skipHubVerification?: boolean;
      }) => {
        try {
          if (!NAME.test(opts.clusterName))
            throw new JoinError(`--cluster-name "${opts.clusterName}" is not a DNS label`);
          if (!NAME.test(opts.agentName))
            throw new JoinError(`--agent-name "${opts.agentName}" is not a DNS label`);
          if (opts.transport !== 'grpc' && opts.transport !== 'websocket') {
            throw new JoinError('--transport must be grpc or websocket');
          }
          const isPrint = opts.output !== undefined;
          if (isPrint && opts.output !== 'yaml') {
            throw new JoinError(
              `--output ${opts.output ?? ''} is not supported: use --output yaml`,
            );
          }
          if (isPrint && opts.runLocal === true) {
            throw new JoinError(
              '--output yaml prints the objects and runs nothing: drop --run-local',
            );
          }
          if (opts.skipHubVerification === true && !isPrint) {
            throw new JoinError(
              '--skip-hub-verification goes with --output yaml only: join verifies the hub before it changes the spoke',
            );
          }
          const spoke = isPrint ? undefined : spokeKubeconfig(opts.kubeconfig);
          if (opts.skipHubVerification !== true) {
            process.stderr.write(`verifying the hub at ${opts.hub}\n`);
            await verifyHub(opts.hub, opts.token, opts.caHash);
          } else if (parseBootstrapToken(opts.token) === undefined) {
            throw new JoinError('--token is malformed (expected <6 chars>.<16 chars> of [a-z0-9])');
          }
          const isLocal = opts.runLocal === true;
          const spec: JoinSpec = {
            hub: opts.hub,
            token: opts.token,
            clusterName: opts.clusterName,
            agentName: opts.agentName,
            transport: opts.transport,
            image: opts.image,
            replicas: isLocal ? 0 : 1,
            ...(opts.caHash === undefined ? {} : { caHash: opts.caHash }),
          };
          if (spoke === undefined) {
            process.stdout.write(
              agentManifestsYaml(
                spec,
                `# The agent's objects for cluster ${opts.clusterName} (spokelink join --output yaml); kubectl apply -f this file.\n` +
                  '# Secret spokelink-bootstrap holds the bootstrap token: keep this file secret.\n',
              ),
            );
            return;
          }
          process.stderr.write(
            `applying the agent's objects to the spoke (cluster ${opts.clusterName})\n`,
          );
          await applyJoin(spoke, spec);
          if (!isLocal) {
            process.stdout.write(
              `cluster ${opts.clusterName} joined: the agent Deployment registers with the hub; accept it there with \`spokelink accept ${opts.clusterName}\`\n`,
            );
            return;
          }
          const home = process.env['SPOKELINK_HOME'] ?? join(homedir(), '.spokelink');
          const files = await prepareLocalAgent(spoke, join(home, 'agents', opts.clusterName));
          process.stderr.write(
            `running the agent here; accept the cluster on the hub with \`spokelink accept ${opts.clusterName}\` (Ctrl-C stops the agent)\n`,
          );
          const bin = resolve(import.meta.dirname, '../../bin/spokelink.js');
          const child = spawn(
            process.execPath,
            [
              bin,
              'agent',
              '--registration',
              '--spoke-kubeconfig',
              files.kubeconfig,
              '--token-file',
              files.tokenFile,
              '--health-port',
              opts.healthPort,
            ],
            { stdio: 'inherit' },
          );
          const forward = (signal: NodeJS.Signals) => child.kill(signal);
          process.on('SIGTERM', forward);
          process.on('SIGINT', forward);
          process.exitCode = await new Promise<number>((done) => {
            child.on('exit', (code, signal) => done(code ?? (signal === null ? 1 : 0)));
          });
        } catch (err: unknown) {
          fail(errorText(err));
        }
      },
    );

  program
    .command('unjoin')
    .description("remove the agent's objects from this cluster (the hub keeps its ManagedCluster)")
    .option('--kubeconfig <file>', 'the spoke cluster (default $KUBECONFIG)')
    .action(async (opts: { kubeconfig?: string }) => {
      try {
        const removed = await applyUnjoin(spokeKubeconfig(opts.kubeconfig));
        process.stdout.write(
          removed.length === 0
            ? 'nothing to remove: this cluster is not joined\n'
            : `removed ${removed.join(', ')}\n`,
        );
      } catch (err: unknown) {
        fail(errorText(err));
      }
    });
}
