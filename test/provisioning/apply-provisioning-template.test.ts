// applyProvisioningTemplate against the real registry use cases over a real SQLite store (in memory).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isIotError, silentLogger } from '../../src/kernel/index.js';
import type { Scope } from '../../src/kernel/index.js';
import { createRootCa, parseCertificatePem } from '../../src/pki/index.js';
import { applyProvisioningTemplate, parseProvisioningTemplate } from '../../src/provisioning/index.js';
import {
  createAccount,
  createKeysAndCertificate,
  createPolicy,
  createRegistryEvents,
  createThing,
} from '../../src/registry/index.js';
import type { CaCertificate, RegistryDeps, RegistryEvent } from '../../src/registry/index.js';
import { createJitpProvisioner } from '../../src/provisioning/jit/index.js';
import { openSqliteStore } from '../../src/store/index.js';

const REGION = 'us-east-1';
const POLICY_DOC = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] };

const FLEET_TEMPLATE = JSON.stringify({
  Parameters: { SerialNumber: { Type: 'String' }, DeviceLocation: { Type: 'String', Default: 'Seattle' } },
  Mappings: { LocationTable: { Seattle: { LocationUrl: 'https://example.aws' } } },
  Resources: {
    thing: {
      Type: 'AWS::IoT::Thing',
      Properties: { ThingName: { 'Fn::Join': ['', ['Prefix_', { Ref: 'SerialNumber' }]] }, AttributePayload: { serial: { Ref: 'SerialNumber' } } },
      OverrideSettings: { AttributePayload: 'MERGE' },
    },
    certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'Active' } },
    policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: POLICY_DOC } },
  },
  DeviceConfiguration: {
    LocationUrl: { 'Fn::FindInMap': ['LocationTable', { Ref: 'DeviceLocation' }, 'LocationUrl'] },
    Where: { 'Fn::Sub': '${DeviceLocation}/${SerialNumber}' },
  },
});

