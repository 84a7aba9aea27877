// What a caller sees when a dial cannot be served: a typed reason, and nothing left behind.
import { describe, expect, it } from 'vitest';

import { isProtocolError } from '../../protocol/index.ts';
import { eventually } from '../framework/kubectl.ts';
import { startEchoTarget } from '../framework/targets.ts';
import { startTunnelRig } from '../framework/tunnel-rig.ts';

async function dialFailure(
  promise: Promise<unknown>,
): Promise<{ reason: unknown; message: string }> {
  const err = await promise.then(
    () => {
      throw new Error('the dial succeeded');
    },
    (e: unknown) => e,
  );
  if (!isProtocolError(err, 'PROTO_ERR_DIAL_FAILED')) throw err;
  return { reason: err.reason, message: err.message };
}

describe('tunnel dial failures', () => {
  it('refuses a target off the allow-list with reason not-allowed (deny by default)', async () => {
    const echo = await startEchoTarget();
    const rig = await startTunnelRig({
      transport: 'grpc',
      clusters: [{ name: 'c1', kubeApiserver: echo.address }],
    });
    const failure = await dialFailure(rig.client.dial('c1', 'prometheus.monitoring:9090'));
    expect(failure.reason).toBe('not-allowed');
    expect(failure.message).toContain('prometheus.monitoring:9090');
    await rig.assertIdle();
  });

  it('answers no-agent for a cluster with no agent', async () => {
    const echo = await startEchoTarget();
    const rig = await startTunnelRig({
      transport: 'grpc',
      clusters: [{ name: 'c1', kubeApiserver: echo.address }],
    });
    expect((await dialFailure(rig.client.dial('c9', 'kube-apiserver'))).reason).toBe('no-agent');
    await rig.assertIdle();
  });

  it('answers refused when the target port is closed', async () => {
    const echo = await startEchoTarget();
    const closedPort = echo.address;
    await echo.close();
    const rig = await startTunnelRig({
      transport: 'websocket',
      clusters: [{ name: 'c1', kubeApiserver: closedPort }],
    });
    expect((await dialFailure(rig.client.dial('c1', 'kube-apiserver'))).reason).toBe('refused');
    await rig.assertIdle();
  });

  it('leaves zero dials and streams after hundreds of dials cancelled at random moments', async () => {
    const echo = await startEchoTarget();
    const rig = await startTunnelRig({
      transport: 'grpc',
      clusters: [{ name: 'c1', kubeApiserver: echo.address }],
    });
    let opened = 0;
    let cancelled = 0;
    for (let i = 0; i < 300; i++) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), Math.floor(Math.random() * 4));
      try {
        const stream = await rig.client.dial('c1', 'kube-apiserver', { signal: controller.signal });
        opened++;
        if (i % 2 === 0) stream.destroy();
        else stream.end('bye');
        stream.resume();
      } catch (err) {
        if (!isProtocolError(err, 'PROTO_ERR_DIAL_FAILED')) throw err;
        expect(err.reason).toBe('canceled');
        cancelled++;
      }
    }
    expect(opened + cancelled).toBe(300);
    await rig.assertIdle();
    // The target sees its end close a moment after the agent closed it: wait for that, so a
    // socket left open for good (a leak) still fails here.
    await eventually(
      'the echo target to have no connection left',
      async () => (echo.sockets.size === 0 ? true : undefined),
      5_000,
    );
  });
});
