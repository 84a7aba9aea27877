// Property-based fuzzing of the tunnel protocol (test code; not part of protocol/index.ts).
// See "Fuzzing" in ../README.md. Used by the *.test.ts files here and by test/fuzz/run.ts.
export { FUZZ_TARGETS, type FuzzTarget } from './fuzz-targets.ts';
export { runScenario } from './session-harness.ts';
export {
  VIOLATIONS,
  actionArb,
  configArb,
  scenarioArb,
  type Action,
  type ScenarioConfig,
  type Violation,
} from './session-actions.ts';
export {
  addressArb,
  hostileBytesArb,
  mutate,
  mutationArb,
  validPacketArb,
  type Mutation,
} from './packet-arbitraries.ts';
export { checkHostileBytes, checkTypedError } from './codec-properties.ts';
export { checkWindowSteps, type WindowStep } from './window-properties.ts';
