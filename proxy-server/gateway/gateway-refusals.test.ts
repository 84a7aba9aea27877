// Every request the cluster gateway refuses before dialling, with its exact Status, its metric
// and no agent connection (testing/gateway-rig.ts).
import type { OutgoingHttpHeaders } from 'node:http';

import { describe, expect, it } from 'vitest';

import { call, eve, startRig, statusBody } from './testing/gateway-rig.ts';

describe('cluster gateway refusals', () => {
  const FORBIDDEN_MALLORY =
    'managedclusters.cluster.open-cluster-management.io "c1" is forbidden: User "mallory" cannot get resource "managedclusters/proxy" in API group "cluster.open-cluster-management.io" at the cluster scope';

  it.each([
    {
      name: 'no credentials',
      path: '/clusters/c1/api',
      options: {},
      status: statusBody(
        401,
        'Unauthorized',
        'Unauthorized: send a bearer token (of the hub or of the spoke) or a client certificate from the hub',
      ),
      reason: 'no-credentials',
    },
    {
      name: 'a token the hub does not know beside a client certificate from another CA',
      path: '/clusters/c1/api',
      options: { token: 'spoke-token', cert: eve },
      status: statusBody(
        401,
        'Unauthorized',
        'Unauthorized: the bearer token is not a hub token, and a client certificate the hub does not accept came with it; a spoke token passes through only without a client certificate',
      ),
      reason: 'not-a-hub-token',
    },
    {
      name: 'two Authorization headers',
      path: '/clusters/c1/api',
      // Node writes an array as repeated header lines (its types only allow one value).
      options: {
        headers: {
          authorization: ['Bearer spoke-token', 'Bearer alice-token'],
        } as unknown as OutgoingHttpHeaders,
      },
      status: statusBody(
        401,
        'Unauthorized',
        'Unauthorized: send exactly one Authorization header',
      ),
      reason: 'malformed-authorization',
    },
    {
      name: 'a Basic authorization',
      path: '/clusters/c1/api',
      options: { headers: { authorization: 'Basic YTpi' } },
      status: statusBody(
        401,
        'Unauthorized',
        'Unauthorized: the Authorization header must be "Bearer <token>"',
      ),
      reason: 'malformed-authorization',
    },
    {
      name: 'a client certificate from another CA',
      path: '/clusters/c1/api',
      options: { cert: eve },
      status: statusBody(
        401,
        'Unauthorized',
        "Unauthorized: the client certificate is not from the hub's client CA (SELF_SIGNED_CERT_IN_CHAIN)",
      ),
      reason: 'untrusted-certificate',
    },
    {
      name: 'a user the hub denies',
      path: '/clusters/c1/api',
      options: { token: 'mallory-token' },
      status: statusBody(403, 'Forbidden', FORBIDDEN_MALLORY, {
        name: 'c1',
        group: 'cluster.open-cluster-management.io',
        kind: 'managedclusters',
      }),
      reason: 'forbidden',
    },
    {
      name: 'a caller asking to impersonate',
      path: '/clusters/c1/api',
      options: { token: 'alice-token', headers: { 'impersonate-user': 'bob' } },
      status: statusBody(
        403,
        'Forbidden',
        'impersonation is not supported through the cluster gateway (header impersonate-user): the gateway impersonates the caller itself',
      ),
      reason: 'impersonation-refused',
    },
    {
      name: 'the user system:masters',
      path: '/clusters/c1/api',
      options: { token: 'masters-token' },
      status: statusBody(
        403,
        'Forbidden',
        'the user "system:masters" cannot act on clusters through the gateway',
      ),
      reason: 'refused-identity',
    },
    {
      name: 'a path outside /clusters/<cluster>/',
      path: '/api/v1/namespaces',
      options: { token: 'alice-token' },
      status: statusBody(
        404,
        'NotFound',
        'the cluster gateway serves /clusters/<cluster>/…; "/api/v1/namespaces" is not found',
      ),
      reason: undefined,
    },
    {
      name: 'a cluster name that is not a DNS label',
      path: '/clusters/C_1/api',
      options: { token: 'alice-token' },
      status: statusBody(
        404,
        'NotFound',
        'the cluster gateway serves /clusters/<cluster>/…; "/clusters/C_1/api" is not found',
      ),
      reason: undefined,
    },
  ])('refuses $name before dialling', async ({ path, options, status, reason }) => {
    const { gateway, api, server } = await startRig();
    const res = await call(gateway, path, options);
    expect(JSON.parse(res.body)).toEqual(status);
    expect(res.status).toBe((status as { code: number }).code);
    expect(res.headers['content-type']).toBe('application/json');
    expect(api.connections).toBe(0);
    const metrics = await server.metricsText();
    if (reason !== undefined)
      expect(metrics).toContain(`spokelink_gateway_auth_failures_total{reason="${reason}"} 1`);
    expect(metrics).toContain(
      `spokelink_gateway_requests_total{code="${(status as { code: number }).code}"} 1`,
    );
  });
});
