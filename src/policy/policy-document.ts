/** The normalised shape of a parsed IoT policy document (strings turned into arrays, operators split). */

import type { ConditionOperator } from './condition-operators.js';

export const POLICY_VERSIONS = ['2012-10-17', '2008-10-17'] as const;
export type PolicyLanguageVersion = (typeof POLICY_VERSIONS)[number];

export interface PolicyDocument {
  readonly version: string;
  readonly id?: string;
  readonly statements: PolicyStatement[];
}

/** A list of action or resource patterns; `negated` for NotAction / NotResource. */
export interface PatternList {
  readonly negated: boolean;
  readonly values: readonly string[];
}

export interface PolicyStatement {
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  readonly action: PatternList;
  readonly resource: PatternList;
  readonly conditions: readonly PolicyCondition[];
}

/** One key under one operator: `"StringEquals": {"iot:ClientId": ["a", "b"]}` → one PolicyCondition. */
export interface PolicyCondition {
  readonly operator: ConditionOperator;
  readonly key: string;
  /** Values as written, booleans and numbers turned to strings; OR-ed together. */
  readonly values: readonly string[];
}
