// Fleet provisioning by claim over MQTT (issue 4, provisioning.md "Fleet provisioning by claim"), against a REAL
// certgate process over real mutual TLS: the AWS IoT Device SDK v2 identity client drives the whole flow; mqtt.js
// covers create-from-csr, CBOR, the claim policy, ownership tokens, templates, the pre-provisioning hook, the
// one-hour expiry (shortened with --fleet-token-ttl) and that an answer reaches the requesting connection only.
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DescribeCertificateCommand, DescribeThingCommand, ListAttachedPoliciesCommand, ListThingPrincipalsCommand } from '@aws-sdk/client-iot';
import { iot, iotidentity, mqtt as crtMqtt } from 'aws-iot-device-sdk-v2';
import { connect as mqttConnect } from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { createAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, deviceClientOptions, endClient, tryConnectWith } from '../helpers/device.js';
import type { Device } from '../helpers/device.js';
import { accepted, claimPolicy, createFleetTemplate, fleetRequest, rejected, startTestHook } from '../helpers/fleet-provisioning.js';
import type { TestHook } from '../helpers/fleet-provisioning.js';
import { iotClient } from '../helpers/iot-clients.js';
import type { ApiAccount } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';
import { whyRecords } from '../helpers/why-records.js';

const CREATE_JSON = '$aws/certificates/create/json';
const CREATE_CBOR = '$aws/certificates/create/cbor';
const CSR_JSON = '$aws/certificates/create-from-csr/json';
const provisionTopic = (template: string, format: 'json' | 'cbor' = 'json'): string => `$aws/provisioning-templates/${template}/provision/${format}`;
const WAIT_MS = 8_000;

async function certificateStatus(account: ApiAccount, certificateId: string): Promise<string | undefined> {
  try {
    const out = await iotClient(account).send(new DescribeCertificateCommand({ certificateId }));
    return out.certificateDescription?.status;
  } catch (e) {
    if ((e as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}

async function thingExists(account: ApiAccount, thingName: string): Promise<boolean> {
  try {
    await iotClient(account).send(new DescribeThingCommand({ thingName }));
    return true;
  } catch (e) {
    if ((e as { name?: string }).name === 'ResourceNotFoundException') return false;
    throw e;
  }
}

function publishOutcome(client: MqttClient, topic: string, payload: Buffer | string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), WAIT_MS);
    client.publish(topic, payload, { qos: 1 }, (err, packet) => {
      clearTimeout(timer);
      const code = (err as (Error & { code?: number }) | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode;
      resolve(typeof code === 'number' ? code : 0);
    });
  });
}

