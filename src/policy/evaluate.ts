/**
 * IAM evaluation over all policies attached to a principal: an explicit Deny that matches wins,
 * otherwise a matching Allow allows, otherwise implicit deny. Denials are values with reasons.
 * The fast path builds no strings; only an implicit deny re-runs with notes to explain itself.
 */

import type { CompiledCondition, CompiledPolicy, CompiledStatement } from './compile-policy.js';
import type { ValueTest } from './condition-value.js';
import { makeValueTest } from './condition-value.js';
import { globFromPieces, globMatches } from './glob-pattern.js';
import type { PolicyContext } from './policy-context.js';
import { conditionKeyValues } from './policy-context.js';
import { resolveTemplate } from './policy-template.js';

export interface AuthRequest {
  /** e.g. 'iot:Connect', 'iot:Publish', 'iot:Subscribe', 'iot:Receive', 'iot:RetainPublish'. */
  readonly action: string;
  /** Full ARN, e.g. arn:aws:iot:us-east-1:123456789012:topic/a/b. */
  readonly resource: string;
  readonly context: PolicyContext;
}

export interface MatchedStatement {
  readonly policyName: string;
  readonly versionId: string;
  readonly statementIndex: number;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
}

export interface Decision {
  readonly effect: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  /** The statements that decided: every matching Deny, or every matching Allow; empty for an implicit deny. */
  readonly matched: MatchedStatement[];
  readonly reasons: string[];
}

type Notes = string[] | undefined;

const show = (s: string): string => JSON.stringify(s.length > 200 ? `${s.slice(0, 197)}...` : s);

function actionMatches(s: CompiledStatement, action: string): boolean {
  let hit = s.anyAction || s.exactActions.has(action);
  if (!hit) {
    for (const g of s.actionGlobs) {
      if (globMatches(g, action)) {
        hit = true;
        break;
      }
    }
  }
  return s.actionNegated ? !hit : hit;
}

function resourceMatches(s: CompiledStatement, request: AuthRequest, notes: Notes): boolean {
  let hit = false;
  for (const r of s.resources) {
    let glob = r.glob;
    if (glob === undefined) {
      const resolved = resolveTemplate(r.template, request.context);
      if (!resolved.ok) {
        notes?.push(`${s.label}: resource ${show(r.source)} not matched: ${resolved.why}`);
        continue;
      }
      glob = globFromPieces(resolved.pieces);
    }
    if (globMatches(glob, request.resource)) {
      hit = true;
      break;
    }
  }
  if (s.resourceNegated) {
    if (hit) notes?.push(`${s.label}: NotResource excludes ${show(request.resource)}`);
    return !hit;
  }
  if (!hit) notes?.push(`${s.label}: no Resource matches ${show(request.resource)}`);
  return hit;
}

function valueTests(c: CompiledCondition, context: PolicyContext, label: string, notes: Notes): ValueTest[] {
  const tests: ValueTest[] = [];
  for (const v of c.values) {
    if (v.test !== undefined) {
      tests.push(v.test);
      continue;
    }
    const resolved = resolveTemplate(v.template, context);
    if (!resolved.ok) {
      notes?.push(`${label}: condition value ${show(v.source)} not substituted: ${resolved.why}`);
      continue; // matches nothing, as the unsubstituted text would in AWS
    }
    const made = makeValueTest(c.operator.info, resolved.pieces);
    if (typeof made === 'string') {
      notes?.push(`${label}: condition value ${show(v.source)} after substitution: ${made}`);
      continue;
    }
    tests.push(made);
  }
  return tests;
}

/** IAM semantics; see the condition operators page of the IAM user guide. */
function conditionHolds(c: CompiledCondition, context: PolicyContext, label: string, notes: Notes): boolean {
  const { operator } = c;
  if (operator.name === 'Null') {
    const present = conditionKeyValues(context, c.key, true) !== undefined;
    const tests = valueTests(c, context, label, notes);
    // Null "true" asks for the key to be absent; several values are OR-ed.
    return tests.some((t) => t(present ? 'false' : 'true'));
  }
  const values = conditionKeyValues(context, c.key, operator.set !== undefined);
  if (values === undefined) {
    if (operator.ifExists) return true;
    if (operator.set === 'ForAllValues') return true; // vacuously true over an empty set
    if (operator.set === 'ForAnyValue') return false;
    // A missing key never matches; a negated operator is therefore satisfied (IAM).
    return operator.info.negated;
  }
  const tests = valueTests(c, context, label, notes);
  const satisfied = (v: string): boolean => {
    let any = false;
    for (const t of tests) {
      if (t(v)) {
        any = true;
        break;
      }
    }
    return operator.info.negated ? !any : any;
  };
  return operator.set === 'ForAllValues' ? values.every(satisfied) : values.some(satisfied);
}

