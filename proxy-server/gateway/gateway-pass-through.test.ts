// Spoke tokens through the cluster gateway over real loopback sockets (testing/gateway-rig.ts):
// a bearer token the hub does not authenticate goes to the agent API marked as pass-through,
// with the caller's Authorization and Impersonate-* and no impersonation of the gateway's; a
// hub token stays on the impersonated path; a hub that cannot answer sends nothing on.
import { Agent } from 'node:https';

import { describe, expect, it, onTestFinished } from 'vitest';

import type { EchoedRequest } from './testing/gateway-peers.ts';
import {
  call,
  carol,
  rawConnection,
  readUntil,
  startRig,
  statusBody,
} from './testing/gateway-rig.ts';

describe('cluster gateway pass-through of spoke tokens', () => {
  it("forwards a token the hub does not authenticate as is, with the caller's impersonation", async () => {
    const { gateway, hub, api, server } = await startRig();
    const res = await call(gateway, '/clusters/c1/echo/api/v1/namespaces/ns/pods?limit=1', {
      token: 'spoke-token',
      headers: {
        accept: 'application/json',
        'impersonate-user': 'system:serviceaccount:ns:other',
        'impersonate-group': ['g1', 'g2'],
      },
    });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body) as EchoedRequest;
    expect(echoed.url).toBe('/echo/api/v1/namespaces/ns/pods?limit=1');
    expect(echoed.caller).toBe('spokelink:gateway:test');
    expect(echoed.headers['authorization']).toEqual(['Bearer spoke-token']);
    expect(echoed.headers['spokelink-pass-through']).toEqual(['spoke-token']);
    expect(echoed.headers['impersonate-user']).toEqual(['system:serviceaccount:ns:other']);
    expect(echoed.headers['impersonate-group']).toEqual(['g1', 'g2']);
    expect(echoed.headers['host']).toEqual(['agent-api']);
    // The hub was asked who holds the token, and nothing else: no SubjectAccessReview.
    expect(hub.tokenReviews).toEqual(['spoke-token']);
    expect(hub.accessReviews).toEqual([]);
    expect(api.connections).toBe(1);
    const metrics = await server.metricsText();
    expect(metrics).toContain('spokelink_gateway_pass_through_total 1');
    expect(metrics).toContain('spokelink_gateway_requests_total{code="200"} 1');
    expect(metrics).toContain('spokelink_gateway_auth_failures_total{reason="not-a-hub-token"} 0');
  });

  it("relays the spoke's own refusal and costs one TokenReview per token for a burst", async () => {
    const { gateway, hub, api } = await startRig();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    onTestFinished(() => agent.destroy());
    const unauthorized = await call(gateway, '/clusters/c1/status/401', {
      token: 'spoke-token',
      agent,
    });
    expect(unauthorized.status).toBe(401);
    expect(JSON.parse(unauthorized.body)).toEqual({
      kind: 'Status',
      code: 401,
      message: 'answered 401',
    });
    for (let i = 0; i < 3; i++) {
      const res = await call(gateway, `/clusters/c1/echo/${i}`, { token: 'spoke-token', agent });
      expect(res.status).toBe(200);
    }
    expect(hub.tokenReviews).toEqual(['spoke-token']);
    expect(api.connections).toBe(1);
  });

  it("keeps a hub token on the impersonated path and drops a caller's pass-through marker", async () => {
    const { gateway, hub } = await startRig();
    const res = await call(gateway, '/clusters/c1/echo', {
      token: 'alice-token',
      headers: { 'spokelink-pass-through': 'spoke-token' },
    });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body) as EchoedRequest;
    expect(echoed.headers['spokelink-pass-through']).toBeUndefined();
    expect(echoed.headers['authorization']).toBeUndefined();
    expect(echoed.headers['impersonate-user']).toEqual(['spokelink:hub:alice']);
    expect(hub.accessReviews.map((r) => r.user)).toEqual(['alice']);
  });

  it('lets a client certificate from the hub client CA win over a token beside it', async () => {
    const { gateway, hub } = await startRig();
    const res = await call(gateway, '/clusters/c1/echo', { cert: carol, token: 'spoke-token' });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body) as EchoedRequest;
    expect(echoed.headers['impersonate-user']).toEqual(['spokelink:hub:carol']);
    expect(echoed.headers['authorization']).toBeUndefined();
    expect(echoed.headers['spokelink-pass-through']).toBeUndefined();
    expect(hub.tokenReviews).toEqual([]);
  });

  it('sends nothing on while the hub cannot say whether the token is its own', async () => {
    const { gateway, hub, api } = await startRig();
    hub.isFailing = true;
    const res = await call(gateway, '/clusters/c1/echo', { token: 'spoke-token' });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual(
      statusBody(
        503,
        'ServiceUnavailable',
        'cannot authenticate the token: the hub API server did not answer the TokenReview (hub answered 500: etcd is on fire)',
      ),
    );
    expect(api.connections).toBe(0);
  });

  it('passes an upgrade through without impersonation', async () => {
    const { gateway, hub, server } = await startRig();
    const socket = await rawConnection(gateway);
    socket.write(
      'POST /clusters/c1/exec?command=sh HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer spoke-token\r\n' +
        'Connection: Upgrade\r\nUpgrade: test-echo\r\n\r\n',
    );
    const switched = await readUntil(socket, /\r\n\r\n/);
    expect(switched).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    // The fake agent API names the Impersonate-User it received: none.
    expect(switched).toContain('X-Impersonate-User: undefined');
    const echoed = readUntil(socket, /ping-pong$/);
    socket.write('ping-pong');
    await echoed;
    socket.destroy();
    expect(hub.accessReviews).toEqual([]);
    expect(await server.metricsText()).toContain('spokelink_gateway_pass_through_total 1');
  });
});
