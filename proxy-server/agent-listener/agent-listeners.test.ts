// Agent listeners over real loopback sockets: the server hello, and every refusal that must
// happen BEFORE a tunnel is accepted, over gRPC and WebSocket alike.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { IssuedCert } from '../../certs/index.ts';
import { SILENT_LOGGER } from '../logger.ts';
import { startProxyServer } from '../proxy-server.ts';
import type { ProxyServer } from '../proxy-server.ts';
import { connectTestAgent, expectRefusal } from '../testing/test-peers.ts';
import type { TestAgentOptions } from '../testing/test-peers.ts';
import { createServerTestPki } from '../testing/test-pki.ts';
import { waitFor } from '../testing/wait-for.ts';

const pki = createServerTestPki();
const foreign = createServerTestPki('foreign-ca');
let server: ProxyServer;

beforeAll(async () => {
  server = await startProxyServer({
    tls: pki.serverTls,
    logger: SILENT_LOGGER,
    serverId: 'hub-1',
    serverCount: 2,
    listen: { frontendGrpc: false, connect: false, health: false },
  });
});
afterAll(() => server.close());

const transports = ['grpc', 'websocket'] as const;
type Transport = (typeof transports)[number];

function agentOptions(
  transport: Transport,
  cert: IssuedCert,
  agentId: string,
  extra: Partial<TestAgentOptions> = {},
): TestAgentOptions {
  const address =
    transport === 'grpc' ? server.addresses.agentGrpc : server.addresses.agentWebSocket;
  return {
    transport,
    address: address as string,
    tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: pki.ca.certPem },
    agentId,
    ...extra,
  };
}

/** The refusal as the peer sees it: the gRPC status text, or the HTTP body (one line). */
function expected(transport: Transport, grpcCode: GrpcStatus, httpStatus: number, message: string) {
  return transport === 'grpc'
    ? { code: grpcCode, message }
    : { code: httpStatus, message: `${message}\n` };
}

describe.each(transports)('%s agent listener', (transport) => {
  it("accepts an agent of its certificate's cluster and sends serverID, serverCount and extensions", async () => {
    const agent = await connectTestAgent(
      agentOptions(transport, pki.agent('a', 'a1'), 'a/a1', { identifiers: 'host=a.ns' }),
    );
    expect({ id: agent.serverId, count: agent.serverCount, ext: agent.serverExtensions }).toEqual({
      id: 'hub-1',
      count: '2',
      ext: 'flow-control,half-close,error-codes,ping,stream-id,initial-window-64k',
    });
    const agents = await waitFor('the agent to register', () =>
      server.agents().length === 1 ? server.agents() : undefined,
    );
    expect(agents).toEqual([
      {
        cluster: 'a',
        agentId: 'a/a1',
        transport,
        isDraining: false,
        openStreams: 0,
        connectedAt: expect.any(Date),
      },
    ]);
    await agent.session.close();
    await agent.closed;
    await waitFor('the agent to be retired', () =>
      server.stats().agents === 0 ? true : undefined,
    );
  });

  it('refuses an agent certificate for cluster a whose agentID claims cluster b', async () => {
    const refusal = await expectRefusal(agentOptions(transport, pki.agent('a', 'a1'), 'b/a1'));
    expect(refusal).toEqual(
      expected(
        transport,
        GrpcStatus.PERMISSION_DENIED,
        403,
        'agentID "b/a1" claims cluster "b" but the client certificate is for cluster "a"',
      ),
    );
    expect(server.stats().agents).toBe(0);
  });

  it('refuses identifiers naming a host outside the cluster', async () => {
    const refusal = await expectRefusal(
      agentOptions(transport, pki.agent('a', 'a1'), 'a/a1', { identifiers: 'host=b' }),
    );
    expect(refusal).toEqual(
      expected(
        transport,
        GrpcStatus.PERMISSION_DENIED,
        403,
        'agentIdentifiers host "b" is outside cluster "a" of the client certificate (hosts must be "a" or start with "a.")',
      ),
    );
  });

  it('refuses a client certificate that is not an agent certificate', async () => {
    const refusal = await expectRefusal(agentOptions(transport, pki.frontend, 'a/a1'));
    expect(refusal).toEqual(
      expected(
        transport,
        GrpcStatus.UNAUTHENTICATED,
        403,
        'client certificate CN "spokelink:hub:test" is not an agent certificate (expected spokelink:agent:<cluster>:<agentName>)',
      ),
    );
  });

  it('refuses a certificate not issued by the CA during the TLS handshake', async () => {
    const refusal = await expectRefusal(agentOptions(transport, foreign.agent('a', 'a1'), 'a/a1'));
    expect(refusal.code).toBe(transport === 'grpc' ? GrpcStatus.UNAVAILABLE : 0);
    expect(server.stats().agents).toBe(0);
  });
});

describe('WebSocket agent listener, HTTP level', () => {
  it('answers 404 off /tunnel', async () => {
    const options = agentOptions('websocket', pki.agent('a', 'a1'), 'a/a1');
    const refusal = await expectRefusal({
      ...options,
      address: options.address.replace('/tunnel', '/other'),
    });
    expect(refusal).toEqual({ code: 404, message: 'no tunnel at "/other"; agents use /tunnel\n' });
  });
});
