/**
 * A @kubernetes/client-node `KubeConfig` for the hub's own in-process clients (its controllers):
 * every request, watch, log follow and WebSocket verb goes through the tunnel to the cluster's
 * agent API, over TLS with the gateway certificate, and arrives at the spoke API server as the
 * prefixed identity this config was made for (DESIGN §3.4). No credential of the spoke is ever
 * on the hub: the agent adds its own token, and the spoke's RBAC decides for the identity.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestOptions } from 'node:https';

import { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

import { AGENT_API_TARGET, PASS_THROUGH_HEADER } from '../../protocol/index.ts';

import type { SpokeIdentity } from './hub-identity.ts';
import type { SpokeClients } from './spoke-clients.ts';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type DispatchHeaders = Dispatcher.DispatchOptions['headers'];

const IMPERSONATE_USER = 'impersonate-user';
const IMPERSONATE_GROUP = 'impersonate-group';

/** The `server` of every SpokeKubeConfig: the agent API's name (TLS checks the agent's CN). */
export const AGENT_API_SERVER = `https://${AGENT_API_TARGET}`;

/**
 * `headers` (any shape undici accepts) as a plain object, without the caller's `impersonate-*`
 * headers and pass-through marker (this path always acts as the identity), plus the
 * identity's: one `Impersonate-User`, and the groups as an array so that each goes on its own
 * header line (joined with ", " they would name one group).
 */
export function withImpersonation(
  headers: DispatchHeaders,
  identity: SpokeIdentity,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const add = (name: string, value: unknown): void => {
    const lower = name.toLowerCase();
    if (
      lower.startsWith('impersonate-') ||
      lower === PASS_THROUGH_HEADER ||
      value === undefined ||
      value === null
    )
      return;
    const values = (Array.isArray(value) ? value : [value]).map(String);
    const previous = out[lower];
    const merged = previous === undefined ? values : [...[previous].flat(), ...values];
    out[lower] = merged.length === 1 ? (merged[0] as string) : merged;
  };
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) add(String(headers[i]), headers[i + 1]);
  } else if (headers !== undefined && headers !== null) {
    const entries =
      Symbol.iterator in headers
        ? (headers as Iterable<[string, unknown]>)
        : Object.entries(headers as Record<string, unknown>);
    for (const [name, value] of entries) add(name, value);
  }
  out[IMPERSONATE_USER] = identity.user;
  if (identity.groups.length > 0) out[IMPERSONATE_GROUP] = [...identity.groups];
  return out;
}

/**
 * The config of one cluster and one identity. Cheap to make (the connection pools belong to the
 * proxy-server and are shared by every identity), so callers may make one per use.
 *
 * Lifecycle: nothing to close; its requests fail once the proxy-server is closing (undici
 * `ClientClosedError`) and their connections end with it. Concurrency: any number of requests.
 * Failures to reach the agent API surface as request errors: a failed dial as ProtocolError
 * `PROTO_ERR_DIAL_FAILED` (e.g. reason `no-agent`), an agent certificate not naming the
 * cluster as `AgentIdentityError`; refusals by the agent or the spoke as HTTP answers (403).
 */
export class SpokeKubeConfig extends KubeConfig {
  /** The cluster every request of this config goes to. */
  readonly cluster: string;
  /** The prefixed user and groups the agent impersonates. */
  readonly identity: SpokeIdentity;
  readonly #clients: SpokeClients;
  #dispatcher: Dispatcher | undefined;

  constructor(clients: SpokeClients, cluster: string, identity: SpokeIdentity) {
    super();
    this.#clients = clients;
    this.cluster = cluster;
    this.identity = identity;
    this.loadFromOptions({
      clusters: [{ name: cluster, server: AGENT_API_SERVER, skipTLSVerify: false }],
      users: [{ name: identity.user }],
      contexts: [{ name: cluster, cluster, user: identity.user }],
      currentContext: cluster,
    });
  }

  /** fetch-based calls (API clients, Watch, Log, Health, Metrics): the cluster's dispatcher. */
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    // Not super's: this config has no credentials and the agent API has no CA of its own.
    this.#dispatcher ??= this.#clients
      .dispatcherFor(this.cluster)
      .compose(
        (dispatch) => (options, handler) =>
          dispatch(
            { ...options, headers: withImpersonation(options.headers, this.identity) },
            handler,
          ),
      );
    context.setDispatcher(this.#dispatcher as never);
  }

  /** node:https requests and WebSocket verbs (exec, attach, port-forward): the https.Agent. */
  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]) {
    const options = opts as RequestOptions;
    options.agent = this.#clients.httpsAgentFor(this.cluster);
    options.headers = withImpersonation(
      options.headers as OutgoingHttpHeaders | undefined as DispatchHeaders,
      this.identity,
    );
  }
}
