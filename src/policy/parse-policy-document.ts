/**
 * Parses and validates an IoT policy document (the text given to CreatePolicy/CreatePolicyVersion).
 * Every problem becomes a MalformedPolicyException whose message says exactly what is wrong and where.
 */

import { malformedPolicy } from '../kernel/index.js';
import { parseConditionOperator } from './condition-operators.js';
import { makeValueTest } from './condition-value.js';
import type { PatternList, PolicyCondition, PolicyDocument, PolicyStatement } from './policy-document.js';
import { POLICY_VERSIONS } from './policy-document.js';
import { parseTemplate } from './policy-template.js';
import type { JsonObject, JsonValue } from './strict-json.js';
import { JsonSyntaxError, parseStrictJson } from './strict-json.js';

/** AWS's limit on a policy document, white space excluded. */
export const MAX_POLICY_CHARACTERS = 2048;

const DOCUMENT_KEYS = new Set(['Version', 'Statement', 'Id']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
/** `*`, or `iot:` (or `greengrass:`, which AWS IoT policies also carry) and an action name or glob. */
const ACTION_RE = /^(?:\*|(?:iot|greengrass):[A-Za-z0-9*?]+)$/i;

const quote = (s: string): string => JSON.stringify(s.length > 120 ? `${s.slice(0, 117)}...` : s);

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeType(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

export function countNonWhitespace(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // JSON white space plus the other ASCII/Unicode spaces a pasted document may carry.
    if (!(c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029)) n++;
  }
  return n;
}

export function parsePolicyDocument(text: string): PolicyDocument {
  if (typeof text !== 'string') throw malformedPolicy('policy document must be a string of JSON');
  if (text.trim() === '') throw malformedPolicy('policy document is empty');
  const size = countNonWhitespace(text);
  if (size > MAX_POLICY_CHARACTERS) {
    throw malformedPolicy(
      `policy document is ${size} characters long excluding white space; the limit is ${MAX_POLICY_CHARACTERS}`,
    );
  }
  let root: JsonValue;
  try {
    root = parseStrictJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw malformedPolicy(`policy document is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!isObject(root)) throw malformedPolicy(`policy document must be a JSON object, not ${describeType(root)}`);

  for (const key of Object.keys(root)) {
    if (!DOCUMENT_KEYS.has(key)) {
      throw malformedPolicy(`unknown key ${quote(key)} in policy document (allowed: Version, Statement, Id)`);
    }
  }
  const version = root['Version'];
  if (version === undefined) throw malformedPolicy('policy document has no Version (use "2012-10-17")');
  if (typeof version !== 'string' || !(POLICY_VERSIONS as readonly string[]).includes(version)) {
    throw malformedPolicy(
      `invalid Version ${typeof version === 'string' ? quote(version) : describeType(version)}: must be "2012-10-17" or "2008-10-17"`,
    );
  }
  const id = root['Id'];
  if (id !== undefined && typeof id !== 'string') throw malformedPolicy(`Id must be a string, not ${describeType(id)}`);

  const rawStatements = root['Statement'];
  if (rawStatements === undefined) throw malformedPolicy('policy document has no Statement');
  let list: JsonValue[];
  if (Array.isArray(rawStatements)) {
    if (rawStatements.length === 0) throw malformedPolicy('Statement is an empty array');
    list = rawStatements;
  } else if (isObject(rawStatements)) {
    list = [rawStatements];
  } else {
    throw malformedPolicy(`Statement must be an object or an array of objects, not ${describeType(rawStatements)}`);
  }
  const substitute = version === '2012-10-17';
  const statements = list.map((s, i) => parseStatement(s, i, substitute));
  return id === undefined ? { version, statements } : { version, id, statements };
}

function parseStatement(raw: JsonValue, index: number, substitute: boolean): PolicyStatement {
  if (!isObject(raw)) throw malformedPolicy(`statement #${index} must be an object, not ${describeType(raw)}`);
  const sidValue = raw['Sid'];
  if (sidValue !== undefined && typeof sidValue !== 'string') {
    throw malformedPolicy(`statement #${index}: Sid must be a string, not ${describeType(sidValue)}`);
  }
  const where = sidValue === undefined ? `statement #${index}` : `statement #${index} (Sid ${quote(sidValue)})`;
  const fail = (msg: string): never => {
    throw malformedPolicy(`${where}: ${msg}`);
  };
  for (const key of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(key)) {
      fail(`unknown key ${quote(key)} (allowed: Sid, Effect, Action, NotAction, Resource, NotResource, Condition)`);
    }
  }
  const effect = raw['Effect'];
  if (effect === undefined) fail('missing Effect (Allow or Deny)');
  if (effect !== 'Allow' && effect !== 'Deny') {
    fail(`Effect must be "Allow" or "Deny", not ${typeof effect === 'string' ? quote(effect) : describeType(effect!)}`);
  }

  const action = patternList(raw, 'Action', 'NotAction', fail);
  for (const a of action.values) {
    if (!ACTION_RE.test(a)) fail(`action ${quote(a)} is not of the form "iot:ActionName" (wildcards * and ? allowed)`);
  }
  const resource = patternList(raw, 'Resource', 'NotResource', fail);
  for (const r of resource.values) {
    if (r !== '*' && !r.startsWith('arn:')) fail(`resource ${quote(r)} must be "*" or an ARN (arn:aws:iot:region:account:type/name)`);
    const t = parseTemplate(r, substitute);
    if (typeof t === 'string') fail(t);
  }
  const conditions = parseConditions(raw['Condition'], substitute, fail);

  const statement: PolicyStatement = { effect: effect as 'Allow' | 'Deny', action, resource, conditions };
  return sidValue === undefined ? statement : { sid: sidValue, ...statement };
}

function patternList(raw: JsonObject, positive: string, negative: string, fail: (m: string) => never): PatternList {
  const pos = raw[positive];
  const neg = raw[negative];
  if (pos !== undefined && neg !== undefined) fail(`has both ${positive} and ${negative}; use one`);
  if (pos === undefined && neg === undefined) fail(`missing ${positive} (or ${negative})`);
  const name = pos !== undefined ? positive : negative;
  const value = (pos ?? neg)!;
  const values = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(values)) fail(`${name} must be a string or an array of strings, not ${describeType(value)}`);
  const arr = values as JsonValue[];
  if (arr.length === 0) fail(`${name} is an empty array`);
  const out: string[] = [];
  arr.forEach((v, i) => {
    if (typeof v !== 'string') fail(`${name}[${i}] must be a string, not ${describeType(v)}`);
    if ((v as string).length === 0) fail(`${name}[${i}] is an empty string`);
    out.push(v as string);
  });
  return { negated: pos === undefined, values: out };
}

function parseConditions(raw: JsonValue | undefined, substitute: boolean, fail: (m: string) => never): PolicyCondition[] {
  if (raw === undefined) return [];
  if (!isObject(raw)) return fail(`Condition must be an object, not ${describeType(raw)}`);
  const out: PolicyCondition[] = [];
  for (const [opName, body] of Object.entries(raw)) {
    const operator = parseConditionOperator(opName);
    if (typeof operator === 'string') fail(operator);
    const op = operator as Exclude<typeof operator, string>;
    if (!isObject(body)) fail(`Condition ${quote(opName)} must map condition keys to values, not be ${describeType(body)}`);
    const entries = Object.entries(body as JsonObject);
    if (entries.length === 0) fail(`Condition ${quote(opName)} has no condition key`);
    for (const [key, value] of entries) {
      if (key.length === 0) fail(`Condition ${quote(opName)} has an empty condition key`);
      const rawValues = Array.isArray(value) ? value : [value];
      if (rawValues.length === 0) fail(`Condition ${quote(opName)} key ${quote(key)} has an empty array of values`);
      const values: string[] = [];
      for (const v of rawValues) {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          fail(`Condition ${quote(opName)} key ${quote(key)}: values must be strings, numbers or booleans, not ${describeType(v)}`);
        }
        const text = String(v);
        const template = parseTemplate(text, substitute);
        if (typeof template === 'string') fail(`Condition ${quote(opName)} key ${quote(key)}: ${template}`);
        const t = template as Exclude<typeof template, string>;
        if (t.staticPieces !== undefined) {
          const test = makeValueTest(op.info, t.staticPieces);
          if (typeof test === 'string') fail(`Condition ${quote(opName)} key ${quote(key)}: ${test}`);
        }
        values.push(text);
      }
      out.push({ operator: op, key, values });
    }
  }
  return out;
}
