// Integration: the provisioning-template API (issue 4) through @aws-sdk/client-iot and the aws CLI against a real
// server: Create/Describe/List/Update/Delete, versions (5 max → VersionsLimitExceededException, the default version
// cannot be deleted → DeleteConflictException), the body checked against the template grammar (bad JSON, unknown
// resource type), a hook only on FLEET_PROVISIONING templates, paging, and accounts that cannot see each other's templates.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateProvisioningTemplateCommand,
  CreateProvisioningTemplateVersionCommand,
  DeleteProvisioningTemplateCommand,
  DeleteProvisioningTemplateVersionCommand,
  DescribeProvisioningTemplateCommand,
  DescribeProvisioningTemplateVersionCommand,
  DescribeCACertificateCommand,
  RegisterCACertificateCommand,
  UpdateCACertificateCommand,
  ListProvisioningTemplatesCommand,
  ListProvisioningTemplateVersionsCommand,
  UpdateProvisioningTemplateCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { createAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { awsCli, expectIotError, iotClient } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';

const ROLE = 'arn:aws:iam::123456789012:role/Provisioning';
const CERT = { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'Active' } };
const FLEET_BODY = JSON.stringify({
  Parameters: { SerialNumber: { Type: 'String' } },
  Resources: {
    thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { 'Fn::Join': ['', ['dev-', { Ref: 'SerialNumber' }]] } } },
    certificate: CERT,
    policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] } } },
  },
  DeviceConfiguration: { Url: 'https://example.test' },
});
const bodyV = (n: number): string => JSON.stringify({ Resources: { certificate: CERT }, DeviceConfiguration: { Version: String(n) } });