function waitClosed(client: MqttClient): Promise<boolean> {
  if (client.disconnected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), WAIT_MS);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('fleet provisioning by claim over MQTT', () => {
  let server: RunningCertgate;
  let pki: TestPki;
  let hook: TestHook;
  let claim: Device;
  const template = `fleet-${randomBytes(3).toString('hex')}`;
  const clients: MqttClient[] = [];
  const track = (c: MqttClient): MqttClient => (clients.push(c), c);
  const connectClaim = async (opts: { protocolVersion?: 4 | 5; clientId?: string } = {}): Promise<MqttClient> => track(await claim.connect(opts));

  before(async () => {
    hook = await startTestHook();
    // The hook is on loopback: certgate calls it only because it is listed (issue 10 #13).
    server = await startCertgate({ args: ['--provisioning-hook-allow', hook.allowEntry] });
    pki = await TestPki.create();
    await createFleetTemplate(server, template);
    claim = await createDevice(server, { policyDocument: claimPolicy(server, template) });
  });

  after(async () => {
    await Promise.all(clients.map((c) => endClient(c, true)));
    await hook?.close();
    await pki?.cleanup();
    await server?.stop();
  });

  it('AWS IoT Device SDK v2 identity client (MQTT 3.1.1): CreateKeysAndCertificate → RegisterThing → the device connects with its new certificate', async () => {
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(claim.certPem, claim.keyPem)
      .with_certificate_authority(claim.caPem)
      .with_endpoint('127.0.0.1')
      .with_port(server.mqttPort!)
      .with_client_id(`sdk-claim-${randomBytes(4).toString('hex')}`)
      .with_clean_session(true)
      .build();
    const connection = new crtMqtt.MqttClient().new_connection(config);
    await connection.connect();
    const identity = iotidentity.IotIdentityClientv2.newFromMqtt311(connection, { maxRequestResponseSubscriptions: 4, maxStreamingSubscriptions: 2, operationTimeoutInSeconds: 15 });
    let keys: iotidentity.model.CreateKeysAndCertificateResponse;
    let registered: iotidentity.model.RegisterThingResponse;
    const serial = randomBytes(4).toString('hex');
    try {
      keys = await identity.createKeysAndCertificate({});
      assert.match(keys.certificateId ?? '', /^[0-9a-f]{64}$/);
      assert.match(keys.privateKey ?? '', /-----BEGIN (RSA )?PRIVATE KEY-----/);
      assert.ok(keys.certificateOwnershipToken);
      assert.equal(await certificateStatus(server, keys.certificateId!), 'PENDING_ACTIVATION');
      // The private key and the certificate are one pair.
      assert.equal(createPublicKey(keys.privateKey!).export({ format: 'pem', type: 'spki' }), createPublicKey(keys.certificatePem!).export({ format: 'pem', type: 'spki' }));
      registered = await identity.registerThing({ templateName: template, certificateOwnershipToken: keys.certificateOwnershipToken!, parameters: { SerialNumber: serial } });
    } finally {
      identity.close();
      await connection.disconnect();
    }
    assert.equal(registered.thingName, `${template}-${serial}`);
    assert.deepEqual(registered.deviceConfiguration, { FallbackUrl: 'https://www.example.com/test-site', Serial: serial });
    assert.equal(await certificateStatus(server, keys.certificateId!), 'ACTIVE');
    const principals = await iotClient(server).send(new ListThingPrincipalsCommand({ thingName: registered.thingName }));
    assert.deepEqual(principals.principals, [`arn:aws:iot:${server.region}:${server.accountId}:cert/${keys.certificateId}`]);
    const policies = await iotClient(server).send(new ListAttachedPoliciesCommand({ target: principals.principals![0] }));
    assert.equal(policies.policies?.length, 1);

    // Disconnect the claim, reconnect with the permanent certificate and use it.
    const device = track(await claim.connect({ cert: { certPem: keys.certificatePem!, keyPem: keys.privateKey! }, clientId: registered.thingName! }));
    const got = new Promise<string>((resolve) => device.once('message', (_t, p: Buffer) => resolve(p.toString())));
    await device.subscribeAsync(`devices/${serial}`, { qos: 1 });
    await device.publishAsync(`devices/${serial}`, 'hello from a provisioned device', { qos: 1 });
    assert.equal(await got, 'hello from a provisioned device');
  });

  it('AWS IoT Device SDK v2 identity client over MQTT 5: CreateKeysAndCertificate answers on the same connection', async () => {
    const config = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromMemory('127.0.0.1', claim.certPem, claim.keyPem)
      .withCertificateAuthority(claim.caPem)
      .withPort(server.mqttPort!)
      .withConnectProperties({ keepAliveIntervalSeconds: 60, clientId: `sdk5-${randomBytes(4).toString('hex')}` })
      .build();
    const { mqtt5 } = await import('aws-iot-device-sdk-v2');
    const client = new mqtt5.Mqtt5Client(config);
    const connected = new Promise<void>((resolve, reject) => {
      client.once('connectionSuccess', () => resolve());
      client.once('connectionFailure', (e) => reject(e.error));
    });
    client.start();
    await connected;
    const identity = iotidentity.IotIdentityClientv2.newFromMqtt5(client, { maxRequestResponseSubscriptions: 4, maxStreamingSubscriptions: 2, operationTimeoutInSeconds: 15 });
    try {
      const keys = await identity.createKeysAndCertificate({});
      assert.equal(await certificateStatus(server, keys.certificateId!), 'PENDING_ACTIVATION');
    } finally {
      identity.close();
      const stopped = new Promise<void>((resolve) => client.once('stopped', () => resolve()));
      client.stop();
      await stopped;
      client.close();
    }
  });

  it('CreateCertificateFromCsr (json, mqtt.js): the certificate carries the CSR key, no private key is sent, PENDING_ACTIVATION', async () => {
    const csr = await pki.makeCsr({ keyType: 'ec', curve: 'P-256' }, 'fleet-csr');
    const c = await connectClaim();
    const body = accepted(await fleetRequest(c, CSR_JSON, { certificateSigningRequest: csr.csrPem }));
    assert.deepEqual(Object.keys(body).sort(), ['certificateId', 'certificateOwnershipToken', 'certificatePem']);
    assert.equal(createPublicKey(String(body['certificatePem'])).export({ format: 'pem', type: 'spki' }), createPublicKey(csr.keyPem).export({ format: 'pem', type: 'spki' }));
    assert.equal(await certificateStatus(server, String(body['certificateId'])), 'PENDING_ACTIVATION');
    const serial = randomBytes(3).toString('hex');
    const reg = accepted(await fleetRequest(c, provisionTopic(template), { certificateOwnershipToken: body['certificateOwnershipToken'], parameters: { SerialNumber: serial } }));
    assert.equal(reg['thingName'], `${template}-${serial}`);
    assert.equal(await certificateStatus(server, String(body['certificateId'])), 'ACTIVE');
    // The device connects with its own key and the certificate certgate signed.
    const device = await tryConnectWith(deviceClientOptions(server, { certPem: String(body['certificatePem']), keyPem: csr.keyPem, caPem: claim.caPem, endpoint: claim.endpoint }));
    assert.equal(device.outcome, 'connected');
    if (device.outcome === 'connected') track(device.client);
  });

  it('CBOR: create/cbor with an empty payload and provision/cbor answer in CBOR', async () => {
    const c = await connectClaim({ protocolVersion: 5 });
    const keys = await fleetRequest(c, CREATE_CBOR, undefined);
    const body = accepted(keys);
    assert.equal(keys.outcome === 'accepted' && keys.raw[0]! >> 5, 5, 'a CBOR map');
    assert.match(String(body['privateKey']), /PRIVATE KEY/);
    const serial = randomBytes(3).toString('hex');
    const reg = accepted(await fleetRequest(c, provisionTopic(template, 'cbor'), { certificateOwnershipToken: body['certificateOwnershipToken'], parameters: { SerialNumber: serial } }));
    assert.equal(reg['thingName'], `${template}-${serial}`);
    assert.equal(await certificateStatus(server, String(body['certificateId'])), 'ACTIVE');
  });

  it('bad requests are rejected with 400: malformed JSON / CBOR, a bad CSR, an empty token', async () => {
    const c = await connectClaim();
    rejected(await fleetRequest(c, CREATE_JSON, undefined, { raw: Buffer.from('{not json') }), 400, 'InvalidPayload');
    rejected(await fleetRequest(c, CREATE_CBOR, undefined, { raw: Buffer.from([0xff, 0x00]) }), 400, 'InvalidPayload');
    rejected(await fleetRequest(c, CSR_JSON, {}), 400, 'InvalidPayload');
    const bad = await fleetRequest(c, CSR_JSON, { certificateSigningRequest: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' });
    assert.equal(bad.outcome, 'rejected');
    assert.equal(bad.outcome === 'rejected' && bad.body['statusCode'], 400);
    const msg = rejected(await fleetRequest(c, provisionTopic(template), { parameters: { SerialNumber: 'x' } }), 400, 'InvalidCertificateOwnershipToken');
    assert.match(msg, /cannot be empty/);
  });

  it('an ownership token is single-use: a second RegisterThing with it is rejected', async () => {
    const c = await connectClaim();
    const keys = accepted(await fleetRequest(c, CREATE_JSON, {}));
    const token = keys['certificateOwnershipToken'];
    accepted(await fleetRequest(c, provisionTopic(template), { certificateOwnershipToken: token, parameters: { SerialNumber: randomBytes(3).toString('hex') } }));
    const serial2 = randomBytes(3).toString('hex');
    rejected(await fleetRequest(c, provisionTopic(template), { certificateOwnershipToken: token, parameters: { SerialNumber: serial2 } }), 400, 'InvalidCertificateOwnershipToken');
    assert.equal(await thingExists(server, `${template}-${serial2}`), false);
  });

  it('a forged or altered ownership token is rejected and provisions nothing', async () => {
    const c = await connectClaim();
    const keys = accepted(await fleetRequest(c, CREATE_JSON, {}));
    const token = String(keys['certificateOwnershipToken']);
    const [body, mac] = token.split('.') as [string, string];
    const flipped = `${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    const serial = randomBytes(3).toString('hex');
    for (const forged of [flipped, 'eyJjZXJ0aWZpY2F0ZUlkIjoiYWJjIn0', `${Buffer.from(`v1|${server.accountId}|${server.region}|${keys['certificateId']}|9999999999999|00`).toString('base64url')}.${mac}`]) {
      rejected(await fleetRequest(c, provisionTopic(template), { certificateOwnershipToken: forged, parameters: { SerialNumber: serial } }), 400, 'InvalidCertificateOwnershipToken');
    }
    assert.equal(await thingExists(server, `${template}-${serial}`), false);
    assert.equal(await certificateStatus(server, String(keys['certificateId'])), 'PENDING_ACTIVATION');
  });

  it("another account's ownership token is rejected; that certificate stays PENDING_ACTIVATION in its account", async () => {
    const other: TestAccount = await createAccount(server);
    const otherTemplate = `fleet-b-${randomBytes(3).toString('hex')}`;
    await createFleetTemplate(other, otherTemplate);
    const otherClaim = await createDevice(server, { account: other, policyDocument: claimPolicy(other, otherTemplate) });
    const b = track(await otherClaim.connect());
    const keys = accepted(await fleetRequest(b, CREATE_JSON, {}));
    const a = await connectClaim();
    const serial = randomBytes(3).toString('hex');
    rejected(await fleetRequest(a, provisionTopic(template), { certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: serial } }), 400, 'InvalidCertificateOwnershipToken');
    assert.equal(await thingExists(server, `${template}-${serial}`), false);
    assert.equal(await certificateStatus(other, String(keys['certificateId'])), 'PENDING_ACTIVATION');
    assert.equal(await certificateStatus(server, String(keys['certificateId'])), undefined, 'not visible in account A');
  });

  it('templates: unknown → 404 ResourceNotFound, disabled → 400, JITP type → 400; nothing is provisioned', async () => {
    const disabled = `fleet-off-${randomBytes(3).toString('hex')}`;
    const jitp = `fleet-jitp-${randomBytes(3).toString('hex')}`;
    await createFleetTemplate(server, disabled, { enabled: false });
    await createFleetTemplate(server, jitp, {
      type: 'JITP',
      body: JSON.stringify({
        Parameters: { 'AWS::IoT::Certificate::Id': { Type: 'String' } },
        Resources: { certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' } } },
      }),
    });
    // A claim policy allowing every template, so that the service (not the policy) answers.
    const anyTemplate = await createDevice(server, { policyDocument: claimPolicy(server, '*') });
    const c = track(await anyTemplate.connect());
    const keys = accepted(await fleetRequest(c, CREATE_JSON, {}));
    const req = { certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: 'nope' } };
    rejected(await fleetRequest(c, provisionTopic(`missing-${randomBytes(3).toString('hex')}`), req), 404, 'ResourceNotFound');
    assert.match(rejected(await fleetRequest(c, provisionTopic(disabled), req), 400, 'InvalidRequest'), /disabled/);
    assert.match(rejected(await fleetRequest(c, provisionTopic(jitp), req), 400, 'InvalidRequest'), /JITP/);
    assert.equal(await certificateStatus(server, String(keys['certificateId'])), 'PENDING_ACTIVATION');
  });

  it('a claim policy that does not allow the template: MQTT 5 PUBACK 0x87, MQTT 3.1.1 disconnected; nothing created', async () => {
    const c5 = await connectClaim({ protocolVersion: 5 });
    const keys = accepted(await fleetRequest(c5, CREATE_JSON, {}));
    const other = `not-allowed-${randomBytes(3).toString('hex')}`;
    await createFleetTemplate(server, other);
    const serial = randomBytes(3).toString('hex');
    const request = JSON.stringify({ certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: serial } });
    assert.equal(await publishOutcome(c5, provisionTopic(other), request), 0x87);
    const c4 = await connectClaim({ protocolVersion: 4 });
    const closed = waitClosed(c4);
    c4.publish(provisionTopic(other), request, { qos: 1 });
    assert.equal(await closed, true);
    assert.equal(await thingExists(server, `${other}-${serial}`), false);
    assert.equal(await certificateStatus(server, String(keys['certificateId'])), 'PENDING_ACTIVATION');
  });

  it('devices may not publish on the answer topics (no spoofed /accepted)', async () => {
    const spoofer = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const c = track(await spoofer.connect({ protocolVersion: 5 }));
    assert.equal(await publishOutcome(c, `${CREATE_JSON}/accepted`, '{"certificateId":"fake"}'), 0x87);
    assert.equal(await publishOutcome(c, `${provisionTopic(template)}/rejected`, '{}'), 0x87);
  });

  it('a last will on a service topic is refused: an ungraceful disconnect publishes no fake /accepted', async () => {
    const listener = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const spy = track(await listener.connect({ protocolVersion: 5 }));
    const seen: string[] = [];
    spy.on('message', (t) => seen.push(t));
    await spy.subscribeAsync(['$aws/certificates/#', 'wills/#'], { qos: 1 });
    const attacker = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const clientId = `will-${randomBytes(4).toString('hex')}`;
    const c = await attacker.connect({ protocolVersion: 5, clientId, will: { topic: `${CREATE_JSON}/accepted`, payload: Buffer.from('{"certificateId":"fake","privateKey":"attacker"}'), qos: 1, retain: false } });
    c.stream.destroy(); // ungraceful: a will would be published now
    // A control will on an ordinary topic shows wills do fire, and orders the check after it.
    const control = await attacker.connect({ protocolVersion: 5, will: { topic: 'wills/control', payload: Buffer.from('x'), qos: 1, retain: false } });
    const fired = new Promise<void>((resolve) => spy.on('message', (t) => t === 'wills/control' && resolve()));
    control.stream.destroy();
    await Promise.race([fired, new Promise((_, reject) => setTimeout(() => reject(new Error('the control will never arrived')), 5_000))]);
    assert.deepEqual(seen, ['wills/control'], 'no message on $aws/certificates/...');
    const records = await whyRecords(server, clientId);
    assert.ok(records.some((r) => r.kind === 'publish' && r.outcome === 'denied' && r.reasons.some((x) => x.includes('service topic'))), JSON.stringify(records));
  });

  it("the answer goes to the requesting connection only: another subscriber of /accepted never sees the private key; an unsubscribed requester gets nothing", async () => {
    const listener = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const spy = track(await listener.connect());
    const seen: string[] = [];
    spy.on('message', (t) => seen.push(t));
    const granted = await spy.subscribeAsync(['$aws/certificates/#', '$aws/provisioning-templates/#'], { qos: 1 });
    assert.deepEqual(granted.map((g) => g.qos), [1, 1], 'the spy really is subscribed');
    const c = await connectClaim();
    const keys = accepted(await fleetRequest(c, CREATE_JSON, {}));
    accepted(await fleetRequest(c, provisionTopic(template), { certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: randomBytes(3).toString('hex') } }));
    // A requester without the subscription gets no answer (AWS: subscribe before publishing).
    const bare = await connectClaim();
    const got: string[] = [];
    bare.on('message', (t) => got.push(t));
    assert.equal(await publishOutcome(bare, CREATE_JSON, '{}'), 0);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(got, []);
    assert.deepEqual(seen, [], 'the spy saw nothing: neither requests nor answers');
  });

  it('client-id takeover: an answer the requester never acknowledged is not handed to the next connection with its client id (persistent session)', async () => {
    const clientId = `fleet-takeover-${randomBytes(4).toString('hex')}`;
    const accept = `${CREATE_JSON}/accepted`;
    type Pub = { cmd: string; topic?: string; qos?: number; payload?: Buffer };
    const connectRaw = async (extra: Partial<IClientOptions>, seen: Pub[]): Promise<MqttClient> => {
      const c = track(mqttConnect({ ...deviceClientOptions(server, claim, { clientId, clean: false }), ...extra }));
      c.on('packetreceive', (p) => {
        if (p.cmd === 'publish') seen.push(p as Pub);
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no CONNACK')), WAIT_MS);
        c.once('connect', () => (clearTimeout(timer), resolve()));
        c.once('error', (e) => (clearTimeout(timer), reject(e)));
      });
      return c;
    };
    // The victim (persistent session) never PUBACKs a QoS 1 delivery: mqtt.js's ack hook never calls back.
    const victimSaw: Pub[] = [];
    const victim = await connectRaw({ customHandleAcks: () => undefined }, victimSaw);
    await victim.subscribeAsync([accept, `${CREATE_JSON}/rejected`], { qos: 1 });
    victim.publish(CREATE_JSON, '{}', { qos: 1 });
    const deadline = Date.now() + WAIT_MS;
    while (!victimSaw.some((p) => p.topic === accept) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const answer = victimSaw.find((p) => p.topic === accept);
    assert.ok(answer, 'the requester got its answer');
    assert.match(JSON.parse(answer.payload!.toString('utf8')).privateKey, /PRIVATE KEY/);
    await endClient(victim, true);
    assert.ok(await waitClosed(victim));
    // Another holder of the claim certificate takes the client id over and resumes the session.
    const attackerSaw: Pub[] = [];
    const attacker = await connectRaw({}, attackerSaw);
    await attacker.subscribeAsync(`${CREATE_JSON}/rejected`, { qos: 1 }); // everything the resume sent precedes this SUBACK
    assert.deepEqual(attackerSaw.map((p) => p.topic), [], "the taker-over received nothing, in particular not the victim's private key");
    assert.equal(answer.qos, 0, 'the answer is written on the requesting connection, never kept in the session');
  });

  describe('pre-provisioning hook (HTTP)', () => {
    let hooked: string;
    before(async () => {
      hooked = `fleet-hook-${randomBytes(3).toString('hex')}`;
      await createFleetTemplate(server, hooked, { hookUrl: hook.url });
      claim = await createDevice(server, { policyDocument: claimPolicy(server, '*') });
    });

    it("receives AWS's input object; its parameterOverrides apply", async () => {
      hook.calls.length = 0;
      hook.answer = () => ({ status: 200, body: { allowProvisioning: true, parameterOverrides: { SerialNumber: 'overridden' } } });
      const clientId = `hooked-${randomBytes(3).toString('hex')}`;
      const c = await connectClaim({ clientId });
      const keys = accepted(await fleetRequest(c, CREATE_JSON, {}));
      const reg = accepted(await fleetRequest(c, provisionTopic(hooked), { certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: 'device-said' } }));
      assert.equal(reg['thingName'], `${hooked}-overridden`);
      assert.equal(hook.calls.length, 1);
      const input = hook.calls[0]!.body;
      assert.deepEqual(Object.keys(input).sort(), ['certificateId', 'certificatePem', 'claimCertificateId', 'clientId', 'parameters', 'templateArn']);
      assert.equal(input['claimCertificateId'], claim.certificateId);
      assert.equal(input['certificateId'], keys['certificateId']);
      assert.equal(input['certificatePem'], keys['certificatePem']);
      assert.equal(input['clientId'], clientId);
      assert.equal(input['templateArn'], `arn:aws:iot:${server.region}:${server.accountId}:provisioningtemplate/${hooked}`);
      assert.deepEqual(input['parameters'], { SerialNumber: 'device-said' });
    });

    it('denies → 403 and the certificate is not activated; a failing or malformed hook denies too', async () => {
      const c = await connectClaim();
      const keys = accepted(await fleetRequest(c, CREATE_JSON, {}));
      const req = { certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: 'denied' } };
      for (const answer of [
        { status: 200, body: { allowProvisioning: false } },
        { status: 500, body: { allowProvisioning: true } },
        { status: 200, body: { allowProvisioning: 'yes' } },
        { status: 200, body: { parameterOverrides: {} } },
      ]) {
        hook.answer = () => answer;
        rejected(await fleetRequest(c, provisionTopic(hooked), req), 403, 'AccessDenied');
      }
      assert.equal(await certificateStatus(server, String(keys['certificateId'])), 'PENDING_ACTIVATION');
      assert.equal(await thingExists(server, `${hooked}-denied`), false);
      // The token was not spent by the denials: the hook allows now, provisioning succeeds.
      hook.answer = () => ({ status: 200, body: { allowProvisioning: true } });
      accepted(await fleetRequest(c, provisionTopic(hooked), req));
      assert.equal(await certificateStatus(server, String(keys['certificateId'])), 'ACTIVE');
    });

    it('two RegisterThing racing with one token (slow hook): exactly one is accepted', async () => {
      const c1 = await connectClaim();
      const c2 = await connectClaim();
      const keys = accepted(await fleetRequest(c1, CREATE_JSON, {}));
      hook.calls.length = 0;
      hook.answer = () => ({ status: 200, body: { allowProvisioning: true }, delayMs: 500 });
      const req = (serial: string): object => ({ certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: serial } });
      const answers = await Promise.all([fleetRequest(c1, provisionTopic(hooked), req('race-1')), fleetRequest(c2, provisionTopic(hooked), req('race-2'))]);
      assert.deepEqual(answers.map((a) => a.outcome).sort(), ['accepted', 'rejected']);
      rejected(answers.find((a) => a.outcome === 'rejected')!, 400, 'InvalidCertificateOwnershipToken');
      const things = [await thingExists(server, `${hooked}-race-1`), await thingExists(server, `${hooked}-race-2`)];
      assert.deepEqual(things.filter(Boolean), [true], 'one thing provisioned');
      hook.answer = () => ({ status: 200, body: { allowProvisioning: true } });
    });

    it('an unreachable hook or a Lambda ARN (not callable here) denies', async () => {
      const unreachable = `fleet-dead-${randomBytes(3).toString('hex')}`;
      const lambda = `fleet-lambda-${randomBytes(3).toString('hex')}`;
      await createFleetTemplate(server, unreachable, { hookUrl: 'http://127.0.0.1:9/hook' });
      await createFleetTemplate(server, lambda, { hookUrl: `arn:aws:lambda:${server.region}:${server.accountId}:function:pre-provision` });
      const c = await connectClaim();
      const keys = accepted(await fleetRequest(c, CREATE_JSON, {}));
      const req = { certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: 'x' } };
      rejected(await fleetRequest(c, provisionTopic(unreachable), req), 403, 'AccessDenied');
      rejected(await fleetRequest(c, provisionTopic(lambda), req), 403, 'AccessDenied');
      assert.equal(await certificateStatus(server, String(keys['certificateId'])), 'PENDING_ACTIVATION');
    });
  });

  it('the server log explains rejections but never contains a private key or an ownership token', () => {
    const log = server.output();
    assert.match(log, /fleet provisioning: request rejected/);
    assert.match(log, /pre-provisioning hook denied provisioning/);
    assert.doesNotMatch(log, /PRIVATE KEY/);
    assert.doesNotMatch(log, /certificateOwnershipToken"\s*:\s*"[A-Za-z0-9_-]{20,}/);
  });
});

describe('fleet provisioning: the ownership token expires and the unclaimed certificate is deleted', () => {
  let server: RunningCertgate;
  const clients: MqttClient[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => endClient(c, true)));
    await server?.stop();
  });

  it('--fleet-token-ttl 2: RegisterThing after 2 s is rejected (expired) and the sweeper deletes the PENDING_ACTIVATION certificate', async () => {
    server = await startCertgate({ args: ['--fleet-token-ttl', '2'] });
    const template = `fleet-ttl-${randomBytes(3).toString('hex')}`;
    await createFleetTemplate(server, template);
    const claim = await createDevice(server, { policyDocument: claimPolicy(server, template) });
    const c = await claim.connect();
    clients.push(c);
    const keys = accepted(await fleetRequest(c, CREATE_JSON, {}));
    const certificateId = String(keys['certificateId']);
    assert.equal(await certificateStatus(server, certificateId), 'PENDING_ACTIVATION');
    await new Promise((r) => setTimeout(r, 2_200));
    const serial = randomBytes(3).toString('hex');
    const answer = await fleetRequest(c, provisionTopic(template), { certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: serial } });
    const message = rejected(answer, 400, 'InvalidCertificateOwnershipToken');
    assert.match(message, /expired|no longer exists/);
    assert.equal(await thingExists(server, `${template}-${serial}`), false);
    let status: string | undefined = 'PENDING_ACTIVATION';
    for (let i = 0; i < 40 && status !== undefined; i++) {
      await new Promise((r) => setTimeout(r, 250));
      status = await certificateStatus(server, certificateId);
    }
    assert.equal(status, undefined, 'deleted by the sweeper');
    // The claim certificate itself (ACTIVE, registered over the API) is untouched.
    assert.equal(await certificateStatus(server, claim.certificateId), 'ACTIVE');
  });
});