describe('applyProvisioningTemplate', () => {
  let deps: RegistryDeps;
  let scope: Scope;
  const seen: RegistryEvent[] = [];

  before(async () => {
    const store = await openSqliteStore({ file: ':memory:' });
    const events = createRegistryEvents((e) => {
      throw e;
    });
    events.subscribe((e) => void seen.push(e));
    const clock = { now: () => new Date() };
    const deviceIssuer = await createRootCa({ keyType: 'EC', commonName: 'test issuer', organization: 'certgate', now: clock.now(), years: 30 });
    deps = { store, clock, logger: silentLogger, deviceIssuer, domain: 'certgate.test', events };
    const account = await createAccount(deps, { name: 'provisioning' });
    scope = { accountId: account.accountId, region: REGION };
  });
  after(() => deps.store.close());

  async function pendingCertificate(): Promise<string> {
    return (await createKeysAndCertificate(deps, scope, { pendingActivation: true })).certificate.certificateId;
  }

  async function expectIotError(p: Promise<unknown>, code: string, fragment: string): Promise<void> {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(isIotError(e), String(e));
      assert.equal(e.code, code);
      assert.ok(e.message.includes(fragment), `'${e.message}' should include '${fragment}'`);
      return true;
    });
  }

  it('creates the thing and the policy, attaches both, activates the certificate and answers the device configuration', async () => {
    const certificateId = await pendingCertificate();
    seen.length = 0;
    const template = parseProvisioningTemplate(FLEET_TEMPLATE, 'FLEET_PROVISIONING');
    const result = await applyProvisioningTemplate(deps, { scope, template, parameters: { SerialNumber: '0001' }, certificateId });
    assert.equal(result.thingName, 'Prefix_0001');
    assert.equal(result.certificateStatus, 'ACTIVE');
    assert.deepEqual(result.deviceConfiguration, { LocationUrl: 'https://example.aws', Where: 'Seattle/0001' });
    assert.equal(result.policyNames.length, 1);
    assert.match(result.policyNames[0]!, /^[0-9a-f]{64}$/);

    const certArn = `arn:aws:iot:${REGION}:${scope.accountId}:cert/${certificateId}`;
    assert.equal((await deps.store.getCertificate(scope, certificateId))?.status, 'ACTIVE');
    assert.deepEqual((await deps.store.getThing(scope, 'Prefix_0001'))?.attributes, { serial: '0001' });
    assert.deepEqual((await deps.store.listThingPrincipals(scope, 'Prefix_0001', 10)).map((l) => l.principal), [certArn]);
    assert.deepEqual((await deps.store.listAttachedPolicies(scope, certArn, { limit: 10, ascending: true })).map((a) => a.policyName), result.policyNames);
    assert.ok((seen as RegistryEvent[]).some((e) => e.type === 'policy-attachment-changed'));
    assert.ok((seen as RegistryEvent[]).some((e) => e.type === 'certificate-status-changed' && e.certificateId === certificateId && e.status === 'ACTIVE'));
  });

  it('a second device with the same policy document reuses the policy and merges into an existing thing', async () => {
    await createThing(deps, scope, { thingName: 'Prefix_0002', attributePayload: { attributes: { colour: 'red' } } });
    const certificateId = await pendingCertificate();
    const template = parseProvisioningTemplate(FLEET_TEMPLATE, 'FLEET_PROVISIONING');
    const first = await applyProvisioningTemplate(deps, { scope, template, parameters: { SerialNumber: '0001' }, certificateId: await pendingCertificate() });
    const result = await applyProvisioningTemplate(deps, { scope, template, parameters: { SerialNumber: '0002' }, certificateId });
    assert.deepEqual(result.policyNames, first.policyNames);
    assert.deepEqual((await deps.store.getThing(scope, 'Prefix_0002'))?.attributes, { colour: 'red', serial: '0002' });
  });

  it('a declared parameter without a value or Default fails with "Cannot resolve reference value", and nothing changes', async () => {
    const certificateId = await pendingCertificate();
    const template = parseProvisioningTemplate(FLEET_TEMPLATE, 'FLEET_PROVISIONING');
    await expectIotError(applyProvisioningTemplate(deps, { scope, template, parameters: {}, certificateId }), 'InvalidRequestException', 'Cannot resolve reference value: {Ref=SerialNumber}');
    assert.equal((await deps.store.getCertificate(scope, certificateId))?.status, 'PENDING_ACTIVATION');
  });

  it('is all or nothing: a missing policy by name rolls back the thing already created', async () => {
    const certificateId = await pendingCertificate();
    const template = parseProvisioningTemplate(
      JSON.stringify({
        Resources: {
          thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'rolled-back' } },
          certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' } } },
          policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'no-such-policy' } },
        },
      }),
      'FLEET_PROVISIONING',
    );
    await expectIotError(applyProvisioningTemplate(deps, { scope, template, parameters: {}, certificateId }), 'ResourceNotFoundException', 'no-such-policy');
    assert.equal(await deps.store.getThing(scope, 'rolled-back'), undefined);
    assert.equal((await deps.store.getCertificate(scope, certificateId))?.status, 'PENDING_ACTIVATION');
  });

  it('OverrideSettings FAIL on an existing thing refuses (ResourceConflictsException)', async () => {
    await createThing(deps, scope, { thingName: 'taken' });
    const certificateId = await pendingCertificate();
    const template = parseProvisioningTemplate(
      JSON.stringify({
        Resources: {
          thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'taken', AttributePayload: { a: 'b' } }, OverrideSettings: { AttributePayload: 'FAIL' } },
          certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' } } },
        },
      }),
      'FLEET_PROVISIONING',
    );
    await expectIotError(applyProvisioningTemplate(deps, { scope, template, parameters: {}, certificateId }), 'ConflictingResourceUpdateException', 'ResourceConflictsException');
    assert.deepEqual((await deps.store.listThingPrincipals(scope, 'taken', 10)), []);
  });

  it('a policy by name is attached; status INACTIVE is honoured; PolicyDocument is validated like CreatePolicy', async () => {
    await createPolicy(deps, scope, { policyName: 'named', policyDocument: JSON.stringify(POLICY_DOC) });
    const certificateId = await pendingCertificate();
    const template = parseProvisioningTemplate(
      JSON.stringify({
        Resources: {
          certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'inactive' } },
          policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'named' } },
        },
      }),
      'JITP',
    );
    const result = await applyProvisioningTemplate(deps, { scope, template, parameters: {}, certificateId });
    assert.deepEqual(result, { thingName: undefined, deviceConfiguration: {}, certificateStatus: 'INACTIVE', policyNames: ['named'] });

    const bad = parseProvisioningTemplate(
      JSON.stringify({
        Parameters: { Effect: { Type: 'String', Default: 'Perhaps' } },
        Resources: {
          certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' } } },
          policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: { Ref: 'Effect' }, Action: 'iot:*', Resource: '*' }] } } },
        },
      }),
      'FLEET_PROVISIONING',
    );
    const other = await pendingCertificate();
    await expectIotError(applyProvisioningTemplate(deps, { scope, template: bad, parameters: {}, certificateId: other }), 'MalformedPolicyException', '');
  });

  it('refuses a certificate resource that names another certificate, and a certificate of another account', async () => {
    const certificateId = await pendingCertificate();
    const template = parseProvisioningTemplate(
      JSON.stringify({ Parameters: { Id: { Type: 'String' } }, Resources: { c: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'Id' } } } } }),
      'FLEET_PROVISIONING',
    );
    await expectIotError(applyProvisioningTemplate(deps, { scope, template, parameters: { Id: 'f'.repeat(64) }, certificateId }), 'InvalidRequestException', 'not the certificate being provisioned');
    const spoof = parseProvisioningTemplate(FLEET_TEMPLATE, 'FLEET_PROVISIONING');
    const other = await pendingCertificate();
    const spoofed = await applyProvisioningTemplate(deps, { scope, template: spoof, parameters: { SerialNumber: 'sp', 'AWS::IoT::Certificate::Id': certificateId }, certificateId: other });
    assert.equal(spoofed.certificateStatus, 'ACTIVE', 'a device cannot name another certificate through the parameters');
    assert.equal((await deps.store.getCertificate(scope, certificateId))?.status, 'PENDING_ACTIVATION');
    const otherAccount = await createAccount(deps, { name: 'other' });
    const otherScope = { accountId: otherAccount.accountId, region: REGION };
    await expectIotError(
      applyProvisioningTemplate(deps, { scope: otherScope, template, parameters: { Id: certificateId }, certificateId }),
      'ResourceNotFoundException',
      certificateId,
    );
    assert.equal((await deps.store.getCertificate(scope, certificateId))?.status, 'PENDING_ACTIVATION');
  });

  it('an out-of-range Fn::Select and an invalid thing name fail before any write', async () => {
    const certificateId = await pendingCertificate();
    const cert = { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' } } };
    const select = parseProvisioningTemplate(
      JSON.stringify({ Resources: { c: cert, t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { 'Fn::Select': [3, { 'Fn::Split': [',', 'a,b'] }] } } } } }),
      'FLEET_PROVISIONING',
    );
    await expectIotError(applyProvisioningTemplate(deps, { scope, template: select, parameters: {}, certificateId }), 'InvalidRequestException', 'Fn::Select index 3');
    const badName = parseProvisioningTemplate(JSON.stringify({ Resources: { c: cert, t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { Ref: 'N' } } } } }), 'FLEET_PROVISIONING');
    await expectIotError(applyProvisioningTemplate(deps, { scope, template: badName, parameters: { N: 'has space' }, certificateId }), 'InvalidRequestException', 'not a valid thing name');
  });

  it('joins a caller transaction: a failure after the template rolls the template back too', async () => {
    const certificateId = await pendingCertificate();
    const template = parseProvisioningTemplate(FLEET_TEMPLATE, 'FLEET_PROVISIONING');
    await assert.rejects(
      deps.store.transaction(async (store) => {
        await applyProvisioningTemplate({ ...deps, store }, { scope, template, parameters: { SerialNumber: '0099' }, certificateId });
        throw new Error('caller fails after the template');
      }),
      /caller fails/,
    );
    assert.equal(await deps.store.getThing(scope, 'Prefix_0099'), undefined);
    assert.equal((await deps.store.getCertificate(scope, certificateId))?.status, 'PENDING_ACTIVATION');
  });

  // A template that builds its policy document as a string from a device's parameter (AWS's own JITP example does).
  const PER_DEVICE_POLICY_TEMPLATE = JSON.stringify({
    Parameters: { SerialNumber: { Type: 'String' } },
    Resources: {
      certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' } } },
      policy: {
        Type: 'AWS::IoT::Policy',
        Properties: {
          PolicyDocument: {
            'Fn::Join': ['', [
              '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/devices/',
              { Ref: 'SerialNumber' },
              '"}]}',
            ]],
          },
        },
      },
    },
  });

  it('a device parameter cannot rewrite a policy document or widen it with wildcards or policy variables; nothing is written', async () => {
    const template = parseProvisioningTemplate(PER_DEVICE_POLICY_TEMPLATE, 'FLEET_PROVISIONING');
    const policiesBefore = (await deps.store.listPolicies(scope, { limit: 250, ascending: true })).length;
    const attacks = [
      'x"},{"Effect":"Allow","Action":"iot:*","Resource":"*', // a second statement
      'x\\u0022}', // an escape that becomes a quote
      '*', // a wildcard: every topic under devices/
      'a?c',
      '${iot:ClientId}', // a policy variable the device controls
      '#',
      'line\nbreak',
    ];
    for (const serial of attacks) {
      const certificateId = await pendingCertificate();
      await expectIotError(
        applyProvisioningTemplate(deps, { scope, template, parameters: { SerialNumber: serial }, certificateId }),
        'InvalidRequestException',
        'SerialNumber',
      );
      assert.equal((await deps.store.getCertificate(scope, certificateId))?.status, 'PENDING_ACTIVATION', serial);
    }
    assert.equal((await deps.store.listPolicies(scope, { limit: 250, ascending: true })).length, policiesBefore, 'no policy was created');

    const certificateId = await pendingCertificate();
    const ok = await applyProvisioningTemplate(deps, { scope, template, parameters: { SerialNumber: 'sn-0042.a_b' }, certificateId });
    const created = await deps.store.getPolicy(scope, ok.policyNames[0]!);
    assert.ok(created);
    const document = (await deps.store.getPolicyVersion(scope, created.policyName, created.defaultVersionId))?.document;
    assert.deepEqual(JSON.parse(document ?? '{}').Statement, [{ Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:us-east-1:123456789012:topic/devices/sn-0042.a_b' }]);
  });

  it('a template whose values grow without bound (nested Fn::Sub, Fn::Join of Fn::Split) is refused quickly', async () => {
    let sub: unknown = { Ref: 'P' };
    for (let i = 0; i < 18; i++) sub = { 'Fn::Sub': ['${a}${a}', { a: sub }] }; // 2^18 copies of a 4 KB value
    const wide = ','.repeat(4000);
    const joinSplit = { 'Fn::Join': [wide, { 'Fn::Split': [',', { 'Fn::Join': [wide, { 'Fn::Split': [',', { Ref: 'P' }] }] }] }] };
    for (const value of [sub, joinSplit]) {
      const template = parseProvisioningTemplate(
        JSON.stringify({
          Parameters: { P: { Type: 'String' } },
          Resources: { certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' } } } },
          DeviceConfiguration: { value },
        }),
        'FLEET_PROVISIONING',
      );
      const certificateId = await pendingCertificate();
      await expectIotError(
        applyProvisioningTemplate(deps, { scope, template, parameters: { P: ','.repeat(4096) }, certificateId }),
        'InvalidRequestException',
        'characters',
      );
      assert.equal((await deps.store.getCertificate(scope, certificateId))?.status, 'PENDING_ACTIVATION');
    }
  });

  it('evaluates each Fn::Sub variable once, with the same result wherever it is used', async () => {
    const template = parseProvisioningTemplate(
      JSON.stringify({
        Parameters: { P: { Type: 'String' } },
        Resources: { certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' } } } },
        DeviceConfiguration: { v: { 'Fn::Sub': ['${a}-${a}-${!a}-${P}', { a: { 'Fn::Select': [1, { 'Fn::Split': ['.', { Ref: 'P' }] }] } }] } },
      }),
      'FLEET_PROVISIONING',
    );
    const result = await applyProvisioningTemplate(deps, { scope, template, parameters: { P: 'x.y.z' }, certificateId: await pendingCertificate() });
    assert.deepEqual(result.deviceConfiguration, { v: 'y-y-${a}-x.y.z' });
  });
});

describe('JITP provisioner: the template\'s registry events wait for the caller\'s transaction', () => {
  it('nothing is announced inside the registration transaction; announce() after the commit emits them', async () => {
    const store = await openSqliteStore({ file: ':memory:' });
    const seen: RegistryEvent[] = [];
    const events = createRegistryEvents((e) => {
      throw e;
    });
    events.subscribe((e) => void seen.push(e));
    const clock = { now: () => new Date() };
    const deviceIssuer = await createRootCa({ keyType: 'EC', commonName: 'test issuer', organization: 'certgate', now: clock.now(), years: 30 });
    const deps: RegistryDeps = { store, clock, logger: silentLogger, deviceIssuer, domain: 'certgate.test', events };
    try {
      const account = await createAccount(deps, { name: 'jitp-events' });
      const scope: Scope = { accountId: account.accountId, region: REGION };
      const created = await createKeysAndCertificate(deps, scope, { pendingActivation: true });
      const templateBody = JSON.stringify({
        Parameters: { 'AWS::IoT::Certificate::Id': { Type: 'String' } },
        Resources: {
          certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' } },
          policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: POLICY_DOC } },
        },
      });
      const now = clock.now();
      const ca: CaCertificate = {
        scope, certificateId: 'c'.repeat(64), certificatePem: '', status: 'ACTIVE', autoRegistrationStatus: 'ENABLE', certificateMode: 'DEFAULT',
        registrationConfig: { templateBody, roleArn: 'arn:aws:iam::123456789012:role/jitp' }, ownedBy: scope.accountId, subject: 'CN=ca', subjectKeyId: null,
        creationDate: now, lastModifiedDate: now, customerVersion: 1, generationId: 'g', notBefore: now, notAfter: now,
      };
      const provision = createJitpProvisioner({ registry: deps });
      seen.length = 0;
      const outcome = await store.transaction(async (tx) => {
        const r = await provision(tx, { scope, ca, certificate: created.certificate, device: parseCertificatePem(created.certificate.certificatePem) });
        assert.deepEqual(seen, [], 'no event while the registration transaction is open');
        return r;
      });
      assert.equal(outcome.certificateStatus, 'ACTIVE');
      assert.deepEqual(seen, [], 'still none: the caller announces after its commit');
      await outcome.announce();
      assert.ok((seen as RegistryEvent[]).some((e) => e.type === 'certificate-status-changed'), JSON.stringify(seen));
      assert.ok((seen as RegistryEvent[]).some((e) => e.type === 'policy-attachment-changed'), JSON.stringify(seen));
    } finally {
      await store.close();
    }
  });
});
