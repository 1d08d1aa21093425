import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IotError } from '../kernel/index.js';
import { compilePolicy, MAX_POLICY_CHARACTERS, parsePolicyDocument } from './index.js';
import type { PolicyDocument } from './index.js';

interface MalformedCase {
  name: string;
  text: string;
  message: string;
}

const malformed = JSON.parse(
  readFileSync(new URL('./fixtures/malformed-documents.json', import.meta.url), 'utf8'),
) as MalformedCase[];

function assertMalformed(fn: () => unknown, substring: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IotError, `expected IotError, got ${String(e)}`);
    assert.equal(e.code, 'MalformedPolicyException');
    assert.equal(e.httpStatus, 400);
    assert.ok(e.message.includes(substring), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(substring)}`);
    return true;
  });
}

describe('parsePolicyDocument: malformed documents table (fixtures/malformed-documents.json)', () => {
  it('has cases', () => assert.ok(malformed.length >= 40));
  for (const c of malformed) it(c.name, () => assertMalformed(() => parsePolicyDocument(c.text), c.message));
});

describe('parsePolicyDocument: size limit (2048 characters excluding white space)', () => {
  const docOfSize = (n: number, pad: string): string => {
    const base = JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'iot:Connect', Resource: 'arn:aws:iot:*:*:client/' } });
    const fill = 'x'.repeat(n - base.length);
    return base.replace('client/', `client/${fill}`).replace(/,/g, `,${pad}`);
  };
  it('accepts exactly 2048 characters, white space not counted', () => {
    const text = docOfSize(MAX_POLICY_CHARACTERS, '\n    ');
    assert.ok(text.length > MAX_POLICY_CHARACTERS);
    assert.equal(parsePolicyDocument(text).statements.length, 1);
  });
  it('refuses 2049 characters and says how long it is', () => {
    assertMalformed(() => parsePolicyDocument(docOfSize(MAX_POLICY_CHARACTERS + 1, ' ')), 'is 2049 characters long excluding white space; the limit is 2048');
  });
});

describe('parsePolicyDocument: normalisation', () => {
  it('turns strings into arrays and keeps Sid, NotResource and conditions', () => {
    const doc = parsePolicyDocument(
      JSON.stringify({
        Version: '2012-10-17',
        Id: 'doc-1',
        Statement: {
          Sid: 'S1',
          Effect: 'Deny',
          Action: 'iot:Publish',
          NotResource: 'arn:aws:iot:*:*:topic/ok/*',
          Condition: { 'ForAnyValue:StringLikeIfExists': { 'iot:ConnectAttributes': ['Last*', true, 3] } },
        },
      }),
    );
    assert.equal(doc.version, '2012-10-17');
    assert.equal(doc.id, 'doc-1');
    const s = doc.statements[0]!;
    assert.equal(s.sid, 'S1');
    assert.equal(s.effect, 'Deny');
    assert.deepEqual(s.action, { negated: false, values: ['iot:Publish'] });
    assert.deepEqual(s.resource, { negated: true, values: ['arn:aws:iot:*:*:topic/ok/*'] });
    const c = s.conditions[0]!;
    assert.equal(c.operator.name, 'StringLike');
    assert.equal(c.operator.set, 'ForAnyValue');
    assert.equal(c.operator.ifExists, true);
    assert.equal(c.key, 'iot:ConnectAttributes');
    assert.deepEqual(c.values, ['Last*', 'true', '3']);
  });

  it('accepts the 2008-10-17 language version and a single statement object', () => {
    const doc = parsePolicyDocument('{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":["iot:*"],"Resource":["*"]}}');
    assert.equal(doc.version, '2008-10-17');
    assert.equal(doc.statements.length, 1);
  });

  it('accepts AWS example actions such as greengrass:* and shadow actions', () => {
    const doc = parsePolicyDocument(
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['greengrass:*', 'iot:GetThingShadow', 'iot:UpdateThingShadow'], Resource: '*' }] }),
    );
    assert.equal(doc.statements[0]!.action.values.length, 3);
  });

  it('a non-string argument is a typed error, not a crash', () => {
    assertMalformed(() => parsePolicyDocument(42 as unknown as string), 'must be a string');
  });
});

describe('compilePolicy', () => {
  it('refuses a hand-built document with an invalid condition value', () => {
    const doc = parsePolicyDocument(
      JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { NumericEquals: { k: '1' } } } }),
    );
    const statement = doc.statements[0]!;
    const broken: PolicyDocument = {
      version: doc.version,
      statements: [{ ...statement, conditions: [{ ...statement.conditions[0]!, values: ['one'] }] }],
    };
    assertMalformed(() => compilePolicy('P', '1', broken), '"one" is not a number');
  });

  it('labels statements with policy, version, index and Sid', () => {
    const compiled = compilePolicy('Shop', '4', parsePolicyDocument('{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"iot:*","Resource":"*"}]}'));
    assert.equal(compiled.statements[0]!.label, 'policy Shop v4 statement #0 (Sid "A")');
  });
});
