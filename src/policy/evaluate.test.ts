import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy, evaluate, parsePolicyDocument } from './index.js';
import type { AuthRequest, CompiledPolicy, Decision } from './index.js';

interface EvaluateCase {
  name: string;
  policies: { name: string; versionId: string; document: unknown }[];
  request: AuthRequest;
  expect: { effect: Decision['effect']; reason: string; matched?: Record<string, unknown>[] };
}

const cases = JSON.parse(readFileSync(new URL('./fixtures/evaluate-cases.json', import.meta.url), 'utf8')) as EvaluateCase[];

const compileAll = (c: EvaluateCase): CompiledPolicy[] =>
  c.policies.map((p) => compilePolicy(p.name, p.versionId, parsePolicyDocument(JSON.stringify(p.document))));

describe('evaluate: fixture table (src/policy/fixtures/evaluate-cases.json)', () => {
  it('has cases', () => assert.ok(cases.length >= 40));
  for (const c of cases) {
    it(c.name, () => {
      const decision = evaluate(compileAll(c), c.request);
      assert.equal(decision.effect, c.expect.effect, `reasons: ${decision.reasons.join(' | ')}`);
      assert.ok(
        decision.reasons.some((r) => r.includes(c.expect.reason)),
        `no reason contains ${JSON.stringify(c.expect.reason)}; got ${JSON.stringify(decision.reasons)}`,
      );
      if (c.expect.effect === 'ImplicitDeny') assert.deepEqual(decision.matched, []);
      if (c.expect.matched !== undefined) {
        assert.equal(decision.matched.length, c.expect.matched.length);
        c.expect.matched.forEach((want, i) => {
          const got = decision.matched[i] as unknown as Record<string, unknown>;
          for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `matched[${i}].${k}`);
        });
      }
    });
  }
});

describe('evaluate: behaviour beyond the table', () => {
  const A = 'arn:aws:iot:us-east-1:123456789012';
  const compile = (doc: object, name = 'P', v = '1'): CompiledPolicy =>
    compilePolicy(name, v, parsePolicyDocument(JSON.stringify(doc)));

  it('lists every matching Allow statement across policies, in order', () => {
    const p1 = compile({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] }, 'One');
    const p2 = compile({ Version: '2012-10-17', Statement: [{ Sid: 'Pub', Effect: 'Allow', Action: 'iot:Publish', Resource: `${A}:topic/*` }] }, 'Two', '3');
    const d = evaluate([p1, p2], { action: 'iot:Publish', resource: `${A}:topic/t`, context: { values: {} } });
    assert.equal(d.effect, 'Allow');
    assert.deepEqual(d.matched, [
      { policyName: 'One', versionId: '1', statementIndex: 0, effect: 'Allow' },
      { policyName: 'Two', versionId: '3', statementIndex: 0, effect: 'Allow', sid: 'Pub' },
    ]);
  });

  it('a context key named like an Object.prototype member is not found by accident', () => {
    const p = compile({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `${A}:client/\${constructor}` }] });
    const d = evaluate([p], { action: 'iot:Connect', resource: `${A}:client/x`, context: { values: {} } });
    assert.equal(d.effect, 'ImplicitDeny');
    assert.ok(d.reasons.some((r) => r.includes('variable constructor has no value')));
  });

  it('condition keys are looked up case-insensitively', () => {
    const p = compile({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { StringEquals: { 'IOT:CLIENTID': 'a' } } }] });
    const d = evaluate([p], { action: 'iot:Connect', resource: `${A}:client/a`, context: { values: { 'iot:ClientId': 'a' } } });
    assert.equal(d.effect, 'Allow');
  });

  it('a compiled policy gives the same answer on repeated evaluation (no per-call state)', () => {
    const p = compile({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: `${A}:client/\${iot:ClientId}` },
        { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: `${A}:topic/org/\${iot:Certificate.Issuer.Organization}/*` },
        { Effect: 'Deny', Action: 'iot:Publish', Resource: `${A}:topic/org/*/secret` },
      ],
    });
    const request: AuthRequest = {
      action: 'iot:Publish',
      resource: `${A}:topic/org/Acme/dev/telemetry`,
      context: { values: { 'iot:ClientId': 'dev', 'iot:Certificate.Issuer.Organization': ['Acme'] } },
    };
    let allowed = 0;
    for (let i = 0; i < 20_000; i++) if (evaluate([p], request).effect === 'Allow') allowed++;
    assert.equal(allowed, 20_000);
  });
});
