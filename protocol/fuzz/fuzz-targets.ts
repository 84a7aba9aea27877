/**
 * The fuzz targets that `npm run fuzz` (test/fuzz/run.ts) and the unit tests share: each a
 * fast-check property with its share of a run's cases. Test code only.
 */
import type fc from 'fast-check';

import {
  hostileBytesProperty,
  hugeLengthProperty,
  oversizeProperty,
  roundTripProperty,
} from './codec-properties.ts';
import { sessionProperty } from './session-property.ts';
import { windowProperty } from './window-properties.ts';

/** One fuzz target. */
export interface FuzzTarget {
  /** Short name, also the `--target` of the script. */
  readonly name: string;
  /** What it checks, one line. */
  readonly what: string;
  /** Fraction of the run's cases (the shares add up to 1). */
  readonly share: number;
  /** A fresh property (synchronous or asynchronous). */
  readonly property: () => fc.IRawProperty<never, boolean>;
}

const as = (p: unknown) => p as fc.IRawProperty<never, boolean>;

export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'codec-round-trip',
    what: 'decode(encode(p)) = p for every valid packet; bytes canonical; both decoders agree',
    share: 0.2,
    property: () => as(roundTripProperty()),
  },
  {
    name: 'codec-hostile-bytes',
    what: 'mutated, protobuf-shaped and random bytes: a valid packet or a typed ProtocolError, never a crash',
    share: 0.4,
    property: () => as(hostileBytesProperty()),
  },
  {
    name: 'codec-huge-lengths',
    what: 'declared lengths past the end are refused from the prefix, nothing allocated',
    share: 0.1,
    property: () => as(hugeLengthProperty()),
  },
  {
    name: 'codec-oversize',
    what: 'input above MAX_PACKET_BYTES is refused before parsing',
    share: 0.002,
    property: () => as(oversizeProperty()),
  },
  {
    name: 'flow-control-windows',
    what: 'send/receive windows under random traffic and a hostile peer: credit conserved, bounded, no stall',
    share: 0.2,
    property: () => as(windowProperty()),
  },
  {
    name: 'session-scenarios',
    what: 'two real sessions, random frames and app calls: violations reset one stream, garbage one session, no byte lost, no leak',
    share: 0.098,
    property: () => as(sessionProperty()),
  },
];
