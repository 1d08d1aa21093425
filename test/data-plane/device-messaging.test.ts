// Publish/subscribe through the REAL server process with real mqtt.js clients (data-plane.md "Authorization points",
// "MQTT behaviour and limits"): policy allow/deny incl. ${iot:Certificate.Issuer.Organization}, QoS 1 to a persistent
// session, will, retained, takeover, oversize payload.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AttachPolicyCommand, CreatePolicyCommand, DetachPolicyCommand, GetRegistrationCodeCommand, RegisterCACertificateCommand } from '@aws-sdk/client-iot';
import { connect as mqttConnect } from 'mqtt';
import type { IConnackPacket, MqttClient } from 'mqtt';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, deviceClientOptions, endClient } from '../helpers/device.js';
import type { Device } from '../helpers/device.js';
import { iotClient } from '../helpers/iot-clients.js';
import { TestPki, runOpenssl } from '../helpers/openssl.js';
import type { TestCa } from '../helpers/openssl.js';

const WAIT_MS = 5_000;
/** AWS IoT Core: payload ≤ 128 KiB. */
const MAX_PAYLOAD = 128 * 1024;

function arn(server: RunningCertgate, kind: 'topic' | 'topicfilter' | 'client', rest: string): string {
  return `arn:aws:iot:${server.region}:${server.accountId}:${kind}/${rest}`;
}

/** Resolves with the next message on `topic` (bounded), or undefined. */
function nextMessage(client: MqttClient, topic: string, ms = WAIT_MS): Promise<{ payload: Buffer; retain: boolean } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('message', on);
      resolve(undefined);
    }, ms);
    const on = (t: string, payload: Buffer, packet: { retain?: boolean }): void => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', on);
      resolve({ payload, retain: packet.retain === true });
    };
    client.on('message', on);
  });
}

