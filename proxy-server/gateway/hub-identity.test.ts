// The gateway's identity rules: the spoke identity of a hub user, the SubjectAccessReview verb
// of each method, the API server's forbidden wording, and the request path → cluster mapping.
import { describe, expect, it } from 'vitest';

import { gatewayClusterUrl, parseClusterPath } from './cluster-path.ts';
import { agentRequestHeaders } from './forward-headers.ts';
import {
  forbiddenMessage,
  impersonationHeaders,
  proxyVerb,
  spokeIdentity,
} from './hub-identity.ts';
import type { HubUser } from './hub-identity.ts';

const PREFIX = 'spokelink:hub:';

describe('spokeIdentity', () => {
  it.each<{ name: string; user: HubUser; expected: unknown }>([
    {
      name: 'a service account: system: groups dropped, the user kept whole',
      user: {
        username: 'system:serviceaccount:team:alice',
        uid: 'u1',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
      },
      expected: { user: 'spokelink:hub:system:serviceaccount:team:alice', groups: [] },
    },
    {
      name: 'a hub admin: system:masters dropped, other groups prefixed',
      user: {
        username: 'sandbox-admin',
        groups: ['system:masters', 'sandbox-admins', 'system:authenticated'],
      },
      expected: { user: 'spokelink:hub:sandbox-admin', groups: ['spokelink:hub:sandbox-admins'] },
    },
    {
      name: 'repeated and empty groups',
      user: { username: 'bob', groups: ['devs', 'devs', '', 'ops'] },
      expected: { user: 'spokelink:hub:bob', groups: ['spokelink:hub:devs', 'spokelink:hub:ops'] },
    },
    {
      name: 'the user system:masters',
      user: { username: 'system:masters', groups: [] },
      expected: { message: 'the user "system:masters" cannot act on clusters through the gateway' },
    },
  ])('maps $name', ({ user, expected }) => {
    expect(spokeIdentity(user, PREFIX)).toEqual(expected);
  });
});

describe('proxyVerb', () => {
  it.each([
    ['GET', 'get'],
    ['HEAD', 'get'],
    ['POST', 'create'],
    ['PUT', 'update'],
    ['PATCH', 'patch'],
    ['DELETE', 'delete'],
    ['OPTIONS', undefined],
    ['CONNECT', undefined],
    [undefined, undefined],
  ])('%s → %s', (method, verb) => {
    expect(proxyVerb(method)).toBe(verb);
  });
});

describe('forbiddenMessage', () => {
  it('words a denial as the API server does, with the authorizer reason appended', () => {
    expect(forbiddenMessage('mallory', 'get', 'c1')).toBe(
      'managedclusters.cluster.open-cluster-management.io "c1" is forbidden: User "mallory" cannot get resource "managedclusters/proxy" in API group "cluster.open-cluster-management.io" at the cluster scope',
    );
    expect(forbiddenMessage('mallory', 'create', 'c1', 'no binding')).toMatch(
      /cannot create resource "managedclusters\/proxy" .* at the cluster scope: no binding$/,
    );
  });
});

describe('parseClusterPath', () => {
  it.each([
    [
      '/clusters/c1/api/v1/namespaces?limit=5',
      { cluster: 'c1', path: '/api/v1/namespaces?limit=5' },
    ],
    ['/clusters/c1', { cluster: 'c1', path: '/' }],
    ['/clusters/c1/', { cluster: 'c1', path: '/' }],
    ['/clusters/c1?timeout=32s', { cluster: 'c1', path: '/?timeout=32s' }],
    ['/clusters/cluster-1/../x', { cluster: 'cluster-1', path: '/../x' }],
    ['/clusters/', undefined],
    ['/clusters/C1/api', undefined],
    ['/clusters/c_1/api', undefined],
    ['/clusters/-c/api', undefined],
    ['/cluster/c1/api', undefined],
    ['https://hub/clusters/c1/api', undefined],
    [undefined, undefined],
  ])('%s', (url, expected) => {
    expect(parseClusterPath(url)).toEqual(expected);
  });

  it('builds the URL of a cluster under a gateway', () => {
    expect(gatewayClusterUrl('https://127.0.0.1:9092/', 'c1')).toBe(
      'https://127.0.0.1:9092/clusters/c1',
    );
    expect(() => gatewayClusterUrl('https://h', 'C1')).toThrow(
      'cluster name "C1" is not a DNS label',
    );
  });
});