describe('provisioning templates API', { timeout: 240_000 }, () => {
  let server: RunningCertgate;
  let iot: IoTClient;
  const name = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

  let pki: TestPki;

  before(async () => {
    server = await startCertgate();
    iot = iotClient(server);
    pki = await TestPki.create();
  });
  after(async () => {
    iot?.destroy();
    await server?.stop();
    await pki?.cleanup();
  });

  it('lifecycle: create, describe, update, versions, set default, delete', async () => {
    const templateName = name('fleet');
    const created = await iot.send(
      new CreateProvisioningTemplateCommand({
        templateName,
        templateBody: FLEET_BODY,
        provisioningRoleArn: ROLE,
        description: 'widgets',
        preProvisioningHook: { targetArn: 'http://127.0.0.1:9/hook' },
        tags: [{ Key: 'team', Value: 'iot' }],
      }),
    );
    const arn = `arn:aws:iot:${server.region}:${server.accountId}:provisioningtemplate/${templateName}`;
    assert.equal(created.templateArn, arn);
    assert.equal(created.templateName, templateName);
    assert.equal(created.defaultVersionId, 1);

    const described = await iot.send(new DescribeProvisioningTemplateCommand({ templateName }));
    assert.equal(described.templateArn, arn);
    assert.equal(described.templateBody, FLEET_BODY);
    assert.equal(described.enabled, false, 'enabled defaults to false');
    assert.equal(described.type, 'FLEET_PROVISIONING', 'type defaults to FLEET_PROVISIONING');
    assert.equal(described.description, 'widgets');
    assert.equal(described.provisioningRoleArn, ROLE);
    assert.deepEqual(described.preProvisioningHook, { targetArn: 'http://127.0.0.1:9/hook', payloadVersion: '2020-04-01' });
    assert.ok(described.creationDate instanceof Date && Math.abs(described.creationDate.getTime() - Date.now()) < 600_000);

    await iot.send(new UpdateProvisioningTemplateCommand({ templateName, enabled: true, description: 'widgets v2', removePreProvisioningHook: true }));
    const updated = await iot.send(new DescribeProvisioningTemplateCommand({ templateName }));
    assert.equal(updated.enabled, true);
    assert.equal(updated.description, 'widgets v2');
    assert.equal(updated.preProvisioningHook, undefined);

    const v2 = await iot.send(new CreateProvisioningTemplateVersionCommand({ templateName, templateBody: bodyV(2) }));
    assert.deepEqual([v2.versionId, v2.isDefaultVersion, v2.templateArn], [2, false, arn]);
    const v3 = await iot.send(new CreateProvisioningTemplateVersionCommand({ templateName, templateBody: bodyV(3), setAsDefault: true }));
    assert.deepEqual([v3.versionId, v3.isDefaultVersion], [3, true]);
    assert.equal((await iot.send(new DescribeProvisioningTemplateCommand({ templateName }))).templateBody, bodyV(3));
    const dv2 = await iot.send(new DescribeProvisioningTemplateVersionCommand({ templateName, versionId: 2 }));
    assert.deepEqual([dv2.versionId, dv2.templateBody, dv2.isDefaultVersion], [2, bodyV(2), false]);

    const listed = await iot.send(new ListProvisioningTemplateVersionsCommand({ templateName }));
    assert.deepEqual(listed.versions?.map((v) => [v.versionId, v.isDefaultVersion]), [[1, false], [2, false], [3, true]]);

    // back to version 1 as default, then delete version 3
    await iot.send(new UpdateProvisioningTemplateCommand({ templateName, defaultVersionId: 1 }));
    await iot.send(new DeleteProvisioningTemplateVersionCommand({ templateName, versionId: 3 }));
    await expectIotError(iot.send(new DescribeProvisioningTemplateVersionCommand({ templateName, versionId: 3 })), 'ResourceNotFoundException', 404);
    await expectIotError(iot.send(new UpdateProvisioningTemplateCommand({ templateName, defaultVersionId: 3 })), 'ResourceNotFoundException', 404);

    await iot.send(new DeleteProvisioningTemplateCommand({ templateName }));
    await expectIotError(iot.send(new DescribeProvisioningTemplateCommand({ templateName })), 'ResourceNotFoundException', 404);
    await expectIotError(iot.send(new DeleteProvisioningTemplateCommand({ templateName })), 'ResourceNotFoundException', 404);
  });

  it('a template name is unique in the account: ResourceAlreadyExistsException', async () => {
    const templateName = name('dup');
    await iot.send(new CreateProvisioningTemplateCommand({ templateName, templateBody: FLEET_BODY, provisioningRoleArn: ROLE }));
    const e = await expectIotError(
      iot.send(new CreateProvisioningTemplateCommand({ templateName, templateBody: FLEET_BODY, provisioningRoleArn: ROLE })),
      'ResourceAlreadyExistsException',
      409,
    );
    assert.equal(e['resourceId'], templateName);
  });

  it('refuses bad template bodies with InvalidRequestException naming the problem', async () => {
    const cases: readonly [string, string][] = [
      ['{"Resources": ', 'not valid JSON'],
      [JSON.stringify({ Resources: { certificate: CERT, x: { Type: 'AWS::IoT::Widget', Properties: {} } } }), 'unknown resource type'],
      [JSON.stringify({ Resources: { certificate: CERT, t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { 'Fn::GetAtt': ['a', 'b'] } } } } }), 'unknown intrinsic function Fn::GetAtt'],
      [JSON.stringify({ Resources: { certificate: CERT, t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'a' }, OverrideSettings: { ThingGroups: 'SOMETIMES' } } } }), 'OverrideSettings'],
    ];
    for (const [templateBody, fragment] of cases) {
      const e = await expectIotError(
        iot.send(new CreateProvisioningTemplateCommand({ templateName: name('bad'), templateBody, provisioningRoleArn: ROLE })),
        'InvalidRequestException',
        400,
      );
      assert.ok(e.message.includes(fragment), `'${e.message}' should mention '${fragment}'`);
    }
    const templateName = name('good');
    await iot.send(new CreateProvisioningTemplateCommand({ templateName, templateBody: FLEET_BODY, provisioningRoleArn: ROLE }));
    await expectIotError(iot.send(new CreateProvisioningTemplateVersionCommand({ templateName, templateBody: '[]' })), 'InvalidRequestException', 400);
    // The model lists no MalformedPolicyException for CreateProvisioningTemplate: a bad literal document is an invalid template.
    const badPolicy = await expectIotError(
      iot.send(new CreateProvisioningTemplateCommand({ templateName: name('badpol'), provisioningRoleArn: ROLE, templateBody: JSON.stringify({ Resources: { certificate: CERT, p: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: '{"Statement":5}' } } } }) })),
      'InvalidRequestException',
      400,
    );
    assert.match(badPolicy.message, /PolicyDocument is not a valid policy document/);
    // A body nested deeper than any template is refused as invalid, not as an internal failure.
    const deep = await expectIotError(
      iot.send(new CreateProvisioningTemplateCommand({ templateName: name('deep'), provisioningRoleArn: ROLE, templateBody: '{"Resources":{"t":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":' + '['.repeat(4000) + '"x"' + ']'.repeat(4000) + '}}}}' })),
      'InvalidRequestException',
      400,
    );
    assert.match(deep.message, /more than 64 levels/);
  });

  it('refuses bad names, bad role ARNs, and a pre-provisioning hook on a JITP template', async () => {
    await expectIotError(iot.send(new CreateProvisioningTemplateCommand({ templateName: 'has space', templateBody: FLEET_BODY, provisioningRoleArn: ROLE })), 'InvalidRequestException', 400);
    await expectIotError(iot.send(new CreateProvisioningTemplateCommand({ templateName: 'x'.repeat(37), templateBody: FLEET_BODY, provisioningRoleArn: ROLE })), 'InvalidRequestException', 400);
    await expectIotError(iot.send(new CreateProvisioningTemplateCommand({ templateName: name('role'), templateBody: FLEET_BODY, provisioningRoleArn: 'not-an-arn-but-long-enough' })), 'InvalidRequestException', 400);
    const e = await expectIotError(
      iot.send(new CreateProvisioningTemplateCommand({ templateName: name('jitp'), type: 'JITP', templateBody: bodyV(1), provisioningRoleArn: ROLE, preProvisioningHook: { targetArn: 'https://hooks.example/x' } })),
      'InvalidRequestException',
      400,
    );
    assert.match(e.message, /FLEET_PROVISIONING/);
    await expectIotError(
      iot.send(new CreateProvisioningTemplateCommand({ templateName: name('hook'), templateBody: FLEET_BODY, provisioningRoleArn: ROLE, preProvisioningHook: { targetArn: 'ftp://nope' } })),
      'InvalidRequestException',
      400,
    );
    const jitp = name('jitp');
    await iot.send(new CreateProvisioningTemplateCommand({ templateName: jitp, type: 'JITP', templateBody: bodyV(1), provisioningRoleArn: ROLE }));
    assert.equal((await iot.send(new DescribeProvisioningTemplateCommand({ templateName: jitp }))).type, 'JITP');
    await expectIotError(iot.send(new UpdateProvisioningTemplateCommand({ templateName: jitp, preProvisioningHook: { targetArn: 'https://hooks.example/x' } })), 'InvalidRequestException', 400);
  });

  it('at most 5 versions (VersionsLimitExceededException); the default version cannot be deleted (DeleteConflictException)', async () => {
    const templateName = name('versions');
    await iot.send(new CreateProvisioningTemplateCommand({ templateName, templateBody: bodyV(1), provisioningRoleArn: ROLE }));
    for (let n = 2; n <= 5; n++) await iot.send(new CreateProvisioningTemplateVersionCommand({ templateName, templateBody: bodyV(n) }));
    await expectIotError(iot.send(new CreateProvisioningTemplateVersionCommand({ templateName, templateBody: bodyV(6) })), 'VersionsLimitExceededException', 409);
    await expectIotError(iot.send(new DeleteProvisioningTemplateVersionCommand({ templateName, versionId: 1 })), 'DeleteConflictException', 409);
    await iot.send(new DeleteProvisioningTemplateVersionCommand({ templateName, versionId: 5 }));
    const v6 = await iot.send(new CreateProvisioningTemplateVersionCommand({ templateName, templateBody: bodyV(6) }));
    assert.equal(v6.versionId, 6, 'version ids are never reused');
    await expectIotError(iot.send(new DeleteProvisioningTemplateVersionCommand({ templateName, versionId: 5 })), 'ResourceNotFoundException', 404);

    const page1 = await iot.send(new ListProvisioningTemplateVersionsCommand({ templateName, maxResults: 3 }));
    assert.deepEqual(page1.versions?.map((v) => v.versionId), [1, 2, 3]);
    assert.ok(page1.nextToken);
    const page2 = await iot.send(new ListProvisioningTemplateVersionsCommand({ templateName, maxResults: 3, nextToken: page1.nextToken }));
    assert.deepEqual(page2.versions?.map((v) => v.versionId), [4, 6]);
    assert.equal(page2.nextToken, undefined);
  });

  it('ListProvisioningTemplates pages with maxResults/nextToken; another account sees none of them', async () => {
    const account = await createAccount(server);
    const other = iotClient(account);
    try {
      const names = [name('page-a'), name('page-b'), name('page-c')];
      for (const templateName of names) {
        await other.send(new CreateProvisioningTemplateCommand({ templateName, templateBody: bodyV(1), provisioningRoleArn: ROLE, enabled: true }));
      }
      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await other.send(new ListProvisioningTemplatesCommand({ maxResults: 2, ...(nextToken ? { nextToken } : {}) }));
        assert.ok((page.templates?.length ?? 0) <= 2);
        for (const t of page.templates ?? []) {
          assert.equal(t.templateArn, `arn:aws:iot:${server.region}:${account.accountId}:provisioningtemplate/${t.templateName}`);
          assert.equal(t.enabled, true);
          assert.equal(t.type, 'FLEET_PROVISIONING');
          seen.push(t.templateName!);
        }
        nextToken = page.nextToken;
      } while (nextToken);
      assert.deepEqual(seen, [...names].sort());

      // the primary account sees none of them, and cannot describe, update or delete them
      const mine = await iot.send(new ListProvisioningTemplatesCommand({ maxResults: 250 }));
      assert.ok(!(mine.templates ?? []).some((t) => names.includes(t.templateName!)));
      await expectIotError(iot.send(new DescribeProvisioningTemplateCommand({ templateName: names[0]! })), 'ResourceNotFoundException', 404);
      await expectIotError(iot.send(new UpdateProvisioningTemplateCommand({ templateName: names[0]!, enabled: false })), 'ResourceNotFoundException', 404);
      await expectIotError(iot.send(new DeleteProvisioningTemplateCommand({ templateName: names[0]! })), 'ResourceNotFoundException', 404);
      await expectIotError(iot.send(new ListProvisioningTemplateVersionsCommand({ templateName: names[0]! })), 'ResourceNotFoundException', 404);
      await expectIotError(iot.send(new ListProvisioningTemplatesCommand({ nextToken: '!!!' })), 'InvalidRequestException', 400);
    } finally {
      other.destroy();
    }
  });

  it('aws iot create-provisioning-template and describe-provisioning-template through the AWS CLI', async () => {
    const templateName = name('cli');
    const res = await awsCli(
      ['create-provisioning-template', '--template-name', templateName, '--template-body', FLEET_BODY, '--provisioning-role-arn', ROLE, '--enabled'],
      server,
    );
    assert.equal(res.code, 0, res.stderr);
    const out = res.json as Record<string, unknown>;
    assert.equal(out['templateArn'], `arn:aws:iot:${server.region}:${server.accountId}:provisioningtemplate/${templateName}`);
    assert.equal(out['defaultVersionId'], 1);
    const described = await awsCli(['describe-provisioning-template', '--template-name', templateName], server);
    assert.equal(described.code, 0, described.stderr);
    assert.equal((described.json as Record<string, unknown>)['enabled'], true);
    assert.equal((described.json as Record<string, unknown>)['templateBody'], FLEET_BODY);
    const bad = await awsCli(['create-provisioning-template', '--template-name', name('cli-bad'), '--template-body', '{', '--provisioning-role-arn', ROLE], server);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /InvalidRequestException/);
  });

  it('a CA registrationConfig may name a JITP template of the account: checked at RegisterCACertificate and UpdateCACertificate', async () => {
    const jitp = name('jitp-ca');
    const fleet = name('fleet-ca');
    await iot.send(new CreateProvisioningTemplateCommand({ templateName: jitp, type: 'JITP', templateBody: bodyV(1), provisioningRoleArn: ROLE }));
    await iot.send(new CreateProvisioningTemplateCommand({ templateName: fleet, templateBody: bodyV(1), provisioningRoleArn: ROLE }));
    const register = async (registrationConfig: Record<string, string>) =>
      iot.send(new RegisterCACertificateCommand({ caCertificate: (await pki.makeCa({ cn: name('jitp-root') })).certPem, certificateMode: 'SNI_ONLY', setAsActive: true, allowAutoRegistration: true, registrationConfig }));

    await expectIotError(register({ templateName: name('missing') }), 'ResourceNotFoundException', 404);
    const e = await expectIotError(register({ templateName: fleet }), 'InvalidRequestException', 400);
    assert.match(e.message, /JITP/);
    await expectIotError(register({ templateBody: JSON.stringify({ Resources: { x: { Type: 'AWS::IoT::Nope' } } }), roleArn: ROLE }), 'InvalidRequestException', 400);

    const reg = await register({ templateName: jitp });
    const described = await iot.send(new DescribeCACertificateCommand({ certificateId: reg.certificateId! }));
    assert.equal(described.registrationConfig?.templateName, jitp);
    await expectIotError(iot.send(new DeleteProvisioningTemplateCommand({ templateName: jitp })), 'DeleteConflictException', 409);
    await expectIotError(
      iot.send(new UpdateCACertificateCommand({ certificateId: reg.certificateId!, registrationConfig: { templateName: fleet } })),
      'InvalidRequestException',
      400,
    );
    await iot.send(new UpdateCACertificateCommand({ certificateId: reg.certificateId!, removeAutoRegistration: true }));
    await iot.send(new DeleteProvisioningTemplateCommand({ templateName: jitp }));
  });
});
