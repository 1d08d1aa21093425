import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIotError } from '../../kernel/index.js';
import { parseProvisioningTemplate } from './parse-provisioning-template.js';
import type { ProvisioningTemplateType } from './provisioning-template.js';

const CERT = { certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'Active' } } };
const POLICY_DOC = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iot:Publish'], Resource: ['*'] }] };
const body = (extra: Record<string, unknown>, resources: Record<string, unknown> = {}): string =>
  JSON.stringify({ ...extra, Resources: { ...CERT, ...resources } });

interface Case {
  readonly name: string;
  readonly body: string;
  readonly type?: ProvisioningTemplateType;
  /** The error code and a fragment of its message; absent = the template is valid. */
  readonly error?: readonly [string, string];
}

const CASES: readonly Case[] = [
  // Good templates
  {
    name: 'AWS fleet provisioning example shape (Mappings, OverrideSettings, object policy, DeviceConfiguration)',
    body: JSON.stringify({
      Parameters: { DeviceLocation: { Type: 'String' }, SerialNumber: { Type: 'String' } },
      Mappings: { LocationTable: { Seattle: { LocationUrl: 'https://example.aws' } } },
      Resources: {
        thing: {
          Type: 'AWS::IoT::Thing',
          Properties: { ThingName: { 'Fn::Join': ['', ['ThingPrefix_', { Ref: 'SerialNumber' }]] }, AttributePayload: { version: 'v1' } },
          OverrideSettings: { AttributePayload: 'MERGE', ThingTypeName: 'REPLACE', ThingGroups: 'DO_NOTHING' },
        },
        ...CERT,
        policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: POLICY_DOC } },
      },
      DeviceConfiguration: { FallbackUrl: 'https://www.example.com', LocationUrl: { 'Fn::FindInMap': ['LocationTable', { Ref: 'DeviceLocation' }, 'LocationUrl'] } },
    }),
  },
  {
    name: 'JITP template with an escaped-string policy document and certificate-subject parameters',
    type: 'JITP',
    body: JSON.stringify({
      Parameters: { 'AWS::IoT::Certificate::CommonName': { Type: 'String' }, 'AWS::IoT::Certificate::Id': { Type: 'String' } },
      Resources: {
        thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' } } },
        certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' } },
        policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: JSON.stringify(POLICY_DOC) } },
      },
    }),
  },
  { name: 'Fn::Sub, Fn::Select and Fn::Split', body: body({ Parameters: { P: { Type: 'String', Default: 'a,b' } } }, { thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { 'Fn::Sub': ['dev-${X}', { X: { 'Fn::Select': [1, { 'Fn::Split': [',', { Ref: 'P' }] }] } }] } } } }) },
  { name: 'policy by name only', body: body({}, { p: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'existing' } } }) },
  { name: 'certificate OverrideSettings Status REPLACE', body: JSON.stringify({ Resources: { c: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' } }, OverrideSettings: { Status: 'REPLACE' } } } }) },
  { name: 'JITP may name its certificate by PEM', type: 'JITP', body: JSON.stringify({ Resources: { c: { Type: 'AWS::IoT::Certificate', Properties: { CertificatePem: { Ref: 'Pem' } } } } }) },

  // Bad templates
  { name: 'not JSON', body: '{"Resources": ', error: ['InvalidRequestException', 'not valid JSON'] },
  { name: 'a JSON array', body: '[]', error: ['InvalidRequestException', 'must be a JSON object'] },
  { name: 'no Resources', body: '{}', error: ['InvalidRequestException', 'Resources section is required'] },
  { name: 'unknown section', body: body({ Outputz: {} }), error: ['InvalidRequestException', 'unknown section Outputz'] },
  { name: 'Conditions section', body: body({ Conditions: {} }), error: ['InvalidRequestException', 'Conditions section is not supported'] },
  { name: 'unknown resource type', body: body({}, { q: { Type: 'AWS::IoT::Thingy', Properties: {} } }), error: ['InvalidRequestException', 'unknown resource type "AWS::IoT::Thingy"'] },
  { name: 'unknown intrinsic', body: body({}, { t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { 'Fn::GetAtt': ['a', 'b'] } } } }), error: ['InvalidRequestException', 'unknown intrinsic function Fn::GetAtt'] },
  { name: 'Fn::If is not a provisioning intrinsic', body: body({}, { t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { 'Fn::If': ['c', 'a', 'b'] } } } }), error: ['InvalidRequestException', 'unknown intrinsic function Fn::If'] },
  { name: 'Ref with extra keys', body: body({}, { t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { Ref: 'A', x: 1 } } } }), error: ['InvalidRequestException', 'must be the only key'] },
  { name: 'Fn::Join with one argument', body: body({}, { t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { 'Fn::Join': [''] } } } }), error: ['InvalidRequestException', 'Fn::Join'] },
  { name: 'bad OverrideSettings value', body: body({}, { t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'x' }, OverrideSettings: { AttributePayload: 'OVERWRITE' } } }), error: ['InvalidRequestException', 'must be one of DO_NOTHING, REPLACE, FAIL, MERGE'] },
  { name: 'MERGE on ThingTypeName', body: body({}, { t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'x' }, OverrideSettings: { ThingTypeName: 'MERGE' } } }), error: ['InvalidRequestException', 'MERGE applies only'] },
  { name: 'OverrideSettings on a policy', body: body({}, { p: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'a' }, OverrideSettings: {} } }), error: ['InvalidRequestException', 'not available for policy'] },
  { name: 'policy with name and document', body: body({}, { p: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'a', PolicyDocument: POLICY_DOC } } }), error: ['InvalidRequestException', 'not both'] },
  { name: 'policy with neither', body: body({}, { p: { Type: 'AWS::IoT::Policy', Properties: {} } }), error: ['InvalidRequestException', 'not both'] },
  { name: 'malformed literal policy document', body: body({}, { p: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: '{"Statement": 5}' } } }), error: ['InvalidRequestException', 'Resources.p.Properties.PolicyDocument is not a valid policy document'] },
  { name: 'thing without ThingName', body: body({}, { t: { Type: 'AWS::IoT::Thing', Properties: {} } }), error: ['InvalidRequestException', 'ThingName is required'] },
  { name: 'two things', body: body({}, { t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'a' } }, u: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'b' } } }), error: ['InvalidRequestException', 'at most one AWS::IoT::Thing'] },
  { name: 'unknown thing property', body: body({}, { t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'a', Colour: 'red' } } }), error: ['InvalidRequestException', 'unknown key Colour'] },
  { name: 'no certificate resource', body: JSON.stringify({ Resources: { t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'a' } } } }), error: ['InvalidRequestException', 'must declare an AWS::IoT::Certificate'] },
  { name: 'certificate with two ways', body: JSON.stringify({ Resources: { c: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: 'a', CertificatePem: 'b' } } } }), error: ['InvalidRequestException', 'exactly one of'] },
  { name: 'fleet template naming the certificate by PEM', body: JSON.stringify({ Resources: { c: { Type: 'AWS::IoT::Certificate', Properties: { CertificatePem: 'b' } } } }), error: ['InvalidRequestException', 'can only use CertificateId'] },
  { name: 'certificate status REVOKED', body: JSON.stringify({ Resources: { c: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: 'a', Status: 'REVOKED' } } } }), error: ['InvalidRequestException', 'ACTIVE or INACTIVE'] },
  { name: 'certificate override on CertificateId', body: JSON.stringify({ Resources: { c: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: 'a' }, OverrideSettings: { CertificateId: 'REPLACE' } } } }), error: ['InvalidRequestException', 'only Status'] },
  { name: 'parameter of type Number', body: body({ Parameters: { N: { Type: 'Number' } } }), error: ['InvalidRequestException', 'Type must be "String"'] },
  { name: 'non-string Default', body: body({ Parameters: { N: { Type: 'String', Default: 3 } } }), error: ['InvalidRequestException', 'Default must be a string'] },
  { name: 'intrinsic inside Mappings', body: body({ Mappings: { M: { a: { b: { Ref: 'X' } } } } }), error: ['InvalidRequestException', 'Mappings cannot contain'] },
  { name: 'nested DeviceConfiguration', body: body({ DeviceConfiguration: { a: { b: 'c' } } }), error: ['InvalidRequestException', 'flat'] },
  // 6,000 nested lists fit in a 10 KB body and used to overflow the stack (RangeError, not a typed error).
  { name: 'lists nested 6,000 deep', body: '{"Resources":{"t":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":' + '['.repeat(6000) + '"x"' + ']'.repeat(6000) + '}},' + JSON.stringify(CERT).slice(1) + '}', error: ['InvalidRequestException', 'more than 64 levels'] },
  { name: 'Mappings nested 6,000 deep', body: '{"Mappings":{"M":{"a":{"b":' + '{"c":'.repeat(6000) + '1' + '}'.repeat(6000) + '}}},"Resources":' + JSON.stringify(CERT) + '}', error: ['InvalidRequestException', 'more than 64 levels'] },
];