describe('agentRequestHeaders', () => {
  it("drops the caller's credentials, impersonation and hop-by-hop headers, and adds the gateway's", () => {
    const headers = agentRequestHeaders(
      {
        authorization: ['Bearer secret'],
        'impersonate-user': ['root'],
        'impersonate-extra-scopes': ['x'],
        host: ['gw:9092'],
        connection: ['keep-alive, x-hop'],
        'x-hop': ['1'],
        'keep-alive': ['timeout=5'],
        expect: ['100-continue'],
        accept: ['application/json'],
        'content-length': ['12'],
      },
      {
        kind: 'impersonate',
        identity: { user: 'spokelink:hub:alice', groups: ['spokelink:hub:a', 'spokelink:hub:b'] },
      },
    );
    expect(headers).toEqual({
      accept: 'application/json',
      'content-length': '12',
      host: 'agent-api',
      'impersonate-user': 'spokelink:hub:alice',
      'impersonate-group': ['spokelink:hub:a', 'spokelink:hub:b'],
    });
  });

  it('keeps the upgrade and re-frames a chunked body', () => {
    expect(
      agentRequestHeaders(
        { connection: ['Upgrade'], upgrade: ['SPDY/3.1'] },
        { kind: 'impersonate', identity: { user: 'spokelink:hub:alice', groups: [] } },
        ['SPDY/3.1'],
      ),
    ).toEqual({
      host: 'agent-api',
      connection: 'Upgrade',
      upgrade: 'SPDY/3.1',
      'impersonate-user': 'spokelink:hub:alice',
    });
    expect(
      agentRequestHeaders(
        { 'transfer-encoding': ['chunked'] },
        { kind: 'impersonate', identity: { user: 'spokelink:hub:a', groups: [] } },
      ),
    ).toMatchObject({ 'transfer-encoding': 'chunked' });
  });

  it("passes a spoke token through: the reviewed Authorization, the caller's Impersonate-*, the marker", () => {
    const headers = agentRequestHeaders(
      {
        authorization: ['bearer   spoke-token'],
        'impersonate-user': ['system:serviceaccount:ns:other'],
        'impersonate-group': ['g1', 'g2'],
        'spokelink-pass-through': ['forged'],
        host: ['gw:9092'],
        connection: ['keep-alive'],
        expect: ['100-continue'],
        accept: ['application/json'],
      },
      { kind: 'pass-through', authorization: 'Bearer spoke-token' },
    );
    expect(headers).toEqual({
      accept: 'application/json',
      host: 'agent-api',
      authorization: 'Bearer spoke-token',
      'impersonate-user': 'system:serviceaccount:ns:other',
      'impersonate-group': ['g1', 'g2'],
      'spokelink-pass-through': 'spoke-token',
    });
    expect(
      agentRequestHeaders(
        { connection: ['Upgrade'], upgrade: ['websocket'], authorization: ['Bearer s'] },
        { kind: 'pass-through', authorization: 'Bearer s' },
        ['websocket'],
      ),
    ).toEqual({
      host: 'agent-api',
      connection: 'Upgrade',
      upgrade: 'websocket',
      authorization: 'Bearer s',
      'spokelink-pass-through': 'spoke-token',
    });
  });

  it("drops a caller's pass-through marker on the impersonated path", () => {
    expect(
      agentRequestHeaders(
        { 'spokelink-pass-through': ['spoke-token'], authorization: ['Bearer hub'] },
        { kind: 'impersonate', identity: { user: 'spokelink:hub:alice', groups: [] } },
      ),
    ).toEqual({ host: 'agent-api', 'impersonate-user': 'spokelink:hub:alice' });
  });

  it('lists the impersonation headers a caller sent', () => {
    expect(
      impersonationHeaders({ accept: 'x', 'impersonate-group': 'g', 'Impersonate-Uid': '1' }),
    ).toEqual(['impersonate-group', 'Impersonate-Uid']);
  });
});