function conditionsHold(s: CompiledStatement, context: PolicyContext, notes: Notes): boolean {
  for (const c of s.conditions) {
    if (!conditionHolds(c, context, s.label, notes)) {
      if (notes !== undefined) {
        const present = conditionKeyValues(context, c.key, true) !== undefined;
        notes.push(`${s.label}: condition ${c.operator.written} on ${c.key} not met${present ? '' : ` (${c.key} has no value)`}`);
      }
      return false;
    }
  }
  return true;
}

function matchedOf(p: CompiledPolicy, s: CompiledStatement): MatchedStatement {
  const m = { policyName: p.policyName, versionId: p.versionId, statementIndex: s.index, effect: s.effect };
  return s.sid === undefined ? m : { ...m, sid: s.sid };
}

export function evaluate(policies: readonly CompiledPolicy[], request: AuthRequest): Decision {
  const action = request.action.toLowerCase();
  const allows: MatchedStatement[] = [];
  const denies: MatchedStatement[] = [];
  const denyLabels: string[] = [];
  const allowLabels: string[] = [];
  for (const p of policies) {
    for (const s of p.statements) {
      if (!actionMatches(s, action)) continue;
      if (!resourceMatches(s, request, undefined)) continue;
      if (!conditionsHold(s, request.context, undefined)) continue;
      if (s.effect === 'Deny') {
        denies.push(matchedOf(p, s));
        denyLabels.push(s.label);
      } else {
        allows.push(matchedOf(p, s));
        allowLabels.push(s.label);
      }
    }
  }
  if (denies.length > 0) {
    return {
      effect: 'ExplicitDeny',
      matched: denies,
      reasons: denyLabels.map((l) => `explicit deny by ${l} for ${request.action} on ${show(request.resource)}`),
    };
  }
  // The hot path (every allowed publish and delivery): the explanation is built only if someone reads it.
  if (allows.length > 0) return new AllowDecision(allows, allowLabels, request.action, request.resource);
  return { effect: 'ImplicitDeny', matched: [], reasons: explainImplicitDeny(policies, request, action) };
}

/** An Allow whose `reasons` are built on first read (profiled: eager strings cost ~10% of a QoS 0 delivery). */
class AllowDecision implements Decision {
  readonly effect = 'Allow' as const;
  readonly matched: MatchedStatement[];
  readonly #labels: readonly string[];
  // Copied, not the request: callers reuse one mutable request object for every evaluation.
  readonly #action: string;
  readonly #resource: string;
  #reasons: string[] | undefined;

  constructor(matched: MatchedStatement[], labels: readonly string[], action: string, resource: string) {
    this.matched = matched;
    this.#labels = labels;
    this.#action = action;
    this.#resource = resource;
  }

  get reasons(): string[] {
    this.#reasons ??= this.#labels.map((l) => `${this.#action} on ${show(this.#resource)} allowed by ${l}`);
    return this.#reasons;
  }
}

function explainImplicitDeny(policies: readonly CompiledPolicy[], request: AuthRequest, action: string): string[] {
  const reasons = [`no statement allowed ${request.action} on ${show(request.resource)}`];
  if (policies.length === 0) {
    reasons.push('no policy is attached');
    return reasons;
  }
  let covered = false;
  for (const p of policies) {
    for (const s of p.statements) {
      if (s.effect !== 'Allow' || !actionMatches(s, action)) continue;
      covered = true;
      if (resourceMatches(s, request, reasons)) conditionsHold(s, request.context, reasons);
    }
  }
  if (!covered) reasons.push(`no Allow statement covers the action ${request.action}`);
  return reasons;
}