/** The SUBACK return/reason codes (mqtt.js's `granted` argument echoes the request; the packet has the answer). */
function subscribe(client: MqttClient, filter: string, qos: 0 | 1 = 1): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no SUBACK for ${filter}`)), WAIT_MS);
    client.subscribe(filter, { qos }, (err, _granted, packet) => {
      clearTimeout(timer);
      if (packet === undefined) reject(err ?? new Error('no SUBACK packet'));
      else resolve(packet.granted.map((g) => (typeof g === 'number' ? g : Number((g as { qos?: number }).qos))));
    });
  });
}

function publish(client: MqttClient, topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<{ error: Error | undefined; reasonCode: number | undefined }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ error: new Error('no PUBACK'), reasonCode: undefined }), WAIT_MS);
    client.publish(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false }, (err, packet) => {
      clearTimeout(timer);
      const code = (err as (Error & { code?: number }) | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode;
      resolve({ error: err ?? undefined, reasonCode: typeof code === 'number' ? code : undefined });
    });
  });
}

function waitClosed(client: MqttClient): Promise<boolean> {
  if (client.disconnected || (!client.connected && !client.reconnecting)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), WAIT_MS);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('data plane: publish / subscribe through the real server', () => {
  let server: RunningCertgate;
  let pki: TestPki;
  let open: MqttClient[] = [];
  const track = (c: MqttClient): MqttClient => (open.push(c), c);

  before(async () => {
    server = await startCertgate();
    assert.ok(server.mqttPort !== undefined, `no mqttPort in the ready line:\n${server.output()}`);
    pki = await TestPki.create();
  });
  after(async () => {
    await Promise.all(open.map((c) => endClient(c, true)));
    open = [];
    await server?.stop();
    await pki?.cleanup();
  });

  describe('policy', () => {
    let device: Device;
    before(async () => {
      device = await createDevice(server, {
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'iot:Connect', Resource: arn(server, 'client', '*') },
            { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: arn(server, 'topic', 'allowed/*') },
            { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn(server, 'topicfilter', 'allowed/*') },
          ],
        },
      });
    });

    it('allowed publish reaches an allowed subscriber (3.1.1 → 5 interoperate)', async () => {
      const sub = track(await device.connect({ protocolVersion: 5 }));
      const pub = track(await device.connect({ protocolVersion: 4 }));
      assert.deepEqual(await subscribe(sub, 'allowed/x'), [1]);
      const got = nextMessage(sub, 'allowed/x');
      assert.equal((await publish(pub, 'allowed/x', 'hello')).error, undefined);
      assert.equal((await got)?.payload.toString(), 'hello');
    });

    it('denied SUBSCRIBE: SUBACK 0x80 (3.1.1) / 0x87 (5) for that filter only', async () => {
      const v4 = track(await device.connect({ protocolVersion: 4 }));
      const v5 = track(await device.connect({ protocolVersion: 5 }));
      assert.deepEqual(await subscribe(v4, 'denied/x'), [0x80]);
      assert.deepEqual(await subscribe(v5, 'denied/x'), [0x87]);
      assert.equal(v4.connected && v5.connected, true);
    });

    it('denied PUBLISH: MQTT 5 QoS 1 gets PUBACK 0x87; MQTT 3.1.1 is disconnected (FORBIDDEN_ACCESS)', async () => {
      const v5 = track(await device.connect({ protocolVersion: 5 }));
      const r = await publish(v5, 'denied/x', 'no');
      assert.equal(r.reasonCode, 0x87, String(r.error));
      assert.equal(v5.connected, true);
      const v4 = track(await device.connect({ protocolVersion: 4 }));
      const closing = waitClosed(v4);
      v4.publish('denied/x', 'no', { qos: 1 });
      assert.equal(await closing, true);
    });

    it('`certgate why <clientId>` explains a denied publish: topic resource and "no statement allowed it"-style reason', async () => {
      const clientId = `why-${randomBytes(4).toString('hex')}`;
      const c = track(await device.connect({ protocolVersion: 5, clientId }));
      assert.equal((await publish(c, 'denied/why', 'no')).reasonCode, 0x87);
      const res = await runCertgateCli(['why', clientId, '--data-dir', server.dataDir, '--endpoint-url', server.apiUrl, '--json']);
      assert.equal(res.code, 0, res.stderr);
      const records = JSON.parse(res.stdout) as { kind: string; outcome: string; clientId?: string; resource?: string; reasons: string[] }[];
      const denied = records.find((r) => r.kind === 'publish' && r.outcome === 'denied');
      assert.ok(denied, res.stdout);
      assert.equal(denied.clientId, clientId);
      assert.match(denied.resource ?? '', /denied\/why/);
      assert.ok(denied.reasons.length > 0);
      assert.ok(records.some((r) => r.kind === 'connect' && r.outcome === 'allowed'), 'the allowed CONNECT is recorded too');
    });

    it('a policy change applies to the next action of a connected device (DetachPolicy / AttachPolicy)', async () => {
      const iot = iotClient(server);
      const own = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
      const c = track(await own.connect({ protocolVersion: 5 }));
      assert.equal((await publish(c, 'live/a', '1')).reasonCode ?? 0, 0);
      await iot.send(new DetachPolicyCommand({ policyName: own.policyName!, target: own.certificateArn }));
      assert.equal((await publish(c, 'live/a', '2')).reasonCode, 0x87, 'no policy attached any more');
      const policyName = `narrow-${randomBytes(4).toString('hex')}`;
      await iot.send(new CreatePolicyCommand({
        policyName,
        policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: arn(server, 'topic', 'live/b') }] }),
      }));
      await iot.send(new AttachPolicyCommand({ policyName, target: own.certificateArn }));
      assert.equal((await publish(c, 'live/b', '3')).reasonCode ?? 0, 0);
      assert.equal((await publish(c, 'live/a', '4')).reasonCode, 0x87);
    });

    it('${iot:Certificate.Issuer.Organization}: publish allowed under the issuer O=, denied elsewhere', async () => {
      const org = `Acme${randomBytes(3).toString('hex')}`;
      const ca = await makeCaWithOrganization(pki, org);
      const iot = iotClient(server);
      const { registrationCode } = await iot.send(new GetRegistrationCodeCommand({}));
      const verification = await pki.makeVerificationCert(ca, registrationCode!);
      await iot.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, verificationCertificate: verification.certPem, setAsActive: true }));
      const leaf = await pki.makeDeviceCert(ca);
      const orgDevice = await createDevice(server, {
        certificate: { certPem: leaf.certPem, keyPem: leaf.keyPem, caCertificatePem: ca.certPem },
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'iot:Connect', Resource: '*' },
            { Effect: 'Allow', Action: 'iot:Publish', Resource: arn(server, 'topic', 'org/${iot:Certificate.Issuer.Organization}/*') },
          ],
        },
      });
      const c = track(await orgDevice.connect({ protocolVersion: 5 }));
      assert.equal((await publish(c, `org/${org}/status`, 'ok')).reasonCode ?? 0, 0);
      assert.equal((await publish(c, 'org/SomeoneElse/status', 'no')).reasonCode, 0x87);
    });
  });

  describe('sessions and messages (allow-all policy)', () => {
    let device: Device;
    before(async () => {
      device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    });

    it('QoS 1 to a persistent session: queued while offline, delivered on reconnect; session present is honest', async () => {
      const clientId = `persist-${randomBytes(4).toString('hex')}`;
      const first = await device.connect({ protocolVersion: 4, clientId, clean: false });
      assert.deepEqual(await subscribe(first, 'q/one', 1), [1]);
      await endClient(first);
      const pub = track(await device.connect({ protocolVersion: 4 }));
      assert.equal((await publish(pub, 'q/one', 'while-offline', { qos: 1 })).error, undefined);
      // The queued message may arrive in the same TLS record as CONNACK: listen before connecting.
      const again = track(mqttConnect(deviceClientOptions(server, device, { protocolVersion: 4, clientId, clean: false })));
      const queued = new Promise<{ payload: Buffer } | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), WAIT_MS);
        again.on('message', (topic, payload) => {
          if (topic !== 'q/one') return;
          clearTimeout(timer);
          resolve({ payload });
        });
      });
      const connack = await new Promise<IConnackPacket>((resolve, reject) => {
        again.once('connect', resolve);
        again.once('error', reject);
      });
      assert.equal(connack.sessionPresent, true);
      const got = await queued;
      assert.equal(got?.payload.toString(), 'while-offline');
    });

    it('last will is published on an ungraceful disconnect', async () => {
      const watcher = track(await device.connect({ protocolVersion: 5 }));
      await subscribe(watcher, 'wills/+');
      const willTopic = `wills/${randomBytes(3).toString('hex')}`;
      const dying = await device.connect({ protocolVersion: 4, will: { topic: willTopic, payload: Buffer.from('gone'), qos: 1, retain: false } });
      const got = nextMessage(watcher, willTopic);
      (dying.stream as { destroy(): void }).destroy(); // no DISCONNECT: ungraceful
      assert.equal((await got)?.payload.toString(), 'gone');
      dying.end(true);
    });

    it('retained: a later subscriber gets the retained message; an empty retained payload clears it', async () => {
      const topic = `retained/${randomBytes(3).toString('hex')}`;
      const pub = track(await device.connect({ protocolVersion: 4 }));
      await publish(pub, topic, 'kept', { qos: 1, retain: true });
      const late = track(await device.connect({ protocolVersion: 5 }));
      const got = nextMessage(late, topic);
      await subscribe(late, topic);
      const m = await got;
      assert.equal(m?.payload.toString(), 'kept');
      assert.equal(m?.retain, true);
      await publish(pub, topic, '', { qos: 1, retain: true });
      const later = track(await device.connect({ protocolVersion: 5 }));
      const none = nextMessage(later, topic, 1_000);
      await subscribe(later, topic);
      assert.equal(await none, undefined);
    });

    it('takeover: a second connection with the same client id disconnects the first (DUPLICATE_CLIENTID)', async () => {
      const clientId = `dup-${randomBytes(4).toString('hex')}`;
      const first = track(await device.connect({ protocolVersion: 4, clientId }));
      const closing = waitClosed(first);
      const second = track(await device.connect({ protocolVersion: 4, clientId }));
      assert.equal(await closing, true);
      assert.equal(second.connected, true);
    });

    it('a payload over 128 KiB closes only that client; the others keep working', async () => {
      const bystander = track(await device.connect({ protocolVersion: 4 }));
      await subscribe(bystander, 'big/ok');
      const big = track(await device.connect({ protocolVersion: 4 }));
      const closing = waitClosed(big);
      big.publish('big/x', Buffer.alloc(MAX_PAYLOAD + 1, 1), { qos: 0 });
      assert.equal(await closing, true);
      assert.equal(bystander.connected, true);
      const got = nextMessage(bystander, 'big/ok');
      const pub = track(await device.connect({ protocolVersion: 4 }));
      await publish(pub, 'big/ok', 'still fine');
      assert.equal((await got)?.payload.toString(), 'still fine');
    });
  });
});

/** A CA whose subject carries O=<org> (TestPki's CAs have only a CN). */
async function makeCaWithOrganization(pki: TestPki, org: string): Promise<TestCa> {
  const keyFile = await pki.newKey('rsa');
  const name = `orgca-${randomBytes(4).toString('hex')}`;
  const cn = `Org CA ${name}`;
  await runOpenssl(
    ['req', '-x509', '-new', '-key', keyFile, '-subj', `/CN=${cn}/O=${org}`, '-days', '30', '-sha256', '-out', `${name}.pem`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature', '-addext', 'subjectKeyIdentifier=hash'],
    pki.dir,
  );
  return {
    cn,
    certPem: await readFile(join(pki.dir, `${name}.pem`), 'utf8'),
    keyPem: await readFile(join(pki.dir, keyFile), 'utf8'),
    certPath: join(pki.dir, `${name}.pem`),
    keyPath: join(pki.dir, keyFile),
  };
}
