// Just-in-time provisioning (provisioning.md JITP; aws-reference.md §2.2) against a real certgate process: a CA
// registered with registrationConfig {templateBody, roleArn}; a device certificate (openssl) connects, is
// registered and provisioned by the template (thing named by its CommonName, policy created and attached,
// certificate ACTIVE), refused on that first connection, and connects on the next with the template's policy.
// A template that cannot be resolved against the certificate leaves nothing behind.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateProvisioningTemplateCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  GetPolicyCommand,
  ListAttachedPoliciesCommand,
  ListPoliciesCommand,
  ListThingPrincipalsCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { primaryAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { endClient } from '../helpers/device.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';
import { certificateIdOfPem, certificatesByCa, JIT_WAIT_MS, registerCa, startOperator, unregisteredDevice, whyCertificate } from '../helpers/jit.js';
import type { Operator } from '../helpers/jit.js';
import { TestPki } from '../helpers/openssl.js';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/JITPRole';

/** AWS's JITP example shape: thing named by the CN, certificate ACTIVE, a policy (named by its hash) allowing its own topics. */
function jitpTemplate(): string {
  return JSON.stringify({
    Parameters: {
      'AWS::IoT::Certificate::CommonName': { Type: 'String' },
      'AWS::IoT::Certificate::Id': { Type: 'String' },
    },
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: { ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' }, AttributePayload: { provisionedBy: 'jitp' } },
      },
      certificate: {
        Type: 'AWS::IoT::Certificate',
        Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
      },
      policy: {
        Type: 'AWS::IoT::Policy',
        Properties: {
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 'iot:Connect', Resource: '*' },
              { Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/jitp/${iot:Connection.Thing.ThingName}/*' },
            ],
          }),
        },
      },
    },
  });
}

/** MQTT 5 QoS 1 publish → the PUBACK reason code (0 accepted, 0x87 not authorized). */
function pubackCode(client: MqttClient, topic: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no PUBACK for ${topic}`)), JIT_WAIT_MS);
    client.publish(topic, 'x', { qos: 1 }, (err, packet) => {
      clearTimeout(timer);
      resolve((err as (Error & { code?: number }) | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
    });
  });
}

describe('just-in-time provisioning (JITP)', { timeout: 180_000 }, () => {
  let server: RunningCertgate;
  let iot: IoTClient;
  let pki: TestPki;
  let operator: Operator;

  before(async () => {
    server = await startCertgate();
    iot = iotClient(server);
    pki = await TestPki.create();
    operator = await startOperator(server);
  });

  after(async () => {
    await operator?.close();
    iot?.destroy();
    await server?.stop();
    await pki?.cleanup();
  });

  it('first CONNECT registers and provisions (thing from CommonName, policy attached, ACTIVE) and is refused; the next connects and publishes per policy', async () => {
    const ca = await registerCa(iot, pki, { registrationConfig: { templateBody: jitpTemplate(), roleArn: ROLE_ARN } });
    const thingName = `sensor-${randomBytes(4).toString('hex')}`;
    const cert = await pki.makeDeviceCert(ca.ca, { cn: thingName });
    const certificateId = certificateIdOfPem(cert.certPem);
    const device = unregisteredDevice(server, operator.device, cert, ca.ca);

    const first = await device.tryConnect({ withChain: true, clientId: thingName, protocolVersion: 5 });
    assert.equal(first.outcome, 'refused', 'the provisioning connection is closed, as on AWS');

    const described = await iot.send(new DescribeCertificateCommand({ certificateId }));
    assert.equal(described.certificateDescription?.status, 'ACTIVE');
    assert.equal(described.certificateDescription?.caCertificateId, ca.caCertificateId);
    const arn = described.certificateDescription?.certificateArn;
    assert.ok(arn);
    const thing = await iot.send(new DescribeThingCommand({ thingName }));
    assert.equal(thing.attributes?.['provisionedBy'], 'jitp');
    const principals = await iot.send(new ListThingPrincipalsCommand({ thingName }));
    assert.deepEqual(principals.principals, [arn]);
    const attached = await iot.send(new ListAttachedPoliciesCommand({ target: arn }));
    assert.equal(attached.policies?.length, 1);
    const policy = await iot.send(new GetPolicyCommand({ policyName: attached.policies?.[0]?.policyName }));
    assert.match(policy.policyDocument ?? '', /iot:Connection\.Thing\.ThingName/);
    // JITP registers the certificate too: the registered event is published for it.
    await operator.waitForEvent((e) => e.body['certificateId'] === certificateId);

    const next = await device.tryConnect({ withChain: false, clientId: thingName, protocolVersion: 5 });
    assert.equal(next.outcome, 'connected', next.outcome === 'refused' ? `refused ${String(next.reasonCode)}` : '');
    if (next.outcome !== 'connected') return;
    try {
      assert.equal(await pubackCode(next.client, `jitp/${thingName}/telemetry`), 0);
      assert.equal(await pubackCode(next.client, `jitp/someone-else/telemetry`), 0x87);
    } finally {
      await endClient(next.client);
    }
  });

  it('a template the certificate cannot satisfy (Ref to a parameter it lacks) leaves nothing behind; certgate why says why', async () => {
    const policiesBefore = (await iot.send(new ListPoliciesCommand({}))).policies?.length ?? 0;
    const body = JSON.parse(jitpTemplate()) as { Parameters: Record<string, unknown>; Resources: { thing: { Properties: Record<string, unknown> } } };
    body.Parameters['AWS::IoT::Certificate::Country'] = { Type: 'String' };
    body.Resources.thing.Properties['AttributePayload'] = { country: { Ref: 'AWS::IoT::Certificate::Country' } };
    const ca = await registerCa(iot, pki, { registrationConfig: { templateBody: JSON.stringify(body), roleArn: ROLE_ARN } });
    const thingName = `bad-${randomBytes(4).toString('hex')}`;
    const cert = await pki.makeDeviceCert(ca.ca, { cn: thingName }); // subject has a CN only: no C
    const certificateId = certificateIdOfPem(cert.certPem);
    const device = unregisteredDevice(server, operator.device, cert, ca.ca);

    for (let i = 0; i < 2; i++) assert.equal((await device.tryConnect({ withChain: true })).outcome, 'refused');
    await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId })), 'ResourceNotFoundException');
    assert.deepEqual(await certificatesByCa(iot, ca.caCertificateId), []);
    await expectIotError(iot.send(new DescribeThingCommand({ thingName })), 'ResourceNotFoundException');
    assert.equal((await iot.send(new ListPoliciesCommand({}))).policies?.length ?? 0, policiesBefore);
    await operator.sync();
    assert.equal(operator.events.filter((e) => e.body['certificateId'] === certificateId).length, 0);
    const why = await whyCertificate(server, certificateId, primaryAccount(server));
    assert.ok(why.some((w) => w.reasons.some((x) => x.includes('nothing was registered') && x.includes('Cannot resolve reference value'))), JSON.stringify(why));
    // Reported on the CA too: `certgate why <caCertificateId>` shows what its auto-registration did.
    const onCa = await whyCertificate(server, ca.caCertificateId, primaryAccount(server));
    assert.ok(onCa.some((w) => w.reasons.some((x) => x.includes(certificateId) && x.includes('Cannot resolve reference value'))), JSON.stringify(onCa));
  });

  it('a CA naming a JITP template (registrationConfig.templateName) provisions with that template', async () => {
    const templateName = `jitp-template-${randomBytes(4).toString('hex')}`;
    await iot.send(new CreateProvisioningTemplateCommand({ templateName, type: 'JITP', enabled: true, provisioningRoleArn: ROLE_ARN, templateBody: jitpTemplate() }));
    const ca = await registerCa(iot, pki, { registrationConfig: { templateName } });
    const thingName = `named-${randomBytes(4).toString('hex')}`;
    const cert = await pki.makeDeviceCert(ca.ca, { cn: thingName });
    const device = unregisteredDevice(server, operator.device, cert, ca.ca);
    assert.equal((await device.tryConnect({ withChain: true, clientId: thingName })).outcome, 'refused');
    assert.equal((await iot.send(new DescribeThingCommand({ thingName }))).thingName, thingName);
    assert.deepEqual(await certificatesByCa(iot, ca.caCertificateId), [{ certificateId: certificateIdOfPem(cert.certPem), status: 'ACTIVE' }]);
    const next = await device.tryConnect({ clientId: thingName });
    assert.equal(next.outcome, 'connected');
    if (next.outcome === 'connected') await endClient(next.client);
  });

  it('a malformed template never reaches the data plane: RegisterCACertificate refuses it', async () => {
    await expectIotError(
      registerCa(iot, pki, { registrationConfig: { templateBody: '{"Resources": {"thing": {"Type": "AWS::IoT::Nope"}}}', roleArn: ROLE_ARN } }),
      'InvalidRequestException',
    );
  });
});
