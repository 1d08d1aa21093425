import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFleetPayload, encodeFleetPayload, readCreateCertificateFromCsrRequest, readRegisterThingRequest } from './fleet-payload.js';
import { FleetRejection } from './fleet-rejection.js';

const rejectedAs = (code: string) => (e: unknown) => e instanceof FleetRejection && e.statusCode === 400 && e.errorCode === code;

describe('fleet provisioning payloads', () => {
  it('JSON and CBOR round-trip as plain maps', () => {
    const body = { certificateId: 'abc', deviceConfiguration: { a: '1' } };
    assert.deepEqual(decodeFleetPayload('json', encodeFleetPayload('json', body)), body);
    const cbor = encodeFleetPayload('cbor', body);
    assert.equal(cbor[0]! >> 5, 5, 'a CBOR map (major type 5)');
    assert.deepEqual(decodeFleetPayload('cbor', cbor), body);
    // A second encode must not overwrite the first one's bytes.
    const again = encodeFleetPayload('cbor', { other: 'x'.repeat(50) });
    assert.deepEqual(decodeFleetPayload('cbor', cbor), body);
    assert.deepEqual(decodeFleetPayload('cbor', again), { other: 'x'.repeat(50) });
  });

  it('an empty payload is {}; malformed JSON or CBOR is InvalidPayload', () => {
    assert.deepEqual(decodeFleetPayload('json', new Uint8Array(0)), {});
    assert.throws(() => decodeFleetPayload('json', Buffer.from('{nope')), rejectedAs('InvalidPayload'));
    assert.throws(() => decodeFleetPayload('cbor', Buffer.from([0xff])), rejectedAs('InvalidPayload'));
  });

  it('RegisterThing: token required, parameters strings only, __proto__ stays a plain key', () => {
    assert.throws(() => readRegisterThingRequest({ parameters: {} }), rejectedAs('InvalidCertificateOwnershipToken'));
    assert.throws(() => readRegisterThingRequest({ certificateOwnershipToken: 'x', parameters: { a: 1 } }), rejectedAs('InvalidPayload'));
    assert.throws(() => readRegisterThingRequest({ certificateOwnershipToken: 'x', parameters: [] }), rejectedAs('InvalidPayload'));
    assert.throws(() => readRegisterThingRequest([]), rejectedAs('InvalidPayload'));
    const r = readRegisterThingRequest(JSON.parse('{"certificateOwnershipToken":"t","parameters":{"__proto__":"x","SerialNumber":"1"}}'));
    assert.equal(Object.getPrototypeOf(r.parameters), Object.prototype);
    assert.deepEqual(Object.keys(r.parameters), ['__proto__', 'SerialNumber']);
    assert.deepEqual(readRegisterThingRequest({ certificateOwnershipToken: 't' }).parameters, {});
  });

  it('CBOR: a __proto__ map key stays data (never the prototype); non-string keys are refused', () => {
    // {"parameters": {"__proto__": {"x": 1}}} in CBOR
    const evil = Buffer.from('a1' + '6a' + Buffer.from('parameters').toString('hex') + 'a1' + '69' + Buffer.from('__proto__').toString('hex') + 'a1' + '6178' + '01', 'hex');
    const decoded = decodeFleetPayload('cbor', evil) as { parameters: Record<string, unknown> };
    assert.equal(Object.getPrototypeOf(decoded.parameters), Object.prototype);
    assert.deepEqual(Object.keys(decoded.parameters), ['__proto__']);
    assert.equal((decoded.parameters as { x?: unknown }).x, undefined);
    assert.throws(() => decodeFleetPayload('cbor', Buffer.from('a10101', 'hex')), rejectedAs('InvalidPayload'));
  });

  it('CreateCertificateFromCsr needs a CSR of at most 4096 characters', () => {
    assert.throws(() => readCreateCertificateFromCsrRequest({}), rejectedAs('InvalidPayload'));
    assert.throws(() => readCreateCertificateFromCsrRequest({ certificateSigningRequest: 'x'.repeat(4097) }), rejectedAs('InvalidPayload'));
    assert.equal(readCreateCertificateFromCsrRequest({ certificateSigningRequest: 'pem' }).certificateSigningRequest, 'pem');
  });
});
