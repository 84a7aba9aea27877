// The rollout strategy OCM shares between ManifestWorkReplicaSet placement refs and add-on
// install strategies (cluster.open-cluster-management.io/v1alpha1 RolloutStrategy).
import { Type, type Static } from 'typebox';

import { int32, intOrString, stringEnum } from './schema-kit.ts';

/** How a change rolls out over the clusters a placement selects. */
export const ROLLOUT_TYPES = ['All', 'Progressive', 'ProgressivePerGroup'] as const;
export type RolloutType = (typeof ROLLOUT_TYPES)[number];

const PERCENT_OR_COUNT = '^((100|[0-9]{1,2})%|[0-9]+)$';
const DEADLINE = '^(([0-9])+[h|m|s])|None$';

function timing() {
  return {
    minSuccessTime: Type.Optional(
      Type.String({ default: '0', description: 'How long a cluster must succeed (duration).' }),
    ),
    progressDeadline: Type.Optional(
      Type.String({ default: 'None', pattern: DEADLINE, description: 'Duration or None.' }),
    ),
    maxFailures: Type.Optional(intOrString({ default: 0, pattern: PERCENT_OR_COUNT })),
  };
}

const MandatoryDecisionGroupSchema = Type.Object({
  groupName: Type.Optional(Type.String()),
  groupIndex: Type.Optional(int32()),
});

/**
 * A RolloutStrategy schema with `defaultValue` as its default (OCM's two users default it
 * differently). A fresh schema per call, so defaults never leak between users.
 */
export function rolloutStrategySchema(defaultValue: Record<string, unknown>) {
  return Type.Object(
    {
      type: Type.Optional(stringEnum(ROLLOUT_TYPES, { default: 'All' })),
      all: Type.Optional(Type.Object(timing())),
      progressivePerGroup: Type.Optional(
        Type.Object({
          mandatoryDecisionGroups: Type.Optional(Type.Array(MandatoryDecisionGroupSchema)),
          ...timing(),
        }),
      ),
      progressive: Type.Optional(
        Type.Object({
          mandatoryDecisionGroups: Type.Optional(Type.Array(MandatoryDecisionGroupSchema)),
          maxConcurrency: Type.Optional(intOrString({ pattern: PERCENT_OR_COUNT })),
          ...timing(),
        }),
      ),
    },
    { default: defaultValue },
  );
}

export type RolloutStrategy = Static<ReturnType<typeof rolloutStrategySchema>>;
