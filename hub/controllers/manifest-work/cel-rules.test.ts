// CEL condition rules as OCM's work agent evaluates them: `object` and (messages) `result`,
// ANDed expressions, messageExpression > message > the default, the expression-error reason with
// the evaluator's own message.
import { describe, expect, it } from 'vitest';

import { celErrorMessage, evaluateCelRule, toCelValue, type CelRule } from './cel-rules.ts';

const deployment = {
  metadata: { name: 'hello', namespace: 'apps', labels: { tier: 'gold' } },
  spec: { replicas: 3, paused: false },
  status: {
    replicas: 3,
    readyReplicas: 2,
    ratio: 0.5,
    conditions: [
      { type: 'Available', status: 'True', message: 'has minimum availability' },
      { type: 'Progressing', status: 'True', message: 'rolled out' },
    ],
  },
};

describe('evaluateCelRule', () => {
  it.each<{
    name: string;
    rule: Omit<CelRule, 'condition'>;
    status: 'True' | 'False';
    reason: string;
    message: string;
  }>([
    {
      name: 'a true expression, default message',
      rule: { celExpressions: ['object.status.replicas == object.spec.replicas'] },
      status: 'True',
      reason: 'ConditionRuleEvaluated',
      message: 'Manifest is Ready',
    },
    {
      name: 'a false expression, default message',
      rule: { celExpressions: ['object.status.readyReplicas == object.spec.replicas'] },
      status: 'False',
      reason: 'ConditionRuleEvaluated',
      message: 'Manifest is not Ready',
    },
    {
      name: 'whole JSON numbers compare with int literals, fractions with doubles',
      rule: { celExpressions: ['object.spec.replicas == 3', 'object.status.ratio < 1.0'] },
      status: 'True',
      reason: 'ConditionRuleEvaluated',
      message: 'Manifest is Ready',
    },
    {
      name: 'expressions are ANDed: one false makes False',
      rule: { celExpressions: ['true', 'object.spec.paused', 'object.missing == 1'] },
      status: 'False',
      reason: 'ConditionRuleEvaluated',
      message: 'Manifest is not Ready',
    },
    {
      name: 'macros over conditions',
      rule: {
        celExpressions: [
          "object.status.conditions.exists(c, c.type == 'Available' && c.status == 'True')",
          "object.status.conditions.filter(c, c.status == 'True').size() == 2",
          'has(object.status.readyReplicas) && !has(object.status.updatedReplicas)',
          "object.metadata.labels['tier'].startsWith('go')",
        ],
      },
      status: 'True',
      reason: 'ConditionRuleEvaluated',
      message: 'Manifest is Ready',
    },
    {
      name: 'a static message',
      rule: { celExpressions: ['false'], message: 'waiting for replicas' },
      status: 'False',
      reason: 'ConditionRuleEvaluated',
      message: 'waiting for replicas',
    },
    {
      name: 'messageExpression sees object and result, and wins over message',
      rule: {
        celExpressions: ['object.status.readyReplicas > 1'],
        message: 'static',
        messageExpression:
          "result ? string(object.status.readyReplicas) + ' of ' + string(object.spec.replicas) + ' ready' : 'not ready'",
      },
      status: 'True',
      reason: 'ConditionRuleEvaluated',
      message: '2 of 3 ready',
    },
    {
      name: 'an empty messageExpression result falls back to message',
      rule: { celExpressions: ['true'], message: 'static', messageExpression: "''" },
      status: 'True',
      reason: 'ConditionRuleEvaluated',
      message: 'static',
    },
    {
      name: 'a failing messageExpression keeps the status and says why',
      rule: { celExpressions: ['true'], messageExpression: 'object.nope' },
      status: 'True',
      reason: 'ConditionRuleEvaluated',
      message: 'No such key: nope',
    },
    {
      name: 'a non-string messageExpression',
      rule: { celExpressions: ['true'], messageExpression: 'object.spec.replicas' },
      status: 'True',
      reason: 'ConditionRuleEvaluated',
      message: 'expected message expression to have a string result, got int',
    },
    {
      name: 'a missing key is an expression error with the evaluator message',
      rule: { celExpressions: ["object.invalid.key == 'Active'"] },
      status: 'False',
      reason: 'ConditionRuleExpressionError',
      message: 'No such key: invalid',
    },
    {
      name: 'a non-bool result is an expression error',
      rule: {
        celExpressions: ["object.status.conditions.filter(c, c.type == 'Available')[0].status"],
      },
      status: 'False',
      reason: 'ConditionRuleExpressionError',
      message: 'expected bool result, got string',
    },
    {
      name: 'a syntax error is an expression error',
      rule: { celExpressions: ['object.status.('] },
      status: 'False',
      reason: 'ConditionRuleExpressionError',
      message: 'Expected IDENTIFIER, got LPAREN',
    },
    {
      name: 'an unknown variable is an expression error',
      rule: { celExpressions: ['self.spec.replicas == 3'] },
      status: 'False',
      reason: 'ConditionRuleExpressionError',
      message: 'Unknown variable: self',
    },
    {
      name: 'no expressions hold',
      rule: {},
      status: 'True',
      reason: 'ConditionRuleEvaluated',
      message: 'Manifest is Ready',
    },
  ])('$name', ({ rule, status, reason, message }) => {
    expect(evaluateCelRule(deployment, { condition: 'Ready', ...rule })).toEqual({
      type: 'Ready',
      status,
      reason,
      message,
    });
  });

  it('evaluates the same expression again from its cache with new objects', () => {
    const rule = { condition: 'Ready', celExpressions: ['object.status.readyReplicas == 3'] };
    expect(evaluateCelRule(deployment, rule).status).toBe('False');
    const ready = { ...deployment, status: { ...deployment.status, readyReplicas: 3 } };
    expect(evaluateCelRule(ready, rule).status).toBe('True');
  });
});

describe('toCelValue and celErrorMessage', () => {
  it('turns whole numbers into int and keeps fractions, strings and nesting', () => {
    expect(toCelValue({ a: 1, b: [2.5, 'x', { c: -3 }], d: null, e: true })).toEqual({
      a: 1n,
      b: [2.5, 'x', { c: -3n }],
      d: null,
      e: true,
    });
  });

  it('drops the source excerpt after the first blank line', () => {
    expect(celErrorMessage(new Error('No such key: x\n\n>    1 | object.x\n         ^'))).toBe(
      'No such key: x',
    );
    expect(celErrorMessage('plain')).toBe('plain');
  });
});
