/**
 * `type: CEL` condition rules (pure), evaluated as OCM's work agent evaluates them
 * (its spoke conditions package): every expression of `celExpressions` sees `object` (the live
 * object) and must give a bool; the results are ANDed, the first `false` ends it. The condition's
 * message is `messageExpression` (which also sees `result`, the bool) when it gives a non-empty
 * string, else `message`, else "Manifest is <condition>" / "Manifest is not <condition>".
 *
 * Reasons: `ConditionRuleEvaluated` for a result; `ConditionRuleExpressionError` (status False,
 * the evaluator's message) for an expression that does not parse, fails (e.g. `no such key`) or
 * gives a non-bool. A failing `messageExpression` keeps the rule's status and reason and puts its
 * error in the message, as OCM does.
 *
 * The evaluator is `@marcbachmann/cel-js` (no dependencies). JSON numbers are handed to CEL as
 * Kubernetes hands them to cel-go: whole numbers as `int`, the rest as `double`, so
 * `object.spec.replicas == 2` holds. Parsed expressions are cached (bounded).
 */
import { Environment } from '@marcbachmann/cel-js';

import { WorkReasons } from '../../api/index.ts';

/** What a CEL rule produced: the condition without its lastTransitionTime. */
export interface CelRuleCondition {
  readonly type: string;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

/** A `type: CEL` rule as the ManifestWork schema declares it. */
export interface CelRule {
  readonly condition: string;
  readonly celExpressions?: readonly string[];
  readonly message?: string;
  readonly messageExpression?: string;
}

/** Parsed expressions kept per environment; the oldest goes first past this many. */
const MAX_CACHED_PROGRAMS = 512;
/** Structural limits on one expression (parse time): a rule cannot make evaluation unbounded. */
const LIMITS = { maxAstNodes: 2_000, maxDepth: 64, maxListElements: 1_000, maxMapEntries: 1_000 };

type Program = (context: Record<string, unknown>) => unknown;

function environment(withResult: boolean): { env: Environment; programs: Map<string, Program> } {
  const env = new Environment({ limits: LIMITS }).registerVariable('object', 'dyn');
  if (withResult) env.registerVariable('result', 'bool');
  return { env, programs: new Map() };
}

const RULES = environment(false);
const MESSAGES = environment(true);

function program(cache: ReturnType<typeof environment>, expression: string): Program {
  let found = cache.programs.get(expression);
  if (found === undefined) {
    found = cache.env.parse(expression) as unknown as Program;
    if (cache.programs.size >= MAX_CACHED_PROGRAMS) {
      const oldest = cache.programs.keys().next();
      if (oldest.done !== true) cache.programs.delete(oldest.value);
    }
    cache.programs.set(expression, found);
  }
  return found;
}

/** The evaluator's message without the source excerpt it appends after a blank line. */
export function celErrorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const first = text.split('\n\n')[0]?.trim() ?? '';
  return first === '' ? text : first;
}

/** `value` as CEL sees a JSON document: whole numbers become `int` (bigint). */
export function toCelValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCelValue);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = toCelValue(item);
    return out;
  }
  return value;
}

/** The CEL type name of a result, for "expected bool result, got <type>". */
function celTypeOf(value: unknown): string {
  if (value === null || value === undefined) return 'null_type';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Uint8Array) return 'bytes';
  return 'map';
}

/**
 * The condition `rule` gives for `object` (the live object as JSON). Never throws: evaluation
 * errors become the condition's message.
 */
export function evaluateCelRule(object: Record<string, unknown>, rule: CelRule): CelRuleCondition {
  const celObject = toCelValue(object);
  const done = (status: 'True' | 'False', reason: string, message: string): CelRuleCondition => ({
    type: rule.condition,
    status,
    reason,
    message,
  });
  let result = true;
  for (const expression of rule.celExpressions ?? []) {
    let value: unknown;
    try {
      value = program(RULES, expression)({ object: celObject });
    } catch (err: unknown) {
      return done('False', WorkReasons.ConditionRuleExpressionError, celErrorMessage(err));
    }
    if (typeof value !== 'boolean') {
      const message = `expected bool result, got ${celTypeOf(value)}`;
      return done('False', WorkReasons.ConditionRuleExpressionError, message);
    }
    if (!value) {
      result = false;
      break;
    }
  }
  const status = result ? 'True' : 'False';
  return done(status, WorkReasons.ConditionRuleEvaluated, ruleMessage(celObject, rule, result));
}

/**
 * The message of an evaluated rule (see the file comment); `celObject` is already converted.
 * Exported for WellKnownConditions rules, whose `messageExpression` OCM evaluates the same way.
 */
export function ruleMessage(
  celObject: unknown,
  rule: Pick<CelRule, 'condition' | 'message' | 'messageExpression'>,
  result: boolean,
  fallback?: string,
): string {
  const expression = rule.messageExpression ?? '';
  if (expression !== '') {
    try {
      const value = program(MESSAGES, expression)({ object: celObject, result });
      if (typeof value !== 'string') {
        return `expected message expression to have a string result, got ${celTypeOf(value)}`;
      }
      if (value !== '') return value;
    } catch (err: unknown) {
      return celErrorMessage(err);
    }
  }
  if (rule.message !== undefined && rule.message !== '') return rule.message;
  if (fallback !== undefined) return fallback;
  return result ? `Manifest is ${rule.condition}` : `Manifest is not ${rule.condition}`;
}
