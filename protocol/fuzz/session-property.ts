/** The session fuzz scenarios as one fast-check property. Test code only. */
import fc from 'fast-check';

import { scenarioArb, type Action, type ScenarioConfig } from './session-actions.ts';
import { runScenario } from './session-harness.ts';

/** {@link runScenario} over random scenarios ({@link scenarioArb}). */
export function sessionProperty(): fc.IAsyncPropertyWithHooks<[[ScenarioConfig, Action[]]]> {
  return fc.asyncProperty(scenarioArb, ([config, actions]) => runScenario(config, actions));
}
