import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deserializeRequest, extractUriLabels, iotModel, parseRawUrl, parseRequestUri, serializeResponse } from '../../src/api/index.js';
import type { Operation } from '../../src/api/index.js';
import { IotError } from '../../src/kernel/errors.js';

function op(name: string): Operation {
  const o = iotModel.operations[name];
  assert.ok(o, name);
  return o;
}

function bind(name: string, url: string, opts: { headers?: Record<string, string>; body?: string } = {}): Record<string, unknown> {
  const operation = op(name);
  const { rawPath, query } = parseRawUrl(url);
  return deserializeRequest(iotModel, operation, {
    labels: extractUriLabels(parseRequestUri(operation.http.requestUri), rawPath),
    query,
    headers: opts.headers ?? {},
    body: Buffer.from(opts.body ?? ''),
  });
}

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof IotError);
    assert.equal(e.code, 'InvalidRequestException');
    assert.equal(e.httpStatus, 400);
    return e.message;
  }
  return assert.fail('expected InvalidRequestException');
}

describe('deserializeRequest', () => {
  it('converts query strings by member type and uses member names (isAscendingOrder → ascendingOrder)', () => {
    assert.deepEqual(bind('ListCertificates', '/certificates?pageSize=10&isAscendingOrder=true&marker=abc%2B%2F%3D'), {
      pageSize: 10,
      ascendingOrder: true,
      marker: 'abc+/=',
    });
  });

  it('reports every violated constraint in AWS style', () => {
    assert.equal(
      invalid(() => bind('ListCertificates', '/certificates?pageSize=251')),
      "1 validation error detected: Value 251 at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 250",
    );
    assert.match(invalid(() => bind('ListCertificates', '/certificates?pageSize=ten')), /Value 'ten' at 'pageSize'/);
    assert.match(invalid(() => bind('ListCertificates', '/certificates?isAscendingOrder=yes')), /at 'ascendingOrder'/);
    const two = invalid(() => bind('DescribeThing', `/things/${'x'.repeat(129)}%20`));
    assert.match(two, /^2 validation errors detected: /);
    assert.match(two, /Member must have length less than or equal to 128; Value/);
  });

  it('binds header members and requires them (x-amzn-principal)', () => {
    const arn = 'arn:aws:iot:us-east-1:123456789012:cert/abc';
    assert.deepEqual(
      bind('AttachThingPrincipal', '/things/t1/principals?thingPrincipalType=EXCLUSIVE_THING', { headers: { 'x-amzn-principal': arn } }),
      { thingName: 't1', principal: arn, thingPrincipalType: 'EXCLUSIVE_THING' },
    );
    assert.equal(
      invalid(() => bind('AttachThingPrincipal', '/things/t1/principals')),
      "1 validation error detected: Value null at 'principal' failed to satisfy constraint: Member must not be null",
    );
  });

  it('binds the JSON body, ignores unknown keys, validates nested maps, rejects bad JSON', () => {
    assert.deepEqual(
      bind('CreateThing', '/things/t1', { body: '{"attributePayload":{"attributes":{"k":"v"}},"unknown":1}' }),
      { thingName: 't1', attributePayload: { attributes: { k: 'v' } } },
    );
    assert.match(
      invalid(() => bind('CreateThing', '/things/t1', { body: '{"attributePayload":{"attributes":{"k":"no spaces"}}}' })),
      /Value 'no spaces' at 'attributePayload\.attributes\.k' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    );
    assert.match(invalid(() => bind('CreateThing', '/things/t1', { body: '{"thingTypeName": 5}' })), /at 'thingTypeName'/);
    assert.equal(invalid(() => bind('CreateThing', '/things/t1', { body: '{' })), 'The request body is not valid JSON.');
    assert.match(invalid(() => bind('RegisterCertificate', '/certificate/register', { body: '{}' })), /Value null at 'certificatePem'/);
  });

  it('decodes a percent-encoded ARN label and rejects broken escapes', () => {
    const arn = 'arn:aws:iot:us-east-1:123456789012:cert/abc';
    assert.deepEqual(bind('ListAttachedPolicies', `/attached-policies/${encodeURIComponent(arn)}`), { target: arn });
    invalid(() => bind('ListAttachedPolicies', '/attached-policies/%E0%A4%A'));
  });
});

describe('serializeResponse', () => {
  it('renders Dates as epoch seconds with fractional milliseconds and drops undeclared keys', () => {
    const res = serializeResponse(iotModel, op('DescribeCertificate'), {
      certificateDescription: { certificateId: 'x', creationDate: new Date(1541022751983), extra: 1 },
      alsoExtra: true,
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '{"certificateDescription":{"certificateId":"x","creationDate":1541022751.983}}');
  });

  it('keeps the capitalised keyPair members and omits undefined', () => {
    const res = serializeResponse(iotModel, op('CreateKeysAndCertificate'), {
      certificateId: 'x',
      certificateArn: undefined,
      keyPair: { PublicKey: 'pub', PrivateKey: 'priv' },
    });
    assert.deepEqual(JSON.parse(res.body), { certificateId: 'x', keyPair: { PublicKey: 'pub', PrivateKey: 'priv' } });
  });

  it('empty-output operations answer 200 with an empty body', () => {
    for (const name of ['UpdateCertificate', 'DeleteThing', 'AttachPolicy', 'DeleteRegistrationCode']) {
      const res = serializeResponse(iotModel, op(name), undefined);
      assert.equal(res.statusCode, 200);
      assert.equal(res.body, '', name);
    }
  });
});
