// Integration: things, policies and their attachments through @aws-sdk/client-iot against a real server.
// Covers CreateThing/DescribeThing/UpdateThing (expectedVersion → VersionConflictException)/ListThings
// (maxResults + nextToken, attribute filter)/DeleteThing, invalid thing names; thing ↔ principal links
// (Attach/ListThingPrincipals/ListPrincipalThings/Detach); CreatePolicy validation (MalformedPolicyException),
// GetPolicy/ListPolicies, policy versions (5 max → VersionsLimitExceededException, SetDefault, DeletePolicyVersion
// of the default refused), DeletePolicy refusals; AttachPolicy to a certificate ARN, ListAttachedPolicies,
// ListTargetsForPolicy, DetachPolicy, the 10-policies-per-certificate limit; DescribeEndpoint; TestAuthorization.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateThingCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteThingCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  ListAttachedPoliciesCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  SetDefaultPolicyVersionCommand,
  TestAuthorizationCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';

const suffix = randomBytes(4).toString('hex');

function doc(statements: readonly Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

const CONNECT_ALL = doc([{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }]);

describe('things and policies', { timeout: 180_000 }, () => {
  let server: RunningCertgate;
  let iot: IoTClient;

  before(async () => {
    server = await startCertgate();
    iot = iotClient(server);
  });

  after(async () => {
    iot?.destroy();
    await server?.stop();
  });

  async function newCertArn(): Promise<string> {
    const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    assert.ok(out.certificateArn);
    return out.certificateArn;
  }

  async function newPolicy(prefix: string, policyDocument = CONNECT_ALL): Promise<string> {
    const policyName = `${prefix}-${suffix}-${randomBytes(3).toString('hex')}`;
    await iot.send(new CreatePolicyCommand({ policyName, policyDocument }));
    return policyName;
  }

  describe('things', () => {
    it('CreateThing with attributes; DescribeThing has version 1, thingArn and thingId', async () => {
      const thingName = `sensor-${suffix}`;
      const created = await iot.send(new CreateThingCommand({ thingName, attributePayload: { attributes: { color: 'red', floor: '3' } } }));
      assert.equal(created.thingName, thingName);
      assert.equal(created.thingArn, `arn:aws:iot:${server.region}:${server.accountId}:thing/${thingName}`);
      assert.ok(created.thingId && created.thingId.length > 0);
      const d = await iot.send(new DescribeThingCommand({ thingName }));
      assert.equal(d.thingName, thingName);
      assert.equal(d.thingArn, created.thingArn);
      assert.equal(d.thingId, created.thingId);
      assert.equal(d.version, 1);
      assert.deepEqual(d.attributes, { color: 'red', floor: '3' });
    });

    it('UpdateThing bumps the version; a stale expectedVersion → VersionConflictException (409)', async () => {
      const thingName = `updatable-${suffix}`;
      await iot.send(new CreateThingCommand({ thingName, attributePayload: { attributes: { a: '1' } } }));
      await iot.send(new UpdateThingCommand({ thingName, expectedVersion: 1, attributePayload: { attributes: { b: '2' }, merge: true } }));
      const d = await iot.send(new DescribeThingCommand({ thingName }));
      assert.equal(d.version, 2);
      assert.deepEqual(d.attributes, { a: '1', b: '2' });
      await expectIotError(
        iot.send(new UpdateThingCommand({ thingName, expectedVersion: 1, attributePayload: { attributes: { c: '3' } } })),
        'VersionConflictException',
        409,
      );
      const after2 = await iot.send(new DescribeThingCommand({ thingName }));
      assert.equal(after2.version, 2);
      assert.equal(after2.attributes?.['c'], undefined);
    });

    it('ListThings pages with maxResults + nextToken and filters by attribute', async () => {
      const names = [0, 1, 2].map((i) => `paged-${suffix}-${i}`);
      for (const [i, thingName] of names.entries()) {
        await iot.send(new CreateThingCommand({ thingName, attributePayload: { attributes: { batch: suffix, idx: String(i) } } }));
      }
      const seen: string[] = [];
      let nextToken: string | undefined;
      for (let page = 0; page < 200; page += 1) {
        const out = await iot.send(new ListThingsCommand({ maxResults: 1, ...(nextToken === undefined ? {} : { nextToken }) }));
        assert.ok((out.things ?? []).length <= 1);
        for (const t of out.things ?? []) seen.push(t.thingName ?? '');
        nextToken = out.nextToken ?? undefined;
        if (nextToken === undefined || nextToken === '') break;
      }
      assert.equal(new Set(seen).size, seen.length);
      for (const n of names) assert.ok(seen.includes(n), `${n} missing`);
      const filtered = await iot.send(new ListThingsCommand({ attributeName: 'idx', attributeValue: '1' }));
      const filteredNames = (filtered.things ?? []).map((t) => t.thingName);
      assert.deepEqual(filteredNames, [names[1]]);
      const thing = filtered.things?.[0];
      assert.equal(thing?.attributes?.['batch'], suffix);
      assert.equal(thing?.thingArn, `arn:aws:iot:${server.region}:${server.accountId}:thing/${names[1]}`);
    });

    it('DeleteThing removes it; DescribeThing then → ResourceNotFoundException', async () => {
      const thingName = `doomed-${suffix}`;
      await iot.send(new CreateThingCommand({ thingName }));
      await iot.send(new DeleteThingCommand({ thingName }));
      await expectIotError(iot.send(new DescribeThingCommand({ thingName })), 'ResourceNotFoundException', 404);
    });

    it('an invalid thing name → InvalidRequestException', async () => {
      await expectIotError(iot.send(new CreateThingCommand({ thingName: 'bad name!' })), 'InvalidRequestException', 400);
      await expectIotError(iot.send(new CreateThingCommand({ thingName: 'x'.repeat(129) })), 'InvalidRequestException', 400);
    });

    it('AttachThingPrincipal / ListThingPrincipals / ListPrincipalThings / DetachThingPrincipal', async () => {
      const thingName = `linked-${suffix}`;
      await iot.send(new CreateThingCommand({ thingName }));
      const certArn = await newCertArn();
      await iot.send(new AttachThingPrincipalCommand({ thingName, principal: certArn }));
      const principals = await iot.send(new ListThingPrincipalsCommand({ thingName }));
      assert.deepEqual(principals.principals, [certArn]);
      const things = await iot.send(new ListPrincipalThingsCommand({ principal: certArn }));
      assert.deepEqual(things.things, [thingName]);
      await iot.send(new DetachThingPrincipalCommand({ thingName, principal: certArn }));
      const after1 = await iot.send(new ListThingPrincipalsCommand({ thingName }));
      assert.deepEqual(after1.principals ?? [], []);
      const after2 = await iot.send(new ListPrincipalThingsCommand({ principal: certArn }));
      assert.deepEqual(after2.things ?? [], []);
    });

    it('AttachThingPrincipal to an unknown thing → ResourceNotFoundException', async () => {
      const certArn = await newCertArn();
      await expectIotError(iot.send(new AttachThingPrincipalCommand({ thingName: `ghost-${suffix}`, principal: certArn })), 'ResourceNotFoundException', 404);
    });
  });

  describe('policies', () => {
    it('CreatePolicy returns version 1; GetPolicy and ListPolicies see it', async () => {
      const policyName = `connect-${suffix}`;
      const created = await iot.send(new CreatePolicyCommand({ policyName, policyDocument: CONNECT_ALL }));
      assert.equal(created.policyName, policyName);
      assert.equal(created.policyArn, `arn:aws:iot:${server.region}:${server.accountId}:policy/${policyName}`);
      assert.equal(created.policyVersionId, '1');
      assert.deepEqual(JSON.parse(created.policyDocument ?? 'null'), JSON.parse(CONNECT_ALL));
      const got = await iot.send(new GetPolicyCommand({ policyName }));
      assert.equal(got.policyName, policyName);
      assert.equal(got.defaultVersionId, '1');
      assert.deepEqual(JSON.parse(got.policyDocument ?? 'null'), JSON.parse(CONNECT_ALL));
      assert.ok(got.creationDate instanceof Date);
      const listed = await iot.send(new ListPoliciesCommand({ pageSize: 250 }));
      assert.ok((listed.policies ?? []).some((p) => p.policyName === policyName && p.policyArn === created.policyArn));
      await expectIotError(iot.send(new CreatePolicyCommand({ policyName, policyDocument: doc([{ Effect: 'Deny', Action: 'iot:*', Resource: '*' }]) })), 'ResourceAlreadyExistsException', 409);
    });

    it('a document that is not JSON → MalformedPolicyException (400)', async () => {
      await expectIotError(iot.send(new CreatePolicyCommand({ policyName: `bad-json-${suffix}`, policyDocument: '{"Version": "2012-10-17", "Statement": [' })), 'MalformedPolicyException', 400);
      await expectIotError(iot.send(new GetPolicyCommand({ policyName: `bad-json-${suffix}` })), 'ResourceNotFoundException', 404);
    });

    it('a statement without Effect → MalformedPolicyException (400)', async () => {
      await expectIotError(
        iot.send(new CreatePolicyCommand({ policyName: `no-effect-${suffix}`, policyDocument: doc([{ Action: 'iot:Connect', Resource: '*' }]) })),
        'MalformedPolicyException',
        400,
      );
    });

    it('policy versions: up to 5, the 6th → VersionsLimitExceededException; default moves; default cannot be deleted', async () => {
      const policyName = await newPolicy('versions');
      for (let v = 2; v <= 5; v += 1) {
        const out = await iot.send(new CreatePolicyVersionCommand({
          policyName,
          policyDocument: doc([{ Effect: 'Allow', Action: 'iot:Publish', Resource: `arn:aws:iot:${server.region}:${server.accountId}:topic/v${v}` }]),
          setAsDefault: v === 3,
        }));
        assert.equal(out.policyVersionId, String(v));
        assert.equal(out.isDefaultVersion, v === 3);
      }
      await expectIotError(
        iot.send(new CreatePolicyVersionCommand({ policyName, policyDocument: CONNECT_ALL })),
        'VersionsLimitExceededException',
        409,
      );
      const versions = await iot.send(new ListPolicyVersionsCommand({ policyName }));
      assert.deepEqual((versions.policyVersions ?? []).map((v) => v.versionId).sort(), ['1', '2', '3', '4', '5']);
      assert.deepEqual((versions.policyVersions ?? []).filter((v) => v.isDefaultVersion).map((v) => v.versionId), ['3']);
      const v3 = await iot.send(new GetPolicyVersionCommand({ policyName, policyVersionId: '3' }));
      assert.equal(v3.isDefaultVersion, true);
      assert.match(v3.policyDocument ?? '', /topic\/v3/);
      assert.equal((await iot.send(new GetPolicyCommand({ policyName }))).defaultVersionId, '3');

      await iot.send(new SetDefaultPolicyVersionCommand({ policyName, policyVersionId: '5' }));
      assert.equal((await iot.send(new GetPolicyCommand({ policyName }))).defaultVersionId, '5');
      // the brief and aws-reference.md §1.5 infer DeleteConflictException; moto (which copies AWS text) answers InvalidRequestException
      await expectIotError(iot.send(new DeletePolicyVersionCommand({ policyName, policyVersionId: '5' })), ['DeleteConflictException', 'InvalidRequestException']);

      // non-default versions exist → DeletePolicy refused
      await expectIotError(iot.send(new DeletePolicyCommand({ policyName })), 'DeleteConflictException', 409);
      for (const v of ['1', '2', '3', '4']) await iot.send(new DeletePolicyVersionCommand({ policyName, policyVersionId: v }));
      await expectIotError(iot.send(new GetPolicyVersionCommand({ policyName, policyVersionId: '1' })), 'ResourceNotFoundException', 404);
      await iot.send(new DeletePolicyCommand({ policyName }));
      await expectIotError(iot.send(new GetPolicyCommand({ policyName })), 'ResourceNotFoundException', 404);
    });

    it('AttachPolicy to a certificate ARN / ListAttachedPolicies / ListTargetsForPolicy / DetachPolicy; DeletePolicy while attached refused', async () => {
      const policyName = await newPolicy('attach');
      const certArn = await newCertArn();
      await iot.send(new AttachPolicyCommand({ policyName, target: certArn }));
      const attached = await iot.send(new ListAttachedPoliciesCommand({ target: certArn }));
      assert.deepEqual((attached.policies ?? []).map((p) => p.policyName), [policyName]);
      assert.equal(attached.policies?.[0]?.policyArn, `arn:aws:iot:${server.region}:${server.accountId}:policy/${policyName}`);
      const targets = await iot.send(new ListTargetsForPolicyCommand({ policyName }));
      assert.deepEqual(targets.targets, [certArn]);
      await expectIotError(iot.send(new DeletePolicyCommand({ policyName })), 'DeleteConflictException', 409);
      await iot.send(new DetachPolicyCommand({ policyName, target: certArn }));
      assert.deepEqual((await iot.send(new ListAttachedPoliciesCommand({ target: certArn }))).policies ?? [], []);
      assert.deepEqual((await iot.send(new ListTargetsForPolicyCommand({ policyName }))).targets ?? [], []);
      await iot.send(new DeletePolicyCommand({ policyName }));
    });

    it('AttachPolicy of an unknown policy → ResourceNotFoundException', async () => {
      const certArn = await newCertArn();
      await expectIotError(iot.send(new AttachPolicyCommand({ policyName: `ghost-${suffix}`, target: certArn })), 'ResourceNotFoundException', 404);
    });

    it('the 11th policy on one certificate → LimitExceededException (410)', async () => {
      const certArn = await newCertArn();
      for (let i = 0; i < 10; i += 1) {
        const policyName = await newPolicy(`limit${i}`);
        await iot.send(new AttachPolicyCommand({ policyName, target: certArn }));
      }
      const eleventh = await newPolicy('limit10');
      await expectIotError(iot.send(new AttachPolicyCommand({ policyName: eleventh, target: certArn })), 'LimitExceededException', 410);
      const attached = await iot.send(new ListAttachedPoliciesCommand({ target: certArn, pageSize: 250 }));
      assert.equal(attached.policies?.length, 10);
    });
  });

  describe('DescribeEndpoint', () => {
    it('iot:Data-ATS is the server data endpoint, stable across calls', async () => {
      const a = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
      const b = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
      assert.ok(a.endpointAddress);
      assert.equal(a.endpointAddress, b.endpointAddress);
      const host = server.dataEndpoint.replace(/^[a-z]+:\/\//, '').replace(/:\d+$/, '');
      assert.equal(a.endpointAddress, host);
      assert.match(a.endpointAddress, new RegExp(`^[a-z0-9]+-ats\\.iot\\.${server.region}\\.`));
    });

    it('iot:Data is the legacy form without -ats (or the ATS form), never an error', async () => {
      const ats = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
      const legacy = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data' }));
      assert.ok(legacy.endpointAddress);
      assert.ok([ats.endpointAddress, ats.endpointAddress?.replace('-ats.', '.')].includes(legacy.endpointAddress));
    });

    it('an unknown endpoint type → InvalidRequestException', async () => {
      await expectIotError(iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Nope' })), 'InvalidRequestException', 400);
    });
  });

  describe('TestAuthorization', () => {
    it('publish allowed by an attached policy, denied elsewhere, explicit Deny wins', async () => {
      const topicArn = (t: string): string => `arn:aws:iot:${server.region}:${server.accountId}:topic/${t}`;
      const allowName = await newPolicy('authz-allow', doc([
        { Effect: 'Allow', Action: 'iot:Publish', Resource: topicArn('sensors/*') },
      ]));
      const denyName = await newPolicy('authz-deny', doc([
        { Effect: 'Deny', Action: 'iot:Publish', Resource: topicArn('sensors/secret') },
      ]));
      const certArn = await newCertArn();
      await iot.send(new AttachPolicyCommand({ policyName: allowName, target: certArn }));
      await iot.send(new AttachPolicyCommand({ policyName: denyName, target: certArn }));

      const out = await iot.send(new TestAuthorizationCommand({
        principal: certArn,
        authInfos: [
          { actionType: 'PUBLISH', resources: [topicArn('sensors/temp')] },
          { actionType: 'PUBLISH', resources: [topicArn('other/temp')] },
          { actionType: 'PUBLISH', resources: [topicArn('sensors/secret')] },
        ],
      }));
      const results = out.authResults ?? [];
      assert.equal(results.length, 3);
      const [allowed, implicit, explicit] = results;
      assert.equal(allowed?.authDecision, 'ALLOWED');
      assert.ok((allowed?.allowed?.policies ?? []).some((p) => p.policyName === allowName));
      assert.deepEqual(allowed?.authInfo?.resources, [topicArn('sensors/temp')]);
      assert.equal(implicit?.authDecision, 'IMPLICIT_DENY');
      assert.equal(explicit?.authDecision, 'EXPLICIT_DENY');
      assert.ok((explicit?.denied?.explicitDeny?.policies ?? []).some((p) => p.policyName === denyName));

      // policyNamesToSkip drops the Deny policy → the secret topic falls back to the Allow
      const skipped = await iot.send(new TestAuthorizationCommand({
        principal: certArn,
        policyNamesToSkip: [denyName],
        authInfos: [{ actionType: 'PUBLISH', resources: [topicArn('sensors/secret')] }],
      }));
      assert.equal(skipped.authResults?.[0]?.authDecision, 'ALLOWED');
    });
  });
});
