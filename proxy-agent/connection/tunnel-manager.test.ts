// The reconnect loop's decisions with a scripted connector: the transports are small fakes
// (the real ones are covered end to end in proxy-agent.test.ts).
import { EventEmitter } from 'node:events';

import { describe, expect, it, onTestFinished } from 'vitest';

import { ProtocolError, TUNNEL_CLOSE_CODES } from '../../protocol/index.ts';
import type { PacketTransport } from '../../protocol/index.ts';
import { AgentError } from '../errors.ts';
import { validateOptions } from '../options.ts';
import { eventually, recordingLogger } from '../testing/helpers.ts';
import type { ConnectCallbacks, ConnectParams, Connector } from './connector.ts';
import { TunnelManager, isRefusal } from './tunnel-manager.ts';

class FakeTransport extends EventEmitter implements PacketTransport {
  bufferedBytes = 0;
  #isClosed = false;
  send(): boolean {
    return !this.#isClosed;
  }
  end(): void {
    this.destroy();
  }
  destroy(err?: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    queueMicrotask(() => this.emit('close', err));
  }
}

type Script = (params: ConnectParams, callbacks: ConnectCallbacks) => void;

function manager(
  servers: string[],
  script: Script,
  backoff: { jitter: number; random?: () => number } = { jitter: 0 },
) {
  const logger = recordingLogger();
  const attempts: string[] = [];
  const connector: Connector = (params, callbacks) => {
    attempts.push(params.address);
    setImmediate(() => script(params, callbacks));
    return { cancel: () => undefined };
  };
  const m = new TunnelManager({
    options: validateOptions({
      clusterName: 'c1',
      agentName: 'a0',
      servers,
      transport: 'grpc',
      tls: { certPem: 'C', keyPem: 'K', caPem: 'A' },
      kubeApiserver: '127.0.0.1:6443',
      backoff: { initialMs: 5, maxMs: 40, jitter: backoff.jitter },
      health: false,
      logger,
    }),
    connector,
    onDial: () => undefined,
    ...(backoff.random === undefined ? {} : { random: backoff.random }),
  });
  onTestFinished(() => m.destroy());
  m.start();
  return { m, attempts, logger };
}

function open(callbacks: ConnectCallbacks, serverId: string, serverCount: number): FakeTransport {
  const transport = new FakeTransport();
  callbacks.onOpen({
    serverId,
    serverCount,
    peerExtensions: new Set(),
    transport,
    release: () => undefined,
  });
  return transport;
}

