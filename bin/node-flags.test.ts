import { describe, expect, it } from 'vitest';

import { missingNodeFlags, NODE_FLAGS_BY_PROGRAM, nodeFlagsFor } from './node-flags.ts';

describe('nodeFlagsFor', () => {
  it('gives the agent (and join, which runs it locally) small semi-spaces, the rest nothing', () => {
    expect(nodeFlagsFor('agent')).toEqual(['--max-semi-space-size=2']);
    expect(nodeFlagsFor('join')).toEqual(nodeFlagsFor('agent'));
    expect(nodeFlagsFor('hub')).toEqual([]);
    expect(nodeFlagsFor('proxy-server')).toEqual([]);
    expect(nodeFlagsFor(undefined)).toEqual([]);
    // Not fooled by the names objects inherit.
    expect(nodeFlagsFor('constructor')).toEqual([]);
    expect(nodeFlagsFor('toString')).toEqual([]);
  });

  it('lists only flags V8 knows by those names', () => {
    for (const flags of Object.values(NODE_FLAGS_BY_PROGRAM)) {
      for (const flag of flags) expect(flag).toMatch(/^--[a-z][a-z-]*(=\S+)?$/);
    }
  });
});

describe('missingNodeFlags', () => {
  const wanted = ['--max-semi-space-size=2'];

  it('adds a flag the process does not have', () => {
    expect(missingNodeFlags(wanted, [])).toEqual(wanted);
    expect(missingNodeFlags(wanted, ['--enable-source-maps'])).toEqual(wanted);
  });

  it('adds nothing twice: after the re-exec the flags are there', () => {
    expect(missingNodeFlags(wanted, ['--max-semi-space-size=2'])).toEqual([]);
  });

  it("leaves the user's own value of a flag alone, in either spelling", () => {
    expect(missingNodeFlags(wanted, ['--max-semi-space-size=16'])).toEqual([]);
    expect(missingNodeFlags(wanted, ['--max_semi_space_size=16'])).toEqual([]);
  });
});
