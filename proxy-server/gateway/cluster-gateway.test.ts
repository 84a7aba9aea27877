// The cluster gateway over real loopback sockets (testing/gateway-rig.ts): forwarding as the
// prefixed identity, dial failures, agent identity, watches, upgrades, reuse and hub failures.
import { Agent } from 'node:https';

import { describe, expect, it, onTestFinished } from 'vitest';

import { waitFor } from '../testing/wait-for.ts';
import type { EchoedRequest } from './testing/gateway-peers.ts';
import {
  addAgent,
  agentApiCerts,
  call,
  carol,
  rawConnection,
  readUntil,
  startRig,
  statusBody,
} from './testing/gateway-rig.ts';

describe('cluster gateway', () => {
  it('forwards an admitted request to the agent API as the prefixed identity', async () => {
    const { gateway, hub, api, server } = await startRig();
    expect(gateway).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await call(gateway, '/clusters/c1/echo/api/v1/namespaces?limit=5', {
      token: 'alice-token',
      headers: { accept: 'application/json', 'x-custom': 'kept' },
    });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body) as EchoedRequest;
    expect(echoed.method).toBe('GET');
    expect(echoed.url).toBe('/echo/api/v1/namespaces?limit=5');
    expect(echoed.caller).toBe('spokelink:gateway:test');
    expect(echoed.headers['impersonate-user']).toEqual(['spokelink:hub:alice']);
    // system: groups stay on the hub; the others are prefixed.
    expect(echoed.headers['impersonate-group']).toEqual(['spokelink:hub:devs']);
    expect(echoed.headers['authorization']).toBeUndefined();
    expect(echoed.headers['impersonate-uid']).toBeUndefined();
    expect(echoed.headers['host']).toEqual(['agent-api']);
    expect(echoed.headers['x-custom']).toEqual(['kept']);
    // The hub was asked about the caller's full identity.
    expect(hub.tokenReviews).toEqual(['alice-token']);
    expect(hub.accessReviews).toEqual([
      {
        user: 'alice',
        uid: 'uid-alice',
        groups: ['devs', 'system:serviceaccounts', 'system:authenticated'],
        resourceAttributes: {
          group: 'cluster.open-cluster-management.io',
          resource: 'managedclusters',
          subresource: 'proxy',
          name: 'c1',
          verb: 'get',
        },
      },
    ]);
    expect(api.connections).toBe(1);
    await server.close();
    expect(server.stats()).toEqual({ agents: 0, openStreams: 0, pendingDials: 0 });
  });

  it('streams a request body and checks the verb of the method', async () => {
    const { gateway, hub } = await startRig();
    const res = await call(gateway, '/clusters/c1/echo/api/v1/namespaces', {
      method: 'POST',
      token: 'alice-token',
      headers: { 'content-type': 'application/json' },
      body: '{"kind":"Namespace"}',
    });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body) as EchoedRequest;
    expect(echoed.method).toBe('POST');
    expect(echoed.body).toBe('{"kind":"Namespace"}');
    expect(hub.accessReviews.map((r) => r.resourceAttributes['verb'])).toEqual(['create']);
  });

  it('authenticates a client certificate from the hub client CA without asking the hub', async () => {
    const { gateway, hub } = await startRig();
    const res = await call(gateway, '/clusters/c1/echo/version', { cert: carol });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body) as EchoedRequest;
    expect(echoed.headers['impersonate-user']).toEqual(['spokelink:hub:carol']);
    expect(echoed.headers['impersonate-group']).toEqual(['spokelink:hub:devs']);
    expect(hub.tokenReviews).toEqual([]);
    expect(hub.accessReviews.map((r) => [r.user, r.groups])).toEqual([
      ['carol', ['devs', 'system:masters', 'system:authenticated']],
    ]);
  });

  it('answers 503 with the dial failure for a cluster without an agent', async () => {
    const { gateway } = await startRig();
    const res = await call(gateway, '/clusters/c9/api', { token: 'alice-token' });
    expect(res.status).toBe(503);
    expect(res.headers['spokelink-dial-failure']).toBe('no-agent');
    const status = JSON.parse(res.body) as { reason: string; message: string };
    expect(status.reason).toBe('ServiceUnavailable');
    expect(status.message).toMatch(/^cannot reach cluster "c9" through the tunnel \(no-agent\): /);
  });

  it('refuses (502) an agent whose certificate names another cluster', async () => {
    const { gateway, server } = await startRig();
    const c1 = agentApiCerts.get('c1');
    if (c1 === undefined) throw new Error('no c1 certificate');
    const impostor = await addAgent(server, 'c2', c1); // c2's agent serves c1's certificate
    const res = await call(gateway, '/clusters/c2/echo', { token: 'alice-token' });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toEqual(
      statusBody(
        502,
        'InternalError',
        'the agent API of cluster "c2" presented a certificate for "spokelink:agent:c1:a0", not an agent of "c2"',
      ),
    );
    expect(impostor.connections).toBe(1);
    await waitFor('the refused stream to close', () =>
      server.stats().openStreams === 0 ? true : undefined,
    );
  });

  it('relays the spoke status and streams a watch chunk by chunk', async () => {
    const { gateway, api } = await startRig();
    const notFound = await call(gateway, '/clusters/c1/status/404', { token: 'alice-token' });
    expect(notFound.status).toBe(404);
    expect(JSON.parse(notFound.body)).toMatchObject({ message: 'answered 404' });

    const socket = await rawConnection(gateway);
    socket.write(
      'GET /clusters/c1/watch?watch=1 HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer alice-token\r\n\r\n',
    );
    const head = await readUntil(socket, /"type":"ADDED"/);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toContain('Transfer-Encoding: chunked');
    const rest = readUntil(socket, /"type":"DELETED"[\s\S]*0\r\n\r\n$/);
    api.finishWatches();
    await rest;
  });

  it('relays an upgrade after the same checks, bytes both ways', async () => {
    const { gateway, api, server } = await startRig();
    const refused = await rawConnection(gateway);
    refused.write(
      'POST /clusters/c1/exec HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: test-echo\r\n\r\n',
    );
    const answer = await readUntil(refused, /\}$/);
    expect(answer).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(api.connections).toBe(0);

    const socket = await rawConnection(gateway);
    socket.write(
      'POST /clusters/c1/exec?command=sh HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer alice-token\r\n' +
        'Connection: Upgrade\r\nUpgrade: test-echo\r\n\r\n',
    );
    const switched = await readUntil(socket, /\r\n\r\n/);
    expect(switched).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(switched).toContain('X-Impersonate-User: spokelink:hub:alice');
    const echoed = readUntil(socket, /ping-pong$/);
    socket.write('ping-pong');
    await echoed;
    socket.destroy();
    await waitFor('the upgraded stream to close', () =>
      server.stats().openStreams === 0 ? true : undefined,
    );
    expect(await server.metricsText()).toContain('spokelink_gateway_requests_total{code="101"} 1');
  });

  it('reuses one agent connection and one review for a burst of requests', async () => {
    const { gateway, api, hub } = await startRig();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    onTestFinished(() => agent.destroy());
    for (let i = 0; i < 3; i++) {
      const res = await call(gateway, `/clusters/c1/echo/${i}`, { token: 'alice-token', agent });
      expect(res.status).toBe(200);
    }
    expect(api.connections).toBe(1);
    expect(hub.tokenReviews).toHaveLength(1);
    expect(hub.accessReviews).toHaveLength(1);
  });

  it('answers 503 while the hub fails, and does not remember the failure', async () => {
    const { gateway, hub } = await startRig();
    hub.isFailing = true;
    const failed = await call(gateway, '/clusters/c1/echo', { token: 'alice-token' });
    expect(failed.status).toBe(503);
    expect(JSON.parse(failed.body)).toEqual(
      statusBody(
        503,
        'ServiceUnavailable',
        'cannot authenticate the token: the hub API server did not answer the TokenReview (hub answered 500: etcd is on fire)',
      ),
    );
    hub.isFailing = false;
    const ok = await call(gateway, '/clusters/c1/echo', { token: 'alice-token' });
    expect(ok.status).toBe(200);
  });
});
