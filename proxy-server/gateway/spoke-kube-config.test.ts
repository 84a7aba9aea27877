// ProxyServer.spokeKubeConfig over real loopback sockets (testing/gateway-rig.ts): requests,
// watches and upgrades of @kubernetes/client-node reach the agent API through the tunnel as the
// prefixed in-process identity; failures to reach the right agent surface as request errors.
import type { Buffer } from 'node:buffer';
import { request } from 'node:https';
import type { RequestOptions } from 'node:https';

import { HttpMethod, RequestContext, Watch } from '@kubernetes/client-node';
import { fetch } from 'undici';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';

import { isServerError } from '../errors.ts';
import { SILENT_LOGGER } from '../logger.ts';
import { startProxyServer } from '../proxy-server.ts';
import { createServerTestPki } from '../testing/test-pki.ts';
import { waitFor } from '../testing/wait-for.ts';
import {
  HUB_CONTROLLER_IDENTITY,
  HUB_CONTROLLERS_SPOKE_GROUP,
  inProcessSpokeIdentity,
} from './hub-controller-identity.ts';
import { AGENT_API_SERVER, withImpersonation } from './spoke-kube-config.ts';
import type { SpokeKubeConfig } from './spoke-kube-config.ts';
import type { EchoedRequest } from './testing/gateway-peers.ts';
import { addAgent, agentApiCerts, startRig } from './testing/gateway-rig.ts';

/** One GET the way client-node's fetch-based calls make it (Watch, Log, the API clients). */
async function get(
  config: SpokeKubeConfig,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const url = `${AGENT_API_SERVER}${path}`;
  const context = new RequestContext(url, HttpMethod.GET);
  await config.applySecurityAuthentication(context);
  const answer = await fetch(url, {
    headers: { ...context.getHeaders(), ...headers },
    dispatcher: context.getDispatcher() as Dispatcher,
  });
  return { status: answer.status, body: await answer.text() };
}

describe('withImpersonation', () => {
  const identity = { user: 'p:u', groups: ['p:g1', 'p:g2'] };
  it.each([
    [
      'an object',
      { Accept: 'a', 'Impersonate-User': 'x', 'Spokelink-Pass-Through': 'spoke-token' },
    ],
    ['a flat array', ['Accept', 'a', 'impersonate-group', 'x']],
    ['pairs', new Map([['accept', 'a']])],
  ])(
    'keeps the headers of %s, drops impersonation and the pass-through marker, adds the identity',
    (_name, headers) => {
      expect(withImpersonation(headers as never, identity)).toEqual({
        accept: 'a',
        'impersonate-user': 'p:u',
        'impersonate-group': ['p:g1', 'p:g2'],
      });
    },
  );
  it('sends no group header without groups', () => {
    expect(withImpersonation(undefined, { user: 'p:u', groups: [] })).toEqual({
      'impersonate-user': 'p:u',
    });
  });
});

describe('inProcessSpokeIdentity', () => {
  it('prefixes the user and each distinct group, system: names included', () => {
    expect(inProcessSpokeIdentity(HUB_CONTROLLER_IDENTITY, 'spokelink:hub:')).toEqual({
      user: 'spokelink:hub:system:spokelink:hub-controller',
      groups: [HUB_CONTROLLERS_SPOKE_GROUP],
    });
    expect(HUB_CONTROLLERS_SPOKE_GROUP).toBe('spokelink:hub:system:spokelink:controllers');
    expect(inProcessSpokeIdentity({ user: 'u', groups: ['g', 'g'] }, 'p:').groups).toEqual(['p:g']);
  });
  it.each([
    [{ user: '' }, 'user must be a non-empty printable ASCII string without spaces, got ""'],
    [{ user: 'a b' }, 'user must be a non-empty printable ASCII string without spaces, got "a b"'],
    [{ user: 'u', groups: ['system:masters'] }, 'group "system:masters" is refused'],
  ])('refuses %j', (identity, message) => {
    expect(() => inProcessSpokeIdentity(identity, 'p:')).toThrow(new TypeError(message));
  });
});

