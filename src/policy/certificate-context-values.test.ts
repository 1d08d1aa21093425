import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { certificateContextValues, compilePolicy, evaluate, parsePolicyDocument } from './index.js';

const none = { dns: [], email: [], uri: [], ip: [], directoryName: [] };

describe('certificateContextValues', () => {
  const values = certificateContextValues({
    subjectAttributes: { CN: ['lamp-1'], O: ['Acme'], OU: ['a', 'b', 'c', 'd', 'e', 'f'], serialNumber: ['123'], SN: ['Bulb'], '2.5.4.6': ['US'] },
    issuerAttributes: { CN: ['Acme CA'], O: ['Acme'], dnQualifier: ['q'], ST: ['WA'], GN: ['G'], initials: ['XY'] },
    subjectAltNames: { ...none, dns: ['lamp-1.example'], email: ['ops@example.com'], ip: ['10.0.0.1'] },
    issuerAltNames: { ...none, uri: ['https://ca.example'] },
    serialNumber: '0a1b2c',
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date('2034-01-01T00:00:00Z'),
  });

  it('maps short names and OIDs to AWS attribute names, Subject and Issuer', () => {
    assert.deepEqual(values['iot:Certificate.Subject.CommonName'], ['lamp-1']);
    assert.deepEqual(values['iot:Certificate.Subject.Organization'], ['Acme']);
    assert.deepEqual(values['iot:Certificate.Subject.SerialNumber'], ['123']);
    assert.deepEqual(values['iot:Certificate.Subject.Surname'], ['Bulb']);
    assert.deepEqual(values['iot:Certificate.Subject.Country'], ['US']);
    assert.deepEqual(values['iot:Certificate.Issuer.CommonName'], ['Acme CA']);
    assert.deepEqual(values['iot:Certificate.Issuer.DistinguishedNameQualifier'], ['q']);
    assert.deepEqual(values['iot:Certificate.Issuer.State'], ['WA']);
    assert.deepEqual(values['iot:Certificate.Issuer.GivenName'], ['G']);
    assert.deepEqual(values['iot:Certificate.Issuer.Initials'], ['XY']);
  });
  it('truncates multi-valued attributes to 5 values', () => {
    assert.deepEqual(values['iot:Certificate.Subject.OrganizationalUnit'], ['a', 'b', 'c', 'd', 'e']);
  });
  it('maps alternative names and the serial number', () => {
    assert.deepEqual(values['iot:Certificate.Subject.AlternativeName.DNSName'], ['lamp-1.example']);
    assert.deepEqual(values['iot:Certificate.Subject.AlternativeName.RFC822Name'], ['ops@example.com']);
    assert.deepEqual(values['iot:Certificate.Subject.AlternativeName.IPAddress'], ['10.0.0.1']);
    assert.deepEqual(values['iot:Certificate.Issuer.AlternativeName.UniformResourceIdentifier'], ['https://ca.example']);
    assert.equal(values['iot:Certificate.Subject.AlternativeName.UniformResourceIdentifier'], undefined);
    assert.equal(values['iot:Certificate.SerialNumber'], '0a1b2c');
  });
  it('lists the available keys', () => {
    const keys = values['iot:Certificate.AvailableKeys'];
    assert.ok(Array.isArray(keys));
    assert.ok(keys.includes('iot:Certificate.Subject.CommonName'));
    assert.ok(keys.includes('iot:Certificate.SerialNumber'));
    assert.ok(!keys.includes('iot:Certificate.Subject.Title'));
  });
  it('feeds evaluate: CommonName keys the client id, OU.2 the third value', () => {
    const p = compilePolicy('P', '1', parsePolicyDocument(JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: 'arn:aws:iot:*:*:client/${iot:Certificate.Subject.CommonName}' },
        { Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/ou/${iot:Certificate.Subject.OrganizationalUnit.2}' },
      ],
    })));
    const ctx = { values };
    assert.equal(evaluate([p], { action: 'iot:Connect', resource: 'arn:aws:iot:us-east-1:123456789012:client/lamp-1', context: ctx }).effect, 'Allow');
    assert.equal(evaluate([p], { action: 'iot:Publish', resource: 'arn:aws:iot:us-east-1:123456789012:topic/ou/c', context: ctx }).effect, 'Allow');
    assert.equal(evaluate([p], { action: 'iot:Publish', resource: 'arn:aws:iot:us-east-1:123456789012:topic/ou/a', context: ctx }).effect, 'ImplicitDeny');
  });
});
