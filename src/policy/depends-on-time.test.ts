import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy } from './compile-policy.js';
import { dependsOnTime } from './depends-on-time.js';
import { parsePolicyDocument } from './parse-policy-document.js';

const policy = (statement: object) => compilePolicy('p', '1', parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: [statement] })));

describe('dependsOnTime', () => {
  it('is false for policies whose decisions only depend on connection values fixed at CONNECT', () => {
    assert.equal(dependsOnTime([policy({ Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/${iot:ClientId}/*' })]), false);
    assert.equal(dependsOnTime([policy({ Effect: 'Allow', Action: 'iot:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })]), false);
    assert.equal(dependsOnTime([]), false);
  });

  it('is true for a condition key or a variable on aws:CurrentTime / aws:EpochTime (any case)', () => {
    assert.equal(dependsOnTime([policy({ Effect: 'Allow', Action: 'iot:*', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } } })]), true);
    assert.equal(dependsOnTime([policy({ Effect: 'Deny', Action: 'iot:*', Resource: '*', Condition: { NumericGreaterThan: { 'AWS:EpochTime': '1' } } })]), true);
    assert.equal(dependsOnTime([policy({ Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/t/${aws:EpochTime}' })]), true);
  });
});
