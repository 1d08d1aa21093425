/**
 * Compiles a parsed policy version once into matchers (action sets and globs, resource globs or
 * variable templates, condition value tests) so that evaluation parses nothing and builds regexes never.
 */

import { malformedPolicy } from '../kernel/index.js';
import type { ConditionOperator } from './condition-operators.js';
import type { ValueTest } from './condition-value.js';
import { makeValueTest } from './condition-value.js';
import type { GlobPattern } from './glob-pattern.js';
import { globFromPieces, globFromString } from './glob-pattern.js';
import type { PolicyDocument, PolicyStatement } from './policy-document.js';
import type { Template } from './policy-template.js';
import { parseTemplate } from './policy-template.js';

export interface CompiledResource {
  readonly source: string;
  readonly template: Template;
  /** Present when the resource has no variable. */
  readonly glob: GlobPattern | undefined;
}

export interface CompiledConditionValue {
  readonly source: string;
  readonly template: Template;
  /** Present when the value has no variable. */
  readonly test: ValueTest | undefined;
}

export interface CompiledCondition {
  readonly operator: ConditionOperator;
  readonly key: string;
  readonly values: readonly CompiledConditionValue[];
}

export interface CompiledStatement {
  readonly index: number;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  /** Human label used in reasons: `policy P v2 statement #1 (Sid "X")`. */
  readonly label: string;
  readonly actionNegated: boolean;
  readonly anyAction: boolean;
  /** Lower-cased action names without wildcards. */
  readonly exactActions: ReadonlySet<string>;
  /** Case-insensitive globs for actions with wildcards. */
  readonly actionGlobs: readonly GlobPattern[];
  readonly resourceNegated: boolean;
  readonly resources: readonly CompiledResource[];
  readonly conditions: readonly CompiledCondition[];
}

export interface CompiledPolicy {
  readonly policyName: string;
  readonly versionId: string;
  readonly version: string;
  readonly statements: readonly CompiledStatement[];
}

function templateOrThrow(source: string, substitute: boolean, where: string): Template {
  const t = parseTemplate(source, substitute);
  if (typeof t === 'string') throw malformedPolicy(`${where}: ${t}`);
  return t;
}

function compileStatement(policyName: string, versionId: string, s: PolicyStatement, index: number, substitute: boolean): CompiledStatement {
  const label = `policy ${policyName} v${versionId} statement #${index}${s.sid === undefined ? '' : ` (Sid ${JSON.stringify(s.sid)})`}`;
  const exactActions = new Set<string>();
  const actionGlobs: GlobPattern[] = [];
  let anyAction = false;
  for (const a of s.action.values) {
    if (a === '*') anyAction = true;
    else if (a.includes('*') || a.includes('?')) actionGlobs.push(globFromString(a, true));
    else exactActions.add(a.toLowerCase());
  }
  const resources = s.resource.values.map((source): CompiledResource => {
    const template = templateOrThrow(source, substitute, label);
    const glob = template.staticPieces === undefined ? undefined : globFromPieces(template.staticPieces);
    return { source, template, glob };
  });
  const conditions = s.conditions.map((c): CompiledCondition => ({
    operator: c.operator,
    key: c.key,
    values: c.values.map((source): CompiledConditionValue => {
      const template = templateOrThrow(source, substitute, label);
      let test: ValueTest | undefined;
      if (template.staticPieces !== undefined) {
        const made = makeValueTest(c.operator.info, template.staticPieces);
        if (typeof made === 'string') throw malformedPolicy(`${label}: Condition ${c.operator.written} key ${JSON.stringify(c.key)}: ${made}`);
        test = made;
      }
      return { source, template, test };
    }),
  }));
  const base = {
    index,
    effect: s.effect,
    label,
    actionNegated: s.action.negated,
    anyAction,
    exactActions,
    actionGlobs,
    resourceNegated: s.resource.negated,
    resources,
    conditions,
  };
  return s.sid === undefined ? base : { ...base, sid: s.sid };
}

export function compilePolicy(name: string, versionId: string, doc: PolicyDocument): CompiledPolicy {
  const substitute = doc.version !== '2008-10-17';
  return {
    policyName: name,
    versionId,
    version: doc.version,
    statements: doc.statements.map((s, i) => compileStatement(name, versionId, s, i, substitute)),
  };
}
