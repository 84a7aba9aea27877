/**
 * What every tunnel frontend (gRPC ProxyService, the frontend WebSocket) does with a dial: the
 * caller's certificate check before the tunnel is accepted, and, per DIAL_REQ, route → dial the
 * agent → accept → bridge the two tunnel streams. One implementation, so both frontends route,
 * fail and reset exactly alike.
 */
import { parseAgentCommonName } from '../../protocol/index.ts';
import type { IncomingDial } from '../../protocol/index.ts';

import type { DialSource, Dialer } from '../dialer.ts';
import { ServerError, dialFailureReasonOf, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { bridgeStreams, tunnelEnd } from './bridge-streams.ts';

/**
 * Agent certificates come from the same CA as hub client certificates; a spoke must never dial
 * other spokes. Returns the ServerError `SERVER_ERR_FRONTEND_FORBIDDEN` to refuse with when the
 * verified client certificate's CN (the last one when there are several) is an agent's, else
 * undefined. Pure.
 */
export function agentCertificateRefusal(
  commonName: string | readonly string[] | undefined,
): ServerError | undefined {
  const cn = typeof commonName === 'string' ? commonName : commonName?.[commonName.length - 1];
  const agent = cn === undefined ? undefined : parseAgentCommonName(cn);
  if (agent === undefined) return undefined;
  return new ServerError(
    'SERVER_ERR_FRONTEND_FORBIDDEN',
    `agent certificates (cluster "${agent.cluster}") may not use the frontend`,
  );
}

/** Where a frontend dial came from and how to route it. */
export interface FrontendDialRoute {
  readonly dialer: Dialer;
  readonly logger: Logger;
  readonly source: DialSource;
  /** Remote address of the frontend tunnel, for logs. */
  readonly peer: string;
  /** The address the agent gets (`host:port`). */
  readonly address: string;
  /** Explicit cluster; undefined routes by the address host (ANP destHost). */
  readonly cluster: string | undefined;
}

/**
 * Serves one incoming frontend dial: dials `route.address` through the server's dialer (the
 * dial is canceled when the frontend sends DIAL_CLS: `dial.signal`), accepts it once the agent
 * answered, and bridges the frontend stream and the agent stream with per-stream backpressure;
 * a reset on either side resets the other with the same code. A failed dial is rejected with
 * its DialFailureReason and text. Never throws and never rejects: a bug answers the dial
 * `internal` so the frontend does not wait for its timeout. Resolves when the bridge is done.
 */
export async function serveFrontendDial(
  dial: IncomingDial,
  route: FrontendDialRoute,
): Promise<void> {
  try {
    await bridgeDial(dial, route);
  } catch (err) {
    route.logger.error('frontend dial handler failed', { peer: route.peer, err });
    dial.reject('internal', 'internal error');
  }
}

async function bridgeDial(dial: IncomingDial, route: FrontendDialRoute): Promise<void> {
  let agentStream;
  try {
    agentStream = await route.dialer.dial({
      address: route.address,
      cluster: route.cluster,
      signal: dial.signal,
      source: route.source,
    });
  } catch (err) {
    dial.reject(dialFailureReasonOf(err), errorMessage(err));
    return;
  }
  if (dial.signal.aborted) {
    agentStream.reset('canceled');
    return;
  }
  const frontStream = dial.accept();
  const err = await bridgeStreams(tunnelEnd(frontStream), tunnelEnd(agentStream));
  route.logger.debug('frontend stream closed', {
    peer: route.peer,
    address: route.address,
    streamId: agentStream.streamId,
    ...(route.cluster === undefined ? {} : { clusterName: route.cluster }),
    ...(err === undefined ? {} : { err }),
  });
}
