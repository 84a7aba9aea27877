// OCM's cluster resources from node objects: sums per key, cordoned nodes left out of
// allocatable, nothing without nodes.
import { describe, expect, it } from 'vitest';

import { sumNodeResources, type NodeSummary } from './node-resources.ts';

const node = (capacity: Record<string, string>, allocatable = capacity, unschedulable = false) =>
  ({ spec: { unschedulable }, status: { capacity, allocatable } }) satisfies NodeSummary;

describe('sumNodeResources', () => {
  it.each([
    { name: 'no nodes', nodes: [], expected: undefined },
    {
      name: 'one node',
      nodes: [node({ cpu: '4', memory: '16318736Ki', pods: '110' })],
      expected: {
        capacity: { cpu: '4', memory: '16318736Ki', pods: '110' },
        allocatable: { cpu: '4', memory: '16318736Ki', pods: '110' },
      },
    },
    {
      name: 'every key summed, in key order',
      nodes: [
        node({ memory: '16Gi', cpu: '4', 'hugepages-2Mi': '0' }, { cpu: '3800m', memory: '15Gi' }),
        node({ cpu: '8', memory: '32Gi', 'nvidia.com/gpu': '1' }, { cpu: '7800m', memory: '31Gi' }),
      ],
      expected: {
        capacity: { cpu: '12', 'hugepages-2Mi': '0', memory: '48Gi', 'nvidia.com/gpu': '1' },
        allocatable: { cpu: '11600m', memory: '46Gi' },
      },
    },
    {
      name: 'a cordoned node counts in capacity only',
      nodes: [node({ cpu: '4' }), node({ cpu: '2' }, { cpu: '2' }, true)],
      expected: { capacity: { cpu: '6' }, allocatable: { cpu: '4' } },
    },
    {
      name: 'a node without status',
      nodes: [{}, node({ cpu: '1' })],
      expected: { capacity: { cpu: '1' }, allocatable: { cpu: '1' } },
    },
    {
      name: 'a value that is not a quantity is left out',
      nodes: [node({ cpu: '2', weird: 'lots' }), node({ cpu: '2' })],
      expected: { capacity: { cpu: '4' }, allocatable: { cpu: '4' } },
    },
  ])('$name', ({ nodes, expected }) => {
    expect(sumNodeResources(nodes)).toEqual(expected);
  });
});
