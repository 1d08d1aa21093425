import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compileModelPattern, getShape, iotModel, uncompilableModelPatterns } from '../../src/api/index.js';
import type { OperationTable, Shape } from '../../src/api/index.js';
import { REGION, ACCOUNT_ID, sendRaw, signRequest, startHarness } from './api-server-harness.js';
import type { Harness } from './api-server-harness.js';

/** A value satisfying a shape's constraints, synthesised from the model. */
function sample(shape: Shape): unknown {
  switch (shape.type) {
    case 'string': {
      if (shape.enum?.[0] !== undefined) return shape.enum[0];
      const candidates = ['a1', '1', ACCOUNT_ID, 'a'.repeat(64), 'a'.repeat(shape.min ?? 1)];
      const re = shape.pattern === undefined ? undefined : compileModelPattern(shape.pattern);
      const ok = candidates.find(
        (c) => c.length >= (shape.min ?? 0) && c.length <= (shape.max ?? Infinity) && (re === undefined || re.test(c)),
      );
      assert.ok(ok !== undefined, `no sample for ${JSON.stringify(shape)}`);
      return ok;
    }
    case 'integer':
    case 'long':
    case 'double':
    case 'float':
      return Math.max(shape.min ?? 1, 1);
    case 'boolean':
      return true;
    case 'timestamp':
      return 1700000000;
    case 'blob':
      return 'YQ==';
    case 'list':
      return Array.from({ length: shape.min ?? 0 }, () => sample(getShape(iotModel, shape.member?.shape ?? '')));
    case 'map':
      return {};
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const name of shape.required ?? []) {
        const ref = shape.members?.[name];
        if (ref) out[ref.locationName ?? name] = sample(getShape(iotModel, ref.shape));
      }
      return out;
    }
  }
}

describe('routing: every model operation reaches its own handler', () => {
  let h: Harness;
  const hits: string[] = [];
  before(async () => {
    const table: OperationTable = {};
    for (const name of Object.keys(iotModel.operations)) {
      table[name] = async () => {
        hits.push(name);
      };
    }
    h = await startHarness(table);
  });
  after(() => h.close());

  it('the generated model has the 61 operations and every pattern compiles in JS', () => {
    assert.equal(Object.keys(iotModel.operations).length, 61);
    assert.deepEqual(uncompilableModelPatterns(iotModel), []);
    assert.equal(JSON.stringify(iotModel).includes('"documentation"'), false);
  });

  it('signed requests built from the model route to the right operation and validate', async () => {
    for (const [name, op] of Object.entries(iotModel.operations)) {
      const input = op.input ? getShape(iotModel, op.input.shape) : { type: 'structure' as const };
      let path = op.http.requestUri;
      const query: Record<string, string> = {};
      const headers: Record<string, string> = {};
      const body: Record<string, unknown> = {};
      for (const [member, ref] of Object.entries(input.members ?? {})) {
        const shape = getShape(iotModel, ref.shape);
        const required = input.required?.includes(member) === true;
        const wire = ref.locationName ?? member;
        if (ref.location === 'uri') {
          const v = wire === 'target' ? `arn:aws:iot:${REGION}:${ACCOUNT_ID}:cert/${'a'.repeat(64)}` : String(sample(shape));
          path = path.replace(`{${wire}}`, encodeURIComponent(v));
        } else if (required && ref.location === 'querystring') query[wire] = String(sample(shape));
        else if (required && ref.location === 'header') headers[wire] = String(sample(shape));
        else if (required && ref.location === undefined) body[wire] = sample(shape);
      }
      const text = Object.keys(body).length > 0 ? JSON.stringify(body) : '';
      const signed = await signRequest({ port: h.port, method: op.http.method, path, query, headers, body: text });
      const qs = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
      const res = await sendRaw(h.port, op.http.method, qs ? `${path}?${qs}` : path, signed, text);
      assert.equal(res.status, 200, `${name} ${op.http.method} ${path}: ${res.body}`);
      assert.equal(hits.at(-1), name, `${op.http.method} ${path} reached ${hits.at(-1)}, not ${name}`);
    }
    assert.equal(hits.length, 61);
  });
});
