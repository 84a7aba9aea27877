/**
 * diagnostics_channel events of the tunnel session (protocol/ never logs, STYLE §4). Subscribe
 * with `diagnostics_channel.subscribe(TUNNEL_DIAGNOSTICS_CHANNELS.streamOpen, fn)`; messages are
 * plain objects, published synchronously, only when someone subscribes. They never contain
 * payload bytes.
 */
import { channel } from 'node:diagnostics_channel';

import type { DialFailureReason, StreamResetCode } from '../error-codes.ts';
import type { SessionRole } from './types.ts';

/** Channel names, stable (dashboards and tests subscribe to them). */
export const TUNNEL_DIAGNOSTICS_CHANNELS = {
  streamOpen: 'spokelink:tunnel:stream:open',
  streamClose: 'spokelink:tunnel:stream:close',
  dialFailed: 'spokelink:tunnel:dial:failed',
  windowStall: 'spokelink:tunnel:window:stall',
} as const;

/** `spokelink:tunnel:stream:open`: a stream opened (DIAL_RSP success sent or received). */
export interface StreamOpenMessage {
  readonly label: string;
  readonly role: SessionRole;
  readonly streamId: bigint;
  readonly address: string;
}

/** `spokelink:tunnel:stream:close`: a stream is gone from the session (ids released). */
export interface StreamCloseMessage {
  readonly label: string;
  readonly role: SessionRole;
  readonly streamId: bigint;
  readonly address: string;
  /** Set when the stream was reset rather than closed gracefully. */
  readonly resetCode: StreamResetCode | undefined;
  /** DATA payload bytes received and sent on this stream. */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** `spokelink:tunnel:dial:failed`: a dial failed, on the dialer (rejected promise) or acceptor (reject sent). */
export interface DialFailedMessage {
  readonly label: string;
  readonly role: SessionRole;
  readonly dialId: bigint;
  readonly address: string;
  readonly reason: DialFailureReason;
}

/** `spokelink:tunnel:window:stall`: a stream's sender found zero credit and waits for a grant. */
export interface WindowStallMessage {
  readonly label: string;
  readonly streamId: bigint;
}

const streamOpenChannel = channel(TUNNEL_DIAGNOSTICS_CHANNELS.streamOpen);
const streamCloseChannel = channel(TUNNEL_DIAGNOSTICS_CHANNELS.streamClose);
const dialFailedChannel = channel(TUNNEL_DIAGNOSTICS_CHANNELS.dialFailed);
const windowStallChannel = channel(TUNNEL_DIAGNOSTICS_CHANNELS.windowStall);

// Publishers (internal): the message is built only when someone subscribes.

export function publishStreamOpen(message: () => StreamOpenMessage): void {
  if (streamOpenChannel.hasSubscribers) streamOpenChannel.publish(message());
}

export function publishStreamClose(message: () => StreamCloseMessage): void {
  if (streamCloseChannel.hasSubscribers) streamCloseChannel.publish(message());
}

export function publishDialFailed(message: () => DialFailedMessage): void {
  if (dialFailedChannel.hasSubscribers) dialFailedChannel.publish(message());
}

export function publishWindowStall(message: () => WindowStallMessage): void {
  if (windowStallChannel.hasSubscribers) windowStallChannel.publish(message());
}
