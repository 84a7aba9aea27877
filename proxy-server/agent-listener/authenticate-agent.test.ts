import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';

import { ServerError } from '../errors.ts';
import { authenticateAgent, refusalStatus } from './authenticate-agent.ts';
import type { AgentCredentials } from './authenticate-agent.ts';

const CN_A1 = 'spokelink:agent:a:a1';

function creds(extra: Partial<AgentCredentials>): AgentCredentials {
  return { commonName: CN_A1, agentId: ['a/a1'], agentIdentifiers: [], ...extra };
}

describe('authenticateAgent', () => {
  it.each([
    { name: 'no identifiers', input: creds({}), hosts: ['a'] },
    {
      name: 'aliases of its own cluster, lowercased, cluster first, deduplicated',
      input: creds({ agentIdentifiers: ['host=A.ns&host=a&host=a.svc.local&ipv4=10.0.0.1'] }),
      hosts: ['a', 'a.ns', 'a.svc.local'],
    },
    {
      name: 'several CNs: the last wins',
      input: creds({ commonName: ['spokelink:agent:b:b1', CN_A1] }),
      hosts: ['a'],
    },
  ])('accepts: $name', ({ input, hosts }) => {
    expect(authenticateAgent(input)).toEqual({
      cluster: 'a',
      agentName: 'a1',
      agentId: 'a/a1',
      hosts,
    });
  });

  it.each([
    {
      name: 'no client certificate',
      input: creds({ commonName: undefined }),
      code: 'SERVER_ERR_AGENT_UNAUTHENTICATED',
      message: 'agent presented no client certificate',
    },
    {
      name: 'a certificate that is not an agent certificate',
      input: creds({ commonName: 'spokelink:hub:controller' }),
      code: 'SERVER_ERR_AGENT_UNAUTHENTICATED',
      message:
        'client certificate CN "spokelink:hub:controller" is not an agent certificate (expected spokelink:agent:<cluster>:<agentName>)',
    },
    {
      name: 'agentID claiming another cluster',
      input: creds({ agentId: ['b/a1'] }),
      code: 'SERVER_ERR_CLUSTER_MISMATCH',
      message: 'agentID "b/a1" claims cluster "b" but the client certificate is for cluster "a"',
    },
    {
      name: 'agentID naming another agent of the cluster',
      input: creds({ agentId: ['a/a2'] }),
      code: 'SERVER_ERR_AGENT_ID_MISMATCH',
      message: 'agentID "a/a2" does not match the client certificate\'s agent "a/a1"',
    },
    {
      name: 'agentID that is not cluster/agent (an ANP UUID)',
      input: creds({ agentId: ['6f1c0c3e-0000-4000-8000-000000000000'] }),
      code: 'SERVER_ERR_AGENT_ID_MISMATCH',
      message:
        'agentID "6f1c0c3e-0000-4000-8000-000000000000" does not match the client certificate\'s agent "a/a1"',
    },
    {
      name: 'no agentID',
      input: creds({ agentId: [] }),
      code: 'SERVER_ERR_INVALID_AGENT_METADATA',
      message: 'metadata agentID must have exactly one value, got 0',
    },
    {
      name: 'two agentIDs',
      input: creds({ agentId: ['a/a1', 'a/a1'] }),
      code: 'SERVER_ERR_INVALID_AGENT_METADATA',
      message: 'metadata agentID must have exactly one value, got 2',
    },
    {
      name: 'an identifier host of another cluster',
      input: creds({ agentIdentifiers: ['host=a.ns&host=b.ns'] }),
      code: 'SERVER_ERR_CLUSTER_MISMATCH',
      message:
        'agentIdentifiers host "b.ns" is outside cluster "a" of the client certificate (hosts must be "a" or start with "a.")',
    },
    {
      name: 'an identifier host that only starts with the cluster name',
      input: creds({ agentIdentifiers: ['host=ab'] }),
      code: 'SERVER_ERR_CLUSTER_MISMATCH',
      message:
        'agentIdentifiers host "ab" is outside cluster "a" of the client certificate (hosts must be "a" or start with "a.")',
    },
    {
      name: 'unparsable identifiers',
      input: creds({ agentIdentifiers: ['host=a;host=b'] }),
      code: 'SERVER_ERR_INVALID_AGENT_METADATA',
      message: 'agentIdentifiers uses ";" as a separator, only "&" is allowed',
    },
  ])('refuses: $name', ({ input, code, message }) => {
    let caught: unknown;
    try {
      authenticateAgent(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ServerError);
    expect(caught).toMatchObject({ code, message });
  });
});

describe('refusalStatus', () => {
  it.each([
    { code: 'SERVER_ERR_AGENT_UNAUTHENTICATED', grpc: GrpcStatus.UNAUTHENTICATED, http: 403 },
    { code: 'SERVER_ERR_CLUSTER_MISMATCH', grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
    { code: 'SERVER_ERR_AGENT_ID_MISMATCH', grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
    { code: 'SERVER_ERR_INVALID_AGENT_METADATA', grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
    { code: 'SERVER_ERR_CLOSED', grpc: GrpcStatus.UNAVAILABLE, http: 503 },
  ] as const)('$code → gRPC $grpc, HTTP $http', ({ code, grpc, http }) => {
    expect(refusalStatus(new ServerError(code, 'x'))).toEqual({ grpc, http });
  });

  it('anything else is internal', () => {
    expect(refusalStatus(new Error('boom'))).toEqual({ grpc: GrpcStatus.INTERNAL, http: 500 });
  });
});
