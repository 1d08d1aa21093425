// issue 10 #5 and #6 on the data plane: just-in-time registration (JITR) and provisioning (JITP) register
// only TLS client certificates whose RFC 5280 path to the auto-registering CA validates. Anything else is
// refused at the TLS admission, nothing is registered or provisioned, no registered event is published, and
// `certgate why <certificateId>` (and, once the CONNECT arrived, `certgate why <caCertificateId>`) says why.
// Real certgate process, mqtt.js over mutual TLS, certificates made by openssl at run time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeCertificateCommand, DescribeThingCommand } from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { primaryAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { endClient } from '../helpers/device.js';
import { CA_EXTENSIONS, DEFECT_REASON, DEFECTIVE_DEVICE_EXTENSIONS, makeCaWith, signWith } from '../helpers/extension-certificates.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';
import { certificateIdOfPem, certificatesByCa, registerCa, startOperator, unregisteredDevice, whyCertificate } from '../helpers/jit.js';
import type { Operator, RegisteredCa } from '../helpers/jit.js';
import type { KeyAndCert, TestCa } from '../helpers/openssl.js';
import { TestPki } from '../helpers/openssl.js';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/JITPRole';

/** JITP: a thing named by the CommonName, the certificate ACTIVE, a policy allowing connect. */
const ACTIVE_TEMPLATE = JSON.stringify({
  Parameters: { 'AWS::IoT::Certificate::CommonName': { Type: 'String' }, 'AWS::IoT::Certificate::Id': { Type: 'String' } },
  Resources: {
    thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' } } },
    certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' } },
    policy: {
      Type: 'AWS::IoT::Policy',
      Properties: { PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] }) },
    },
  },
});

describe('JITR/JITP validate the device certificate and its path (issue 10 #5, #6)', { timeout: 300_000 }, () => {
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

  /** Connects twice with the certificate (chain: the certificate, then `chainPem`); both refused; nothing registered, no event; `why` explains on the certificate and the CA. */
  async function assertRefusedAndExplained(cert: KeyAndCert, chainPem: string, ca: RegisteredCa, reason: RegExp): Promise<void> {
    const certificateId = certificateIdOfPem(cert.certPem);
    const device = unregisteredDevice(server, operator.device, cert, { ...ca.ca, certPem: chainPem } as TestCa);
    for (let i = 0; i < 2; i++) {
      const outcome = await device.tryConnect({ withChain: true, clientId: `refused-${certificateId.slice(0, 8)}`, protocolVersion: 5 });
      assert.equal(outcome.outcome, 'refused');
    }
    await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId })), 'ResourceNotFoundException');
    assert.equal((await certificatesByCa(iot, ca.caCertificateId)).filter((c) => c.certificateId === certificateId).length, 0);
    await operator.sync();
    assert.equal(operator.events.filter((e) => e.body['certificateId'] === certificateId).length, 0, 'no registered event');
    const why = await whyCertificate(server, certificateId, primaryAccount(server));
    assert.ok(why.some((w) => w.kind === 'admission' && w.outcome === 'denied' && w.reasons.some((r) => reason.test(r))), JSON.stringify(why));
    const onCa = await whyCertificate(server, ca.caCertificateId, primaryAccount(server));
    assert.ok(onCa.some((w) => w.reasons.some((r) => r.includes(certificateId) && reason.test(r))), JSON.stringify(onCa));
  }

  it('issue 10 #5: a CA certificate is not a device certificate — JITR refuses a CA:TRUE certificate (an intermediate under a pathLen:0 CA)', async () => {
    const strict = await registerCa(iot, pki, { ca: await makeCaWith(pki, { extensions: ['basicConstraints=critical,CA:TRUE,pathlen:0', ...CA_EXTENSIONS.slice(1)] }) });
    const intermediate = await signWith(pki, strict.ca, { extensions: CA_EXTENSIONS });
    await assertRefusedAndExplained(intermediate, strict.ca.certPem, strict, /not a device certificate/);
    assert.deepEqual(await certificatesByCa(iot, strict.caCertificateId), []);
  });

  it('a device signed by an intermediate CA that is not registered stays refused, even when the registered root is sent (AWS: the signing CA must be registered)', async () => {
    const root = await registerCa(iot, pki, { ca: await makeCaWith(pki, { extensions: ['basicConstraints=critical,CA:TRUE,pathlen:0', ...CA_EXTENSIONS.slice(1)] }) });
    const intermediate = await signWith(pki, root.ca, { extensions: CA_EXTENSIONS });
    const leaf = await signWith(pki, intermediate);
    const device = unregisteredDevice(server, operator.device, leaf, { ...root.ca, certPem: `${intermediate.certPem.trimEnd()}\n${root.ca.certPem}` });
    assert.equal((await device.tryConnect({ withChain: true })).outcome, 'refused');
    assert.deepEqual(await certificatesByCa(iot, root.caCertificateId), []);
    await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId: certificateIdOfPem(leaf.certPem) })), 'ResourceNotFoundException');
  });

  for (const [defect, extensions] of Object.entries(DEFECTIVE_DEVICE_EXTENSIONS) as [keyof typeof DEFECTIVE_DEVICE_EXTENSIONS, readonly string[]][]) {
    it(`issue 10 #6: JITP with an ACTIVE template provisions nothing for a device certificate with ${defect}`, async () => {
      const ca = await registerCa(iot, pki, { registrationConfig: { templateBody: ACTIVE_TEMPLATE, roleArn: ROLE_ARN } });
      const thingName = `bad-${certificateIdOfPem(ca.ca.certPem).slice(0, 10)}`;
      const cert = await signWith(pki, ca.ca, { subject: { CN: thingName }, extensions });
      await assertRefusedAndExplained(cert, ca.ca.certPem, ca, DEFECT_REASON[defect]);
      await expectIotError(iot.send(new DescribeThingCommand({ thingName })), 'ResourceNotFoundException');
      assert.deepEqual(await certificatesByCa(iot, ca.caCertificateId), []);
    });
  }

  it("issue 10 #6: JITR refuses a device outside the CA's name constraints and registers one inside", async () => {
    const ca = await registerCa(iot, pki, {
      ca: await makeCaWith(pki, { subject: { O: 'Acme' }, extensions: [...CA_EXTENSIONS, 'nameConstraints=critical,permitted;dirName:acme_dn,permitted;DNS:devices.acme.example', '[acme_dn]', 'O=Acme'] }),
    });
    const outside = await signWith(pki, ca.ca, { subject: { O: 'Evil', CN: 'sensor-outside' } });
    await assertRefusedAndExplained(outside, ca.ca.certPem, ca, /violates the name constraints of its CA/);

    const inside = await signWith(pki, ca.ca, { subject: { O: 'Acme', CN: 'sensor-inside' } });
    const insideId = certificateIdOfPem(inside.certPem);
    const device = unregisteredDevice(server, operator.device, inside, ca.ca);
    const first = await device.tryConnect({ withChain: true });
    if (first.outcome === 'connected') await endClient(first.client);
    assert.equal(first.outcome, 'refused');
    await operator.waitForEvent((e) => e.body['certificateId'] === insideId);
    assert.deepEqual(await certificatesByCa(iot, ca.caCertificateId), [{ certificateId: insideId, status: 'PENDING_ACTIVATION' }]);
  });
});