describe('TunnelManager', () => {
  it('dials the addresses round-robin until it holds serverCount distinct servers', async () => {
    let next = 0;
    const { m, attempts } = manager(['a:1', 'b:1'], (_params, callbacks) => {
      next += 1;
      open(callbacks, `s${next}`, 3);
    });
    await eventually('three tunnels', () => m.size === 3);
    expect(attempts).toEqual(['a:1', 'b:1', 'a:1']);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(attempts).toHaveLength(3);
  });

  it('treats serverCount 0 as 1', async () => {
    const { m, attempts } = manager(['a:1'], (_params, callbacks) => open(callbacks, 's1', 0));
    await m.ready();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(m.serverCount).toBe(1);
    expect(attempts).toEqual(['a:1']);
  });

  it('retries a refusal at the maximum interval and other failures from the initial one', async () => {
    let calls = 0;
    const { logger } = manager(['a:1'], (params, callbacks) => {
      calls += 1;
      callbacks.onFail(
        calls === 1
          ? new AgentError(
              'AGENT_ERR_CONNECT_FAILED',
              `cannot connect to ${params.address}: refused`,
            )
          : new AgentError(
              'AGENT_ERR_REFUSED_BY_SERVER',
              `server ${params.address} refused the agent: no`,
            ),
      );
    });
    await eventually('three attempts', () => calls >= 3);
    const retries = logger.records.filter((r) => r.fields['retryInMs'] !== undefined);
    expect(retries.slice(0, 2).map((r) => [r.level, r.msg, r.fields['retryInMs']])).toEqual([
      ['warn', 'tunnel connect failed', 5],
      ['error', 'server refused the agent', 40],
    ]);
  });

  it('reconnects a lost tunnel with growing backoff', async () => {
    const transports: FakeTransport[] = [];
    const { m, logger } = manager(['a:1'], (_params, callbacks) => {
      transports.push(open(callbacks, 's1', 1));
    });
    await m.ready();
    transports[0]?.destroy(new Error('gone'));
    await eventually('second tunnel', () => transports.length === 2 && m.size === 1);
    transports[1]?.destroy(new Error('gone again'));
    await eventually('third tunnel', () => transports.length === 3 && m.size === 1);
    const delays = logger.records
      .filter((r) => r.msg === 'tunnel disconnected')
      .map((r) => r.fields['retryInMs']);
    expect(delays).toEqual([5, 8]);
  });

  // A fleet that loses its server at the same instant must not come back in lock-step: the
  // very first redial after a lost tunnel is already jittered (u = -1, 0, ~+1 below).
  it.each([
    { random: 0, expected: 4 },
    { random: 0.5, expected: 5 },
    { random: 0.999_999, expected: 6 },
  ])('jitters the first redial of a lost tunnel (random $random → $expected ms)', async (row) => {
    const transports: FakeTransport[] = [];
    const { m, logger } = manager(
      ['a:1'],
      (_params, callbacks) => {
        transports.push(open(callbacks, 's1', 1));
      },
      { jitter: 0.2, random: () => row.random },
    );
    await m.ready();
    transports[0]?.destroy(new Error('server gone'));
    await eventually('the redial', () => transports.length === 2 && m.size === 1);
    const delays = logger.records
      .filter((r) => r.msg === 'tunnel disconnected')
      .map((r) => r.fields['retryInMs']);
    expect(delays).toEqual([row.expected]);
  });

  it('retries a rate-limited attempt (a connect failure) on the ordinary schedule', async () => {
    let calls = 0;
    const { logger } = manager(['a:1'], (params, callbacks) => {
      calls += 1;
      callbacks.onFail(
        new AgentError(
          'AGENT_ERR_CONNECT_FAILED',
          `cannot connect to ${params.address}: 8 RESOURCE_EXHAUSTED: rate limited`,
        ),
      );
    });
    await eventually('three attempts', () => calls >= 3);
    const delays = logger.records
      .filter((r) => r.msg === 'tunnel connect failed')
      .map((r) => r.fields['retryInMs']);
    expect(delays.slice(0, 2)).toEqual([5, 8]);
  });

  it('waits the slot a rate-limiting server named, without growing the backoff', async () => {
    let calls = 0;
    const { logger } = manager(['a:1'], (params, callbacks) => {
      calls += 1;
      callbacks.onFail(
        calls === 2
          ? new AgentError('AGENT_ERR_CONNECT_FAILED', `server ${params.address} answered 503`, {
              retryAfterMs: 30,
            })
          : new AgentError('AGENT_ERR_CONNECT_FAILED', `cannot connect to ${params.address}`),
      );
    });
    await eventually('four attempts', () => calls >= 4);
    const delays = logger.records
      .filter((r) => r.fields['retryInMs'] !== undefined)
      .map((r) => [r.msg, r.fields['retryInMs']]);
    expect(delays.slice(0, 3)).toEqual([
      ['tunnel connect failed', 5],
      ['tunnel connect deferred by the server', 30],
      ['tunnel connect failed', 8],
    ]);
  });

  it('rejects ready() waiters when closed before any tunnel', async () => {
    const { m } = manager(['a:1'], () => undefined);
    const ready = m.ready();
    await m.close(100);
    await expect(ready).rejects.toMatchObject({ code: 'AGENT_ERR_CLOSED' });
  });
});

describe('isRefusal', () => {
  const grpcStatus = (code: number) => Object.assign(new Error('status'), { code });
  it.each([
    {
      name: 'AgentError refused',
      err: new AgentError('AGENT_ERR_REFUSED_BY_SERVER', 'x'),
      expected: true,
    },
    {
      name: 'AgentError connect failed',
      err: new AgentError('AGENT_ERR_CONNECT_FAILED', 'x'),
      expected: false,
    },
    {
      name: 'session closed by gRPC UNAUTHENTICATED',
      err: new ProtocolError('PROTO_ERR_SESSION_CLOSED', 'x', { cause: grpcStatus(16) }),
      expected: true,
    },
    {
      name: 'session closed by gRPC PERMISSION_DENIED',
      err: new ProtocolError('PROTO_ERR_SESSION_CLOSED', 'x', { cause: grpcStatus(7) }),
      expected: true,
    },
    {
      name: 'session closed by gRPC UNAVAILABLE',
      err: new ProtocolError('PROTO_ERR_SESSION_CLOSED', 'x', { cause: grpcStatus(14) }),
      expected: false,
    },
    {
      name: 'session closed by gRPC RESOURCE_EXHAUSTED (rate limited)',
      err: new ProtocolError('PROTO_ERR_SESSION_CLOSED', 'x', { cause: grpcStatus(8) }),
      expected: false,
    },
    {
      name: 'WebSocket close 4002 (cluster mismatch)',
      err: new ProtocolError('PROTO_ERR_SESSION_CLOSED', 'x', {
        closeCode: TUNNEL_CLOSE_CODES.CLUSTER_MISMATCH,
      }),
      expected: true,
    },
    {
      name: 'WebSocket close 4003 (draining)',
      err: new ProtocolError('PROTO_ERR_SESSION_CLOSED', 'x', {
        closeCode: TUNNEL_CLOSE_CODES.DRAINING,
      }),
      expected: false,
    },
    { name: 'no error', err: undefined, expected: false },
  ])('$name → $expected', ({ err, expected }) => {
    expect(isRefusal(err)).toBe(expected);
  });
});
