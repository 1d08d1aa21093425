// Durability across a restart: everything written through the API before a restart is there after it,
// byte for byte as the API shows it, and certgate's root CAs are unchanged.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateThingCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  GetPolicyCommand,
  GetRegistrationCodeCommand,
  ListAttachedPoliciesCommand,
  ListCACertificatesCommand,
  ListCertificatesCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { iotClient, withoutMetadata } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';

const POLICY = (topic: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: `arn:aws:iot:*:*:topic/${topic}` }] });

/** Every read the API offers over what the scenario wrote, as plain JSON. */
async function snapshot(iot: IoTClient, ids: { certs: string[]; caId: string; thing: string; policy: string }) {
  const certArn = (id: string, acct: string, region: string) => `arn:aws:iot:${region}:${acct}:cert/${id}`;
  const region = await iot.config.region();
  const endpoint = withoutMetadata(await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' })));
  const certs = [];
  for (const id of ids.certs) certs.push(withoutMetadata(await iot.send(new DescribeCertificateCommand({ certificateId: id }))));
  const acct = certs[0]!.certificateDescription!.ownedBy!;
  return JSON.parse(
    JSON.stringify({
      endpoint,
      registrationCode: withoutMetadata(await iot.send(new GetRegistrationCodeCommand({}))),
      certs,
      certList: withoutMetadata(await iot.send(new ListCertificatesCommand({ ascendingOrder: true }))),
      ca: withoutMetadata(await iot.send(new DescribeCACertificateCommand({ certificateId: ids.caId }))),
      caList: withoutMetadata(await iot.send(new ListCACertificatesCommand({}))),
      thing: withoutMetadata(await iot.send(new DescribeThingCommand({ thingName: ids.thing }))),
      things: withoutMetadata(await iot.send(new ListThingsCommand({}))),
      thingPrincipals: withoutMetadata(await iot.send(new ListThingPrincipalsCommand({ thingName: ids.thing }))),
      policy: withoutMetadata(await iot.send(new GetPolicyCommand({ policyName: ids.policy }))),
      policies: withoutMetadata(await iot.send(new ListPoliciesCommand({}))),
      versions: withoutMetadata(await iot.send(new ListPolicyVersionsCommand({ policyName: ids.policy }))),
      attached: withoutMetadata(await iot.send(new ListAttachedPoliciesCommand({ target: certArn(ids.certs[0]!, acct, region) }))),
    }),
  );
}

describe('restart durability', () => {
  let dataDir: string;
  let pki: TestPki;
  let server: RunningCertgate | undefined;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'certgate-restart-'));
    pki = await TestPki.create();
  });

  after(async () => {
    await server?.stop();
    await pki.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps every resource, the account and the root CAs across a restart', { timeout: 180_000 }, async () => {
    server = await startCertgate({ dataDir });
    const first = server;
    const rootsBefore = [await readFile(join(dataDir, 'root-ca-rsa.pem')), await readFile(join(dataDir, 'root-ca-ecc.pem'))];
    let iot = iotClient(first);

    const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const code = (await iot.send(new GetRegistrationCodeCommand({}))).registrationCode!;
    const ca = await pki.makeCa({ cn: 'Restart Test CA' });
    const verification = await pki.makeVerificationCert(ca, code);
    const registeredCa = await iot.send(
      new RegisterCACertificateCommand({ caCertificate: ca.certPem, verificationCertificate: verification.certPem, setAsActive: true, allowAutoRegistration: true }),
    );
    const device = await pki.makeDeviceCert(ca, { cn: 'restart-device' });
    const registered = await iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: ca.certPem }));
    await iot.send(new UpdateCertificateCommand({ certificateId: registered.certificateId!, newStatus: 'REVOKED' }));
    await iot.send(new CreateThingCommand({ thingName: 'restart-thing', attributePayload: { attributes: { model: 'x1' } } }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'restart-thing', principal: created.certificateArn! }));
    await iot.send(new CreatePolicyCommand({ policyName: 'restart-policy', policyDocument: POLICY('a/*') }));
    await iot.send(new CreatePolicyVersionCommand({ policyName: 'restart-policy', policyDocument: POLICY('b/*'), setAsDefault: true }));
    await iot.send(new AttachPolicyCommand({ policyName: 'restart-policy', target: created.certificateArn! }));

    const ids = { certs: [created.certificateId!, registered.certificateId!], caId: registeredCa.certificateId!, thing: 'restart-thing', policy: 'restart-policy' };
    const before = await snapshot(iot, ids);
    assert.equal(before.certs[1].certificateDescription.status, 'REVOKED');
    assert.equal(before.versions.policyVersions.length, 2);

    await first.stop();
    server = await startCertgate({ dataDir });
    assert.equal(server.accountId, first.accountId);
    assert.equal(server.accessKeyId, first.accessKeyId);
    assert.equal(server.dataEndpoint, first.dataEndpoint);
    iot = iotClient(server);
    const afterRestart = await snapshot(iot, ids);
    assert.deepEqual(afterRestart, before);

    const rootsAfter = [await readFile(join(dataDir, 'root-ca-rsa.pem')), await readFile(join(dataDir, 'root-ca-ecc.pem'))];
    assert.deepEqual(rootsAfter, rootsBefore);
  });
});
