/**
 * The agent's registration state on its own spoke, read and written with its ServiceAccount:
 * the bootstrap Secret `spokelink join` wrote, and the Secret holding the agent's key and the
 * certificate the hub issued (so a restarted agent reuses them and needs no new token).
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';

import {
  SPOKE_BOOTSTRAP_SECRET,
  SPOKE_HUB_CLIENT_SECRET,
  type TunnelEndpoints,
} from '../../protocol/index.ts';
import { AgentError } from '../errors.ts';

/** What `spokelink join` left for the agent. */
export interface BootstrapConfig {
  /** `https://host:port` of the hub's registration API. */
  readonly hub: string;
  readonly token: string;
  readonly clusterName: string;
  readonly agentName: string;
  readonly caHash?: string;
  readonly transport?: 'grpc' | 'websocket';
}

/** The agent's hub identity as stored. */
export interface StoredIdentity {
  readonly keyPem?: string;
  readonly certPem?: string;
  readonly caPem?: string;
  readonly requestName?: string;
  readonly tunnel?: TunnelEndpoints;
}

function text(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Reads and writes the two Secrets in `namespace`. Stateless; one API call per method. */
export class SpokeSecrets {
  readonly #core: CoreV1Api;
  readonly #namespace: string;

  constructor(kubeConfig: KubeConfig, namespace: string) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#namespace = namespace;
  }

  /** The bootstrap configuration; AgentError `AGENT_ERR_INVALID_OPTIONS` when absent/incomplete. */
  async bootstrap(): Promise<BootstrapConfig> {
    const secret = await this.#read(SPOKE_BOOTSTRAP_SECRET);
    const where = `Secret ${this.#namespace}/${SPOKE_BOOTSTRAP_SECRET}`;
    if (secret === undefined) {
      throw new AgentError(
        'AGENT_ERR_INVALID_OPTIONS',
        `${where} does not exist: run \`spokelink join\` on this cluster first`,
      );
    }
    const need = (key: string): string => {
      const value = text(secret, key);
      if (value === undefined || value === '') {
        throw new AgentError('AGENT_ERR_INVALID_OPTIONS', `${where} has no "${key}"`);
      }
      return value;
    };
    const transport = text(secret, 'transport');
    if (transport !== undefined && transport !== 'grpc' && transport !== 'websocket') {
      throw new AgentError(
        'AGENT_ERR_INVALID_OPTIONS',
        `${where}: transport must be grpc or websocket`,
      );
    }
    const caHash = text(secret, 'ca-hash');
    return {
      hub: need('hub'),
      token: need('token'),
      clusterName: need('cluster-name'),
      agentName: need('agent-name'),
      ...(caHash === undefined || caHash === '' ? {} : { caHash }),
      ...(transport === undefined ? {} : { transport }),
    };
  }

  /** The stored identity (all fields optional: a fresh spoke has none). */
  async identity(): Promise<StoredIdentity> {
    const secret = await this.#read(SPOKE_HUB_CLIENT_SECRET);
    const tunnel = text(secret, 'tunnel.json');
    const fields: Record<string, unknown> = {
      keyPem: text(secret, 'tls.key'),
      certPem: text(secret, 'tls.crt'),
      caPem: text(secret, 'ca.crt'),
      requestName: text(secret, 'request-name'),
      tunnel: tunnel === undefined ? undefined : (JSON.parse(tunnel) as TunnelEndpoints),
    };
    return Object.fromEntries(
      Object.entries(fields).filter(([, v]) => v !== undefined && v !== ''),
    ) as StoredIdentity;
  }

  /** Replaces the stored identity with `identity` (create or update). */
  async saveIdentity(identity: StoredIdentity): Promise<void> {
    const stringData: Record<string, string> = {};
    if (identity.keyPem !== undefined) stringData['tls.key'] = identity.keyPem;
    if (identity.certPem !== undefined) stringData['tls.crt'] = identity.certPem;
    if (identity.caPem !== undefined) stringData['ca.crt'] = identity.caPem;
    if (identity.requestName !== undefined) stringData['request-name'] = identity.requestName;
    if (identity.tunnel !== undefined) stringData['tunnel.json'] = JSON.stringify(identity.tunnel);
    const body: V1Secret = {
      metadata: {
        name: SPOKE_HUB_CLIENT_SECRET,
        namespace: this.#namespace,
        labels: { 'app.kubernetes.io/managed-by': 'spokelink' },
      },
      type: 'Opaque',
      stringData,
    };
    try {
      await this.#core.replaceNamespacedSecret({
        name: SPOKE_HUB_CLIENT_SECRET,
        namespace: this.#namespace,
        body,
      });
    } catch (err: unknown) {
      if (statusOf(err) !== 404) throw err;
      await this.#core.createNamespacedSecret({ namespace: this.#namespace, body });
    }
  }

  async #read(name: string): Promise<V1Secret | undefined> {
    try {
      return await this.#core.readNamespacedSecret({ name, namespace: this.#namespace });
    } catch (err: unknown) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }
}