describe('ProxyServer.spokeKubeConfig', () => {
  it('reaches the agent API as the prefixed identity, groups on separate header lines', async () => {
    const { server, api } = await startRig();
    const config = server.spokeKubeConfig('c1', HUB_CONTROLLER_IDENTITY);
    expect(config.getCurrentCluster()?.server).toBe('https://agent-api');
    const answer = await get(config, '/api/v1/namespaces/kube-system', {
      'impersonate-user': 'spokelink:hub:someone-else',
    });
    expect(answer.status).toBe(200);
    const echoed = JSON.parse(answer.body) as EchoedRequest;
    expect(echoed.url).toBe('/api/v1/namespaces/kube-system');
    expect(echoed.caller).toBe('spokelink:gateway:test');
    expect(echoed.headers['host']).toEqual(['agent-api']);
    expect(echoed.headers['impersonate-user']).toEqual([
      'spokelink:hub:system:spokelink:hub-controller',
    ]);
    expect(echoed.headers['impersonate-group']).toEqual([HUB_CONTROLLERS_SPOKE_GROUP]);
    expect(echoed.headers['authorization']).toBeUndefined();

    // Two groups: two header lines.
    const other = server.spokeKubeConfig('c1', { user: 'u', groups: ['g1', 'g2'] });
    const second = JSON.parse((await get(other, '/version')).body) as EchoedRequest;
    expect(second.headers['impersonate-user']).toEqual(['spokelink:hub:u']);
    expect(second.headers['impersonate-group']).toEqual(['spokelink:hub:g1', 'spokelink:hub:g2']);
    expect(api.connections).toBeGreaterThan(0);

    await server.close();
    expect(server.stats()).toEqual({ agents: 0, openStreams: 0, pendingDials: 0 });
  });

  it('follows a watch with client-node Watch until the agent ends it', async () => {
    const { server, api } = await startRig();
    const events: string[] = [];
    let ended!: (err: unknown) => void;
    const done = new Promise((resolve) => (ended = resolve));
    const watch = new Watch(server.spokeKubeConfig('c1', HUB_CONTROLLER_IDENTITY));
    await watch.watch(
      '/watch',
      {},
      (type) => events.push(type),
      (err) => ended(err),
    );
    await waitFor('the first event', () => (events.length === 1 ? true : undefined));
    api.finishWatches();
    expect(await done).toBeNull();
    expect(events).toEqual(['ADDED', 'DELETED']);
  });

  it('relays an upgrade through the https.Agent of applyToHTTPSOptions', async () => {
    const { server } = await startRig();
    const options: RequestOptions = {};
    await server.spokeKubeConfig('c1', HUB_CONTROLLER_IDENTITY).applyToHTTPSOptions(options);
    const echoed = await new Promise<{ user: unknown; bytes: string }>((resolve, reject) => {
      const req = request({
        ...options,
        host: 'agent-api',
        path: '/exec',
        headers: { ...options.headers, connection: 'Upgrade', upgrade: 'test-echo' },
      });
      req.on('error', reject);
      req.on('upgrade', (res, socket) => {
        socket.on('error', reject);
        socket.once('data', (chunk: Buffer) => {
          resolve({ user: res.headers['x-impersonate-user'], bytes: chunk.toString() });
          socket.destroy();
        });
        socket.write('ping');
      });
      req.end();
    });
    expect(echoed).toEqual({
      user: 'spokelink:hub:system:spokelink:hub-controller',
      bytes: 'ping',
    });
    await waitFor('the upgraded stream to end', () =>
      server.stats().openStreams === 0 ? true : undefined,
    );
  });

  it('fails requests to a cluster without an agent, or whose agent is not of that cluster', async () => {
    const { server } = await startRig();
    const missing = get(server.spokeKubeConfig('nowhere', HUB_CONTROLLER_IDENTITY), '/version');
    await expect(missing).rejects.toMatchObject({
      cause: { code: 'PROTO_ERR_DIAL_FAILED', reason: 'no-agent' },
    });
    const c1 = agentApiCerts.get('c1');
    if (c1 === undefined) throw new Error('no c1 certificate');
    await addAgent(server, 'c2', c1); // c2's agent serves c1's certificate
    const impostor = get(server.spokeKubeConfig('c2', HUB_CONTROLLER_IDENTITY), '/version');
    await expect(impostor).rejects.toMatchObject({
      cause: {
        name: 'AgentIdentityError',
        message:
          'the agent API of cluster "c2" presented a certificate for "spokelink:agent:c1:a0", not an agent of "c2"',
      },
    });
    await waitFor('no stream left', () => (server.stats().openStreams === 0 ? true : undefined));
  });

  it('is refused without a gateway, for a bad identity, and once closing', async () => {
    const pki = createServerTestPki('spoke-kube-config-test-ca');
    const bare = await startProxyServer({
      tls: pki.serverTls,
      logger: SILENT_LOGGER,
      listen: { agentWebSocket: false, frontendGrpc: false, frontendWebSocket: false },
    });
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (err: unknown) {
        return isServerError(err) ? { code: err.code, message: err.message } : err;
      }
      return 'no error';
    };
    expect(refusal(() => bare.spokeKubeConfig('c1', HUB_CONTROLLER_IDENTITY))).toEqual({
      code: 'SERVER_ERR_INVALID_OPTIONS',
      message: 'spokeKubeConfig needs the gateway options (the gateway certificate for agent APIs)',
    });
    await bare.close();

    const { server } = await startRig();
    expect(refusal(() => server.spokeKubeConfig('c1', { user: 'system:masters' }))).toEqual({
      code: 'SERVER_ERR_INVALID_OPTIONS',
      message: 'spokeKubeConfig: user "system:masters" is refused',
    });
    await server.close();
    expect(refusal(() => server.spokeKubeConfig('c1', HUB_CONTROLLER_IDENTITY))).toEqual({
      code: 'SERVER_ERR_CLOSED',
      message: 'proxy-server is closed',
    });
  });
});
