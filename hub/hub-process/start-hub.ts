/**
 * `spokelink hub`, assembled: the proxy-server (agent listeners, frontends, the cluster
 * gateway, the registration API) with agent admission from the hub's ManagedClusters, and the
 * hub controllers (registration: approve/sign/set up; more join as they land). The PKI comes
 * from the hub's Secrets (`spokelink init` made them).
 *
 * Components can run apart (`components`): the proxy-server on every replica, the controllers
 * on one (Lease leader election when enabled).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import type { KubeConfig } from '@kubernetes/client-node';

import {
  HUB_CONTROLLER_IDENTITY,
  awaitWarningIfSlow,
  type ListenOptions,
  createJsonLogger,
  type Logger,
  type ProxyServer,
  type RegistrationBackend,
  startProxyServer,
} from '../../proxy-server/index.ts';
import {
  createClusterProxyAddOnController,
  shareProbes,
  startAddOnCache,
} from '../controllers/cluster-proxy-addon/index.ts';
import { createClusterSetController } from '../controllers/cluster-set/index.ts';
import { createClusterStatusController } from '../controllers/cluster-status/index.ts';
import { createManifestWorkController } from '../controllers/manifest-work/index.ts';
import {
  createManagedServiceAccountAddOnController,
  createManagedServiceAccountController,
  MSA_SECRETS_CLUSTER_ROLE,
} from '../controllers/managed-service-account/index.ts';
import { createManifestWorkReplicaSetController } from '../controllers/manifest-work-replica-set/index.ts';
import { createPlacementController } from '../controllers/placement/index.ts';
import {
  createPolicyAddOnControllers,
  createPolicyEvaluator,
  createPolicyPropagator,
} from '../controllers/policy/index.ts';
import {
  createApplicationAddOnController,
  createSubscriptionController,
  defaultRenderTools,
  type RenderTools,
} from '../controllers/subscription/index.ts';
import { createWorkAddOnController } from '../controllers/work-addon/index.ts';
import { reuseConnections, startManagedClusterCache } from '../kube/index.ts';
import { createLeaderElector } from '../leader-election/index.ts';
import { HUB_NAMESPACE } from '../registration/constants.ts';
import type { TunnelEndpoints } from '../../protocol/index.ts';
import { type ClusterAdmission, startClusterAdmission } from '../registration/cluster-admission.ts';
import { ensureHubPki, type HubPki } from '../registration/hub-pki.ts';
import { gatewayHubOptionsOf, hubClientCa } from '../registration/hub-gateway-options.ts';
import {
  type RegistrationController,
  startRegistrationController,
} from '../registration/registration-controller.ts';
import { createRegistrationService } from '../registration/registration-service.ts';

/** Options of {@link startHub}. */
export interface HubOptions {
  /** The hub API server, with credentials for everything the hub does. */
  readonly hub: KubeConfig;
  /** Which parts run here; default both. */
  readonly components?: { readonly proxyServer?: boolean; readonly controllers?: boolean };
  /** The host agents dial (advertised at discovery); default the bind host. */
  readonly advertiseHost?: string;
  /** Listeners of the proxy-server; port 0 picks a free port. */
  readonly listen?: {
    readonly host?: string;
    readonly agentGrpc?: number;
    readonly agentWebSocket?: number;
    readonly frontendGrpc?: number;
    readonly registration?: number;
    readonly gateway?: number;
    readonly health?: number;
    /** The unauthenticated HTTP CONNECT frontend: off unless a port is given (keep it local). */
    readonly connect?: number;
  };
  /** New clusters are accepted at registration; default false. */
  readonly autoAccept?: boolean;
  /**
   * Lease leader election for the controllers (several replicas may run); default true. When
   * false the controllers simply run here (one replica only).
   */
  readonly leaderElection?: boolean;
  /** The Lease's timings, ms (tests shorten them); defaults are client-go's 15 s / 10 s / 2 s. */
  readonly leaseTimings?: {
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  /** Lifetime of agent certificates, seconds; default 30 days. */
  readonly agentCertSeconds?: number;
  readonly serverId?: string;
  /**
   * How many proxy-server replicas run (told to agents, which hold a tunnel to each); default 1.
   * With several, every replica reaches every cluster: the gateway and the leader's controllers.
   */
  readonly serverCount?: number;
  /**
   * kubectl and helm the subscription controller renders kustomize directories and charts with;
   * default the sandbox's cached binaries, else those on PATH (`defaultRenderTools`).
   */
  readonly subscriptionTools?: RenderTools;
  /** Called with failures the hub retries on its own. */
  readonly onError?: (what: string, err: unknown) => void;
  readonly log?: (message: string) => void;
  /** The proxy-server's logger; default JSON lines on stderr at level info. */
  readonly logger?: Logger;
}

/** A part of the hub that `close()` stops, by name. */
export type Stopper = readonly [name: string, stop: () => Promise<void>];

/** After this long a part that has not stopped is named in a warning (it may hold up `close()`). */
const SLOW_STOP_MS = 10_000;
/** The message of that warning; its fields `part` and `waitedMs`. */
export const SLOW_STOP_WARNING = 'hub part slow to stop';

/** Runs `stopper`; warns once if it takes longer than {@link SLOW_STOP_MS}. */
export async function stopWarningIfSlow([name, stop]: Stopper, logger: Logger): Promise<void> {
  await awaitWarningIfSlow(stop(), SLOW_STOP_MS, () =>
    logger.warn(SLOW_STOP_WARNING, { part: name, waitedMs: SLOW_STOP_MS }),
  );
}

/** A running hub. `close()` stops everything; idempotent. */
export interface Hub {
  readonly server: ProxyServer | undefined;
  readonly pki: HubPki;
  readonly admission: ClusterAdmission;
  /** Whether this replica runs the controllers now. */
  isLeader(): boolean;
  /** Where agents and users reach the proxy-server. */
  readonly endpoints: {
    readonly registration?: string;
    readonly gateway?: string;
    readonly tunnel: TunnelEndpoints;
  };
  close(): Promise<void>;
}

function portOf(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const match = /:(\d+)(\/.*)?$/.exec(address);
  return match?.[1];
}

/** Starts the hub; rejects (having stopped what it started) when a part cannot start. */
export async function startHub(given: HubOptions): Promise<Hub> {
  // Every controller's hub calls share keep-alive connections (client-node opens one per call).
  const hubConnections = reuseConnections(given.hub);
  const options: HubOptions = { ...given, hub: hubConnections.kubeConfig };
  const runProxy = options.components?.proxyServer ?? true;
  const runControllers = options.components?.controllers ?? true;
  const onError = options.onError ?? (() => undefined);
  const host = options.listen?.host ?? '127.0.0.1';
  const advertise = options.advertiseHost ?? (host === '0.0.0.0' ? '127.0.0.1' : host);
  const pki = await ensureHubPki(options.hub, { serverNames: [advertise], readOnly: true }).catch(
    async (err: unknown) => {
      await hubConnections.close();
      throw err;
    },
  );
  const logger = options.logger ?? createJsonLogger({ component: 'hub' });
  /** What `close()` stops, last first, each named for the slow-stop warning. */
  const stoppers: Stopper[] = [['hub API connections', () => hubConnections.close()]];
  let server: ProxyServer | undefined;
  let controller: RegistrationController | undefined;
  let isLeading = false;
  try {
    const admission = await startClusterAdmission({
      hub: options.hub,
      onRevoked: (cluster, reason) => server?.disconnectCluster(cluster, reason),
      onChange: (cluster) => {
        const name = cluster.metadata?.name;
        if (name !== undefined) controller?.clusterChanged(name);
      },
      onError: (err) => onError('ManagedCluster watch', err),
    });
    stoppers.push(['cluster admission', () => admission.stop()]);

    let tunnel: TunnelEndpoints = {};
    if (runProxy) {
      const backend: RegistrationBackend = createRegistrationService({
        hub: options.hub,
        caBundle: pki.ca.certPem,
        tunnel: () => tunnel,
        autoAccept: options.autoAccept ?? false,
        ...(options.agentCertSeconds === undefined
          ? {}
          : { certSeconds: options.agentCertSeconds }),
        clusterOf: (name) => admission.get(name),
        onCsrCreated: (name) => void controller?.csrChanged(name),
      });
      const at = (port: number | undefined, fallback: number): ListenOptions => ({
        host,
        port: port ?? fallback,
      });
      const listen = options.listen ?? {};
      const clientCaPem = await hubClientCa(options.hub);
      server = await startProxyServer({
        ...(options.serverId === undefined ? {} : { serverId: options.serverId }),
        ...(options.serverCount === undefined ? {} : { serverCount: options.serverCount }),
        tls: { certPem: pki.serving.certPem, keyPem: pki.serving.keyPem, caPem: pki.ca.certPem },
        listen: {
          agentGrpc: at(listen.agentGrpc, 8091),
          agentWebSocket: at(listen.agentWebSocket, 8098),
          frontendGrpc: at(listen.frontendGrpc, 8090),
          frontendWebSocket: false,
          connect:
            listen.connect === undefined ? false : { host: '127.0.0.1', port: listen.connect },
          health: at(listen.health, 8092),
        },
        registration: { listen: at(listen.registration, 8099), backend },
        gateway: {
          listen: at(listen.gateway, 8443),
          hub: gatewayHubOptionsOf(options.hub),
          ...(clientCaPem === undefined ? {} : { clientCaPem }),
          cert: { certPem: pki.gateway.certPem, keyPem: pki.gateway.keyPem },
        },
        admitAgent: (identity) => admission.admit(identity),
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      });
      const running = server;
      stoppers.push(['proxy-server', () => running.close()]);
      const grpcPort = portOf(server.addresses.agentGrpc);
      const wsPort = portOf(server.addresses.agentWebSocket);
      tunnel = {
        ...(grpcPort === undefined ? {} : { grpc: `${advertise}:${grpcPort}` }),
        ...(wsPort === undefined ? {} : { websocket: `${advertise}:${wsPort}` }),
      };
    }
    if (runControllers) {
      /** Starts every controller; resolves with their stop. */
      const startControllers = async (): Promise<() => Promise<void>> => {
        const started = await startRegistrationController({
          hub: options.hub,
          ca: pki.ca,
          clusterOf: (name) => admission.get(name),
          clusters: () => admission.list(),
          ...(options.agentCertSeconds === undefined
            ? {}
            : { certSeconds: options.agentCertSeconds }),
          onError,
        });
        controller = started;
        const stops: Stopper[] = [['registration', () => started.stop()]];
        // Cluster sets, bindings and placements: the hub API server only, no tunnel.
        const clusterSets = createClusterSetController({ hub: options.hub, onError });
        const placement = createPlacementController({ hub: options.hub, onError });
        // ManifestWorkReplicaSets stamp ManifestWorks from PlacementDecisions: hub only too.
        const replicaSets = createManifestWorkReplicaSetController({ hub: options.hub, onError });
        clusterSets.start();
        placement.start();
        replicaSets.start();
        stops.push(
          ['cluster sets', () => clusterSets.stop()],
          ['placements', () => placement.stop()],
          ['ManifestWorkReplicaSets', () => replicaSets.stop()],
        );
        // Subscriptions: Git and Helm sources read and rendered here, delivered as
        // ManifestWorks (by the work controller below): hub only.
        const subscriptions = createSubscriptionController({
          hub: options.hub,
          tools: options.subscriptionTools ?? defaultRenderTools(),
          // `spokelink init` installs its admission policy, as the other policies.
          installAdmissionPolicy: false,
          onError,
        });
        subscriptions.start();
        stops.push(['subscriptions', () => subscriptions.stop()]);
        // Policies are replicated to the clusters their PlacementBindings place: hub only.
        // `spokelink init` installs the Policy admission policy, as the ManifestWork one.
        const policyPropagator = createPolicyPropagator({
          hub: options.hub,
          onError,
          installAdmissionPolicy: false,
        });
        policyPropagator.start();
        stops.push(['policy propagator', () => policyPropagator.stop()]);
        // The status and add-on controllers read spokes through this replica's tunnels.
        const tunnel = server;
        if (tunnel !== undefined) {
          const spokeKubeConfig = (cluster: string) =>
            tunnel.spokeKubeConfig(cluster, HUB_CONTROLLER_IDENTITY);
          // One ManagedCluster cache and one ManagedClusterAddOn cache for the status and the
          // six add-on controllers: one watch each instead of one per controller, reads from
          // memory instead of a GET per reconcile and a list per resync; add-ons probing the
          // same path of a cluster share the request.
          const clusterCache = startManagedClusterCache(options.hub, {
            onError: (err) => onError('managed cluster cache', err),
          });
          const addOnCache = startAddOnCache(options.hub, {
            onError: (err) => onError('add-on cache', err),
          });
          stops.push(
            ['ManagedCluster cache', () => clusterCache.stop()],
            ['add-on cache', () => addOnCache.stop()],
          );
          const cachedAddOn = {
            clusters: clusterCache.store,
            addons: addOnCache.store,
            watch: clusterCache.watch,
            sharedProbes: shareProbes(),
          };
          const status = createClusterStatusController({
            store: clusterCache.store,
            watch: clusterCache.watch,
            hub: options.hub,
            server: tunnel,
            spokeKubeConfig,
            onError: (cluster, err) => onError(`cluster status ${cluster ?? ''}`.trim(), err),
          });
          const addOn = createClusterProxyAddOnController({
            ...cachedAddOn,
            hub: options.hub,
            server: tunnel,
            spokeKubeConfig,
            onError: (cluster, err) => onError(`cluster-proxy add-on ${cluster ?? ''}`.trim(), err),
          });
          status.start();
          addOn.start();
          stops.push(
            ['cluster status', () => status.stop()],
            ['cluster-proxy add-on', () => addOn.stop()],
          );
          // ManifestWorks are applied to their cluster through the tunnel.
          const work = createManifestWorkController({
            hub: options.hub,
            server: tunnel,
            spokeKubeConfig,
            // `spokelink init` installs the 500 KiB admission policy: the hub process needs no
            // right to write admission policies.
            installAdmissionPolicy: false,
            onError: (cluster, err) => onError(`manifest work ${cluster ?? ''}`.trim(), err),
          });
          // Work delivery as an add-on: `work-manager` Available per cluster.
          const workAddOn = createWorkAddOnController({
            ...cachedAddOn,
            hub: options.hub,
            server: tunnel,
            spokeKubeConfig,
            onError: (cluster, err) => onError(`work add-on ${cluster ?? ''}`.trim(), err),
          });
          const applicationAddOn = createApplicationAddOnController({
            ...cachedAddOn,
            hub: options.hub,
            server: tunnel,
            spokeKubeConfig,
            onError: (cluster, err) => onError(`application add-on ${cluster ?? ''}`.trim(), err),
          });
          work.start();
          workAddOn.start();
          applicationAddOn.start();
          stops.push(
            ['ManifestWorks', () => work.stop()],
            ['work-manager add-on', () => workAddOn.stop()],
            ['application-manager add-on', () => applicationAddOn.stop()],
          );
          // Managed service accounts: spoke ServiceAccounts and tokens through the tunnel, the
          // token Secrets in cluster namespaces (deploy/hub grants those through the ClusterRole
          // the controller binds there), and the `managed-serviceaccount` add-on.
          const accounts = createManagedServiceAccountController({
            hub: options.hub,
            server: tunnel,
            spokeKubeConfig,
            secretAccessClusterRole: MSA_SECRETS_CLUSTER_ROLE,
            onError: (cluster, err) =>
              onError(`managed service account ${cluster ?? ''}`.trim(), err),
          });
          const accountsAddOn = createManagedServiceAccountAddOnController({
            ...cachedAddOn,
            hub: options.hub,
            server: tunnel,
            spokeKubeConfig,
            onError: (cluster, err) =>
              onError(`managed-serviceaccount add-on ${cluster ?? ''}`.trim(), err),
          });
          accounts.start();
          accountsAddOn.start();
          stops.push(
            ['managed service accounts', () => accounts.stop()],
            ['managed-serviceaccount add-on', () => accountsAddOn.stop()],
          );
          // Replicated policies are evaluated (and enforced) on their cluster through the tunnel;
          // the `governance-policy-framework` and `config-policy-controller` add-ons.
          const policyEvaluator = createPolicyEvaluator({
            hub: options.hub,
            spokeKubeConfig,
            onError: (cluster, err) => onError(`policy ${cluster ?? ''}`.trim(), err),
          });
          const policyAddOns = createPolicyAddOnControllers({
            ...cachedAddOn,
            hub: options.hub,
            server: tunnel,
            spokeKubeConfig,
            onError: (cluster, err) => onError(`policy add-on ${cluster ?? ''}`.trim(), err),
          });
          policyEvaluator.start();
          for (const addOn of policyAddOns) addOn.start();
          stops.push(
            ['policy evaluator', () => policyEvaluator.stop()],
            ...policyAddOns.map((addOn, i): Stopper => [`policy add-on ${i}`, () => addOn.stop()]),
          );
        }
        isLeading = true;
        return async () => {
          isLeading = false;
          controller = undefined;
          await Promise.all(stops.map((stopper) => stopWarningIfSlow(stopper, logger)));
        };
      };
      if (options.leaderElection === false) {
        stoppers.push(['controllers', await startControllers()]);
      } else {
        let stopTerm: (() => Promise<void>) | undefined;
        const elector = createLeaderElector({
          kubeConfig: options.hub,
          namespace: HUB_NAMESPACE,
          name: 'spokelink-hub-controllers',
          identity: `${hostname()}_${randomUUID()}`,
          ...(options.leaseTimings ?? {}),
          onStartedLeading: async () => {
            stopTerm = await startControllers();
          },
          onStoppedLeading: async () => {
            const stop = stopTerm;
            stopTerm = undefined;
            await stop?.();
          },
        });
        elector.start();
        stoppers.push(['leader elector', () => elector.stop()]);
      }
    }
    const registrationPort = portOf(server?.addresses.registration);
    const gatewayPort = portOf(server?.addresses.gateway);
    let closing: Promise<void> | undefined;
    return {
      server,
      pki,
      admission,
      isLeader: () => isLeading,
      endpoints: {
        ...(registrationPort === undefined
          ? {}
          : { registration: `https://${advertise}:${registrationPort}` }),
        ...(gatewayPort === undefined ? {} : { gateway: `https://${advertise}:${gatewayPort}` }),
        tunnel,
      },
      close() {
        closing ??= (async () => {
          for (const stopper of stoppers.reverse())
            await stopWarningIfSlow(stopper, logger).catch(() => undefined);
        })();
        return closing;
      },
    };
  } catch (err: unknown) {
    for (const [, stop] of stoppers.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}
