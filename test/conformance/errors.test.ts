// The kernel's error table must name real AWS IoT error shapes with the model's HTTP statuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IOT_ERROR_STATUS, IotError } from '../../src/kernel/index.js';
import { loadBotocoreIotModel } from './botocore-model.js';

describe('error table conformance with the botocore model', () => {
  const model = loadBotocoreIotModel();

  for (const [code, status] of Object.entries(IOT_ERROR_STATUS)) {
    it(`${code} is an exception shape with HTTP ${status}`, () => {
      const shape = model.shapes[code];
      assert.ok(shape, `${code} is not a shape of the model`);
      assert.equal(shape.exception, true);
      assert.equal(shape.error?.httpStatusCode, status);
    });
  }

  it('every error an implemented operation can raise is in the table', () => {
    const served = ['CreateKeysAndCertificate', 'RegisterCACertificate', 'DeleteCertificate', 'TransferCertificate', 'AcceptCertificateTransfer', 'CreatePolicyVersion', 'UpdateThing'];
    for (const op of served) {
      for (const e of model.operations[op]?.errors ?? []) {
        assert.ok(e.shape in IOT_ERROR_STATUS, `${op} can raise ${e.shape}, missing from IOT_ERROR_STATUS`);
      }
    }
  });

  it('IotError carries the code, status and extra fields', () => {
    const e = new IotError('ResourceAlreadyExistsException', 'exists', { fields: { resourceId: 'x', resourceArn: 'arn' } });
    assert.equal(e.code, 'ResourceAlreadyExistsException');
    assert.equal(e.httpStatus, 409);
    assert.deepEqual(e.fields, { resourceId: 'x', resourceArn: 'arn' });
  });
});