describe('parseProvisioningTemplate', () => {
  for (const c of CASES) {
    it(c.error ? `refuses: ${c.name}` : `accepts: ${c.name}`, () => {
      const run = () => parseProvisioningTemplate(c.body, c.type ?? 'FLEET_PROVISIONING');
      if (!c.error) {
        const t = run();
        assert.equal(t.certificate.type, 'AWS::IoT::Certificate');
        return;
      }
      assert.throws(run, (e: unknown) => {
        assert.ok(isIotError(e), `expected an IotError, got ${String(e)}`);
        assert.equal(e.code, c.error![0]);
        assert.ok(e.message.includes(c.error![1]), `message '${e.message}' should include '${c.error![1]}'`);
        return true;
      });
    });
  }

  it('keeps resources, overrides and device configuration in the parsed form', () => {
    const t = parseProvisioningTemplate(CASES[0]!.body, 'FLEET_PROVISIONING');
    assert.equal(t.thing?.logicalId, 'thing');
    assert.deepEqual(t.thing?.overrides, { attributePayload: 'MERGE', thingTypeName: 'REPLACE', thingGroups: 'DO_NOTHING' });
    assert.equal(t.policies.length, 1);
    assert.deepEqual(Object.keys(t.deviceConfiguration), ['FallbackUrl', 'LocationUrl']);
    assert.equal(t.deviceConfiguration['LocationUrl']?.kind, 'find-in-map');
  });

  it('does not let a __proto__ key reach an object prototype', () => {
    const t = parseProvisioningTemplate('{"Mappings":{"__proto__":{"a":{"b":"c"}}},"Resources":' + JSON.stringify(CERT) + '}', 'FLEET_PROVISIONING');
    assert.equal(Object.hasOwn(t.mappings, '__proto__'), true);
    assert.equal(({} as Record<string, unknown>)['a'], undefined);
  });
});
