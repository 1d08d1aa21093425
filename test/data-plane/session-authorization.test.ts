// Issue 10 #1–#4: authorization holds for a session's whole life, not only at CONNECT. On the REAL server
// with real certificates (CreateKeysAndCertificate) and mqtt.js clients: a persistent session bound to the
// certificate that opened it; iot:Receive asked when a message goes out (queued, in flight, shared); wills
// authorized when they are published; thing policy variables recomputed when the registry changes; sessions
// of revoked certificates discarded.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DeleteThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  UpdateCertificateCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { connect as mqttConnect } from 'mqtt';
import type { IConnackPacket, MqttClient } from 'mqtt';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, deviceClientOptions, endClient } from '../helpers/device.js';
import type { Device, DeviceConnectOptions } from '../helpers/device.js';
import { iotClient } from '../helpers/iot-clients.js';
import { whyRecords } from '../helpers/why-records.js';

const WAIT_MS = 5_000;

function uniq(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

function arn(server: RunningCertgate, kind: 'topic' | 'topicfilter' | 'client', rest: string): string {
  return `arn:aws:iot:${server.region}:${server.accountId}:${kind}/${rest}`;
}

/** Collects every message a client receives; `until` waits (bounded) for one matching message. */
function collect(client: MqttClient): { readonly all: { topic: string; payload: string }[]; until(topic: string, ms?: number): Promise<boolean> } {
  const all: { topic: string; payload: string }[] = [];
  const waiters: { topic: string; resolve: () => void }[] = [];
  client.on('message', (topic, payload) => {
    all.push({ topic, payload: payload.toString() });
    for (const w of waiters.filter((x) => x.topic === topic)) w.resolve();
  });
  return {
    all,
    until(topic, ms = WAIT_MS) {
      if (all.some((m) => m.topic === topic)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        waiters.push({ topic, resolve: () => (clearTimeout(timer), resolve(true)) });
      });
    },
  };
}

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

/** Publish QoS 1 and resolve with the PUBACK reason code (0 when none given). */
function publish(client: MqttClient, topic: string, payload: string, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<number | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), WAIT_MS);
    client.publish(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false }, (err, packet) => {
      clearTimeout(timer);
      const code = (packet as { reasonCode?: number } | undefined)?.reasonCode ?? (err as { code?: number } | undefined)?.code;
      resolve(code ?? (err == null ? 0 : -1));
    });
  });
}

/** Connect with an inbox attached before CONNACK (resumed messages follow it at once), and the CONNACK. */
function connectWithInbox(device: Device, opts: DeviceConnectOptions): Promise<{ client: MqttClient; connack: IConnackPacket; inbox: ReturnType<typeof collect> }> {
  const client = mqttConnect(deviceClientOptions(server(), device, opts));
  const inbox = collect(client);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (client.end(true), reject(new Error('no CONNACK'))), WAIT_MS);
    client.once('connect', (connack) => (clearTimeout(timer), resolve({ client, connack, inbox })));
    client.once('close', () => (clearTimeout(timer), reject(new Error('refused'))));
  });
}

/** A sentinel published after the messages under test: once it arrives, everything before it was routed. */
async function flushWith(publisher: MqttClient, inbox: ReturnType<typeof collect>, topic: string): Promise<void> {
  assert.equal(await publish(publisher, topic, 'sentinel'), 0);
  assert.equal(await inbox.until(topic), true, `sentinel ${topic} did not arrive`);
}

let running: RunningCertgate | undefined;
const server = (): RunningCertgate => running!;

describe('issue 10: authorization holds for the life of a session', () => {
  let server: RunningCertgate;
  let publisher: Device;
  let pub: MqttClient;

  before(async () => {
    server = await startCertgate();
    running = server;
    publisher = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    pub = await publisher.connect({ protocolVersion: 5 });
  });
  after(async () => {
    if (pub !== undefined) await endClient(pub, true);
    await server?.stop();
  });

  it('issue 10 #1: a persistent session resumed by another certificate starts clean (no queued messages, no subscriptions)', async () => {
    const clientId = uniq('shared-id');
    const topic = uniq('owned');
    const owner = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const other = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const first = await owner.connect({ clientId, clean: false, protocolVersion: 4 });
    assert.deepEqual(await subscribe(first, `${topic}/#`), [1]);
    await endClient(first);
    assert.equal(await publish(pub, `${topic}/queued`, 'for the owner only'), 0);

    const { client, connack, inbox } = await connectWithInbox(other, { clientId, clean: false, protocolVersion: 4 });
    try {
      assert.equal(connack.sessionPresent, false, 'another certificate must not resume the session');
      assert.equal(await publish(pub, `${topic}/live`, 'after the resume'), 0);
      assert.deepEqual(await subscribe(client, 'sentinel/#'), [1]);
      await flushWith(pub, inbox, `sentinel/${topic}`);
      assert.deepEqual(inbox.all.map((m) => m.topic), [`sentinel/${topic}`], 'neither queued messages nor inherited subscriptions');
    } finally {
      await endClient(client, true);
    }
    const records = await whyRecords(server, clientId);
    assert.ok(records.some((r) => r.reasons.some((x) => /session .*opened by another certificate/.test(x))), JSON.stringify(records));
  });

  it('issue 10 #1: a queued message is authorized with iot:Receive when it goes out, not when it was queued', async () => {
    const clientId = uniq('queued');
    const topic = uniq('q');
    const device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const first = await device.connect({ clientId, clean: false, protocolVersion: 4 });
    assert.deepEqual(await subscribe(first, `${topic}/#`), [1]);
    await endClient(first);
    assert.equal(await publish(pub, `${topic}/secret`, 'queued while allowed'), 0);
    // Receive denied after queueing: an explicit Deny attached to the certificate.
    const deny = uniq('deny-receive');
    const iot = iotClient(server);
    await iot.send(new CreatePolicyCommand({
      policyName: deny,
      policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'iot:Receive', Resource: arn(server, 'topic', `${topic}/secret`) }] }),
    }));
    await iot.send(new AttachPolicyCommand({ policyName: deny, target: device.certificateArn }));

    const { client, connack, inbox } = await connectWithInbox(device, { clientId, clean: false, protocolVersion: 4 });
    try {
      assert.equal(connack.sessionPresent, true);
      assert.equal(await publish(pub, `${topic}/open`, 'allowed'), 0);
      assert.equal(await inbox.until(`${topic}/open`), true);
      assert.deepEqual(inbox.all.map((m) => m.topic), [`${topic}/open`], 'the queued message on a now denied topic is not delivered');
    } finally {
      await endClient(client, true);
    }
    const records = await whyRecords(server, clientId);
    assert.ok(records.some((r) => r.kind === 'receive' && r.outcome === 'denied' && r.resource === `${topic}/secret`), JSON.stringify(records));
  });

  it('issue 10 #1: a message in flight is authorized again before it is redelivered with DUP', async () => {
    const clientId = uniq('inflight');
    const topic = uniq('f');
    const device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const first = await device.connect({ clientId, clean: false, protocolVersion: 4 });
    assert.deepEqual(await subscribe(first, `${topic}/#`), [1]);
    // Never acknowledge: the message stays in flight in the session.
    let arrived: () => void = () => undefined;
    const got = new Promise<void>((resolve) => (arrived = resolve));
    first.handleMessage = (_packet, _done) => arrived();
    assert.equal(await publish(pub, `${topic}/secret`, 'in flight'), 0);
    await got;
    first.end(true);
    const deny = uniq('deny-inflight');
    const iot = iotClient(server);
    await iot.send(new CreatePolicyCommand({
      policyName: deny,
      policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'iot:Receive', Resource: arn(server, 'topic', `${topic}/secret`) }] }),
    }));
    await iot.send(new AttachPolicyCommand({ policyName: deny, target: device.certificateArn }));

    const { client, connack, inbox } = await connectWithInbox(device, { clientId, clean: false, protocolVersion: 4 });
    try {
      assert.equal(connack.sessionPresent, true);
      assert.equal(await publish(pub, `${topic}/open`, 'allowed'), 0);
      assert.equal(await inbox.until(`${topic}/open`), true);
      assert.deepEqual(inbox.all.map((m) => m.topic), [`${topic}/open`], 'the in-flight message is not redelivered once Receive is denied');
    } finally {
      await endClient(client, true);
    }
  });

  it('issue 10 #2: a will is authorized when it is published (policy detached after CONNECT: no will)', async () => {
    const topic = uniq('will-detached');
    const device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const watcher = await publisher.connect({ protocolVersion: 5 });
    try {
      const inbox = collect(watcher);
      assert.deepEqual(await subscribe(watcher, `${topic}/#`), [1]);
      assert.deepEqual(await subscribe(watcher, `sentinel/${topic}`), [1]);
      const client = await device.connect({ protocolVersion: 5, will: { topic: `${topic}/gone`, payload: Buffer.from('will'), qos: 1, retain: false } });
      await iotClient(server).send(new DetachPolicyCommand({ policyName: device.policyName!, target: device.certificateArn }));
      // An ungraceful end: without the fix the will authorized at CONNECT is published now.
      client.stream.destroy();
      await new Promise<void>((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
      // The will (if any) is routed before the sentinel of a later publish from another connection is.
      const records = await waitForRecord(server, device.certificateId, (r) => r.kind === 'publish' && r.resource === `${topic}/gone`);
      assert.ok(records, 'the refused will is recorded');
      await flushWith(pub, inbox, `sentinel/${topic}`);
      assert.equal(inbox.all.some((m) => m.topic === `${topic}/gone`), false, 'the will must not be published once its policy is detached');
    } finally {
      await endClient(watcher, true);
    }
  });

  it('issue 10 #2: the will of a connection closed because its certificate was deactivated is not published', async () => {
    const topic = uniq('will-revoked');
    const device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const watcher = await publisher.connect({ protocolVersion: 5 });
    try {
      const inbox = collect(watcher);
      assert.deepEqual(await subscribe(watcher, `${topic}/#`), [1]);
      const client = await device.connect({ protocolVersion: 4, will: { topic: `${topic}/gone`, payload: Buffer.from('will'), qos: 1, retain: false } });
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      await iotClient(server).send(new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'INACTIVE' }));
      await closed;
      await flushWith(pub, inbox, `${topic}/sentinel`);
      assert.equal(inbox.all.some((m) => m.topic === `${topic}/gone`), false, 'no will for a deactivated certificate');
    } finally {
      await endClient(watcher, true);
    }
  });

  it('issue 10 #2: a delayed will (Will Delay Interval) whose certificate is deactivated meanwhile is not published', async () => {
    const topic = uniq('will-delayed');
    const device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const watcher = await publisher.connect({ protocolVersion: 5 });
    try {
      const inbox = collect(watcher);
      assert.deepEqual(await subscribe(watcher, `${topic}/#`), [1]);
      const client = await device.connect({
        protocolVersion: 5,
        clean: false,
        properties: { sessionExpiryInterval: 60 },
        will: { topic: `${topic}/gone`, payload: Buffer.from('will'), qos: 1, retain: false, properties: { willDelayInterval: 1 } },
      });
      client.stream.destroy();
      await new Promise<void>((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
      const iot = iotClient(server);
      await iot.send(new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'INACTIVE' }));
      // Reactivated before the will is due: the revocation still cancelled it.
      await iot.send(new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'ACTIVE' }));
      // A control device whose will has the same delay: once its will arrives, the other one was due too.
      const control = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
      const c2 = await control.connect({
        protocolVersion: 5,
        clean: false,
        properties: { sessionExpiryInterval: 60 },
        will: { topic: `${topic}/control`, payload: Buffer.from('will'), qos: 1, retain: false, properties: { willDelayInterval: 1 } },
      });
      c2.stream.destroy();
      assert.equal(await inbox.until(`${topic}/control`, 10_000), true, 'the control will is published');
      await flushWith(pub, inbox, `${topic}/sentinel`);
      assert.equal(inbox.all.some((m) => m.topic === `${topic}/gone`), false, 'the delayed will of a deactivated certificate is not published');
    } finally {
      await endClient(watcher, true);
    }
  });

  it('issue 10 review #1: a clean-start reconnect publishes the pending delayed will at once instead of cancelling it', async () => {
    const topic = uniq('will-clean-restart');
    const clientId = uniq('clean-restart');
    const device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const watcher = await publisher.connect({ protocolVersion: 5 });
    let again: MqttClient | undefined;
    try {
      const inbox = collect(watcher);
      assert.deepEqual(await subscribe(watcher, `${topic}/#`), [1]);
      const client = await device.connect({
        protocolVersion: 5,
        clientId,
        clean: false,
        properties: { sessionExpiryInterval: 3600 },
        // Due in an hour, unless the session ends first.
        will: { topic: `${topic}/gone`, payload: Buffer.from('will'), qos: 1, retain: false, properties: { willDelayInterval: 3600 } },
      });
      client.stream.destroy();
      await new Promise<void>((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
      // Clean start ends the session: the delayed will is due now [MQTT-3.1.3-9].
      again = await device.connect({ protocolVersion: 5, clientId, clean: true });
      assert.equal(await inbox.until(`${topic}/gone`), true, 'the delayed will is published when the session ends');
    } finally {
      if (again !== undefined) await endClient(again, true);
      await endClient(watcher, true);
    }
  });

  it('issue 10 #3: thing policy variables follow the registry (thing detached, thing deleted, attribute changed)', async () => {
    const thingName = uniq('thing');
    const iot = iotClient(server);
    await iot.send(new CreateThingCommand({ thingName, attributePayload: { attributes: { room: 'red' } } }));
    const device = await createDevice(server, {
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iot:Connect', Resource: arn(server, 'client', '*') },
          { Effect: 'Allow', Action: 'iot:Publish', Resource: [arn(server, 'topic', 'things/${iot:Connection.Thing.ThingName}/*'), arn(server, 'topic', 'rooms/${iot:Connection.Thing.Attributes[room]}')] },
        ],
      },
    });
    await iot.send(new AttachThingPrincipalCommand({ thingName, principal: device.certificateArn }));
    const client = await device.connect({ clientId: thingName, protocolVersion: 5 });
    try {
      assert.equal(await publish(client, `things/${thingName}/state`, 'attached'), 0);
      assert.equal(await publish(client, 'rooms/red', 'in red'), 0);
      await iot.send(new UpdateThingCommand({ thingName, attributePayload: { attributes: { room: 'blue' } } }));
      assert.equal(await publish(client, 'rooms/red', 'no longer red'), 0x87, 'UpdateThing: the old attribute no longer authorizes');
      assert.equal(await publish(client, 'rooms/blue', 'now blue'), 0);
      await iot.send(new DetachThingPrincipalCommand({ thingName, principal: device.certificateArn }));
      assert.equal(await publish(client, `things/${thingName}/state`, 'detached'), 0x87, 'DetachThingPrincipal: the thing no longer authorizes');
      await iot.send(new AttachThingPrincipalCommand({ thingName, principal: device.certificateArn }));
      assert.equal(await publish(client, `things/${thingName}/state`, 'attached again'), 0, 'AttachThingPrincipal applies too');
      await iot.send(new DetachThingPrincipalCommand({ thingName, principal: device.certificateArn }));
      await iot.send(new DeleteThingCommand({ thingName }));
      assert.equal(await publish(client, `things/${thingName}/state`, 'deleted'), 0x87, 'DeleteThing: the thing no longer authorizes');
    } finally {
      await endClient(client, true);
    }
  });

  it("issue 10 #4: a deactivated certificate's offline persistent session is discarded (nothing queued for it)", async () => {
    const clientId = uniq('revoked-session');
    const topic = uniq('r');
    const device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const first = await device.connect({ clientId, clean: false, protocolVersion: 4 });
    assert.deepEqual(await subscribe(first, `${topic}/#`), [1]);
    await endClient(first);
    const iot = iotClient(server);
    await iot.send(new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'INACTIVE' }));
    assert.equal(await publish(pub, `${topic}/while-inactive`, 'must not be kept'), 0);
    await iot.send(new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'ACTIVE' }));
    const { client, connack, inbox } = await connectWithInbox(device, { clientId, clean: false, protocolVersion: 4 });
    try {
      assert.equal(connack.sessionPresent, false, 'the session of a deactivated certificate was discarded');
      assert.deepEqual(await subscribe(client, `sentinel/${topic}`), [1]);
      await flushWith(pub, inbox, `sentinel/${topic}`);
      assert.deepEqual(inbox.all.map((m) => m.topic), [`sentinel/${topic}`]);
    } finally {
      await endClient(client, true);
    }
  });

  it('issue 10 #4: $share chooses only among members allowed to receive (a denied member does not lose messages)', async () => {
    const topic = uniq('shared');
    const allowed = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const denied = await createDevice(server, {
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' },
          { Effect: 'Deny', Action: 'iot:Receive', Resource: arn(server, 'topic', `${topic}/*`) },
        ],
      },
    });
    const a = await allowed.connect({ protocolVersion: 5, clientId: uniq('a') });
    const d = await denied.connect({ protocolVersion: 5, clientId: uniq('d') });
    try {
      const inA = collect(a);
      assert.deepEqual(await subscribe(a, `$share/g/${topic}/#`), [1]);
      assert.deepEqual(await subscribe(d, `$share/g/${topic}/#`), [1]);
      const n = 6;
      for (let i = 0; i < n; i++) assert.equal(await publish(pub, `${topic}/${i}`, String(i)), 0);
      for (let i = 0; i < n; i++) assert.equal(await inA.until(`${topic}/${i}`), true, `message ${i} reached the allowed member`);
    } finally {
      await endClient(a, true);
      await endClient(d, true);
    }
  });
});

/** Polls `certgate why` (bounded) until a record matches. */
async function waitForRecord(server: RunningCertgate, id: string, match: (r: { kind: string; resource?: string; outcome: string }) => boolean): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    const records = await whyRecords(server, id);
    if (records.some(match)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

describe('issue 10 #3: the periodic re-check refreshes thing policy variables changed without an event', () => {
  let server: RunningCertgate;
  let other: RunningCertgate;

  before(async () => {
    server = await startCertgate({ args: ['--registry-cache-ttl', '1'] });
    // A second process on the same data dir: its API writes the store, but its registry events stay in it.
    other = await startCertgate({ dataDir: server.dataDir });
  });
  after(async () => {
    await other?.stop();
    await server?.stop();
  });

  it('a thing detached through another process stops authorizing a live connection within a few re-check periods', async () => {
    const thingName = uniq('thing');
    await iotClient(server).send(new CreateThingCommand({ thingName }));
    const device = await createDevice(server, {
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iot:Connect', Resource: arn(server, 'client', '*') },
          { Effect: 'Allow', Action: 'iot:Publish', Resource: arn(server, 'topic', 'things/${iot:Connection.Thing.ThingName}/*') },
        ],
      },
    });
    await iotClient(server).send(new AttachThingPrincipalCommand({ thingName, principal: device.certificateArn }));
    const client = await device.connect({ clientId: thingName, protocolVersion: 5 });
    try {
      assert.equal(await publish(client, `things/${thingName}/state`, 'attached'), 0);
      await iotClient(other).send(new DetachThingPrincipalCommand({ thingName, principal: device.certificateArn }));
      let code: number | undefined = 0;
      // Bounded: about ten re-check periods.
      for (let i = 0; i < 40 && code === 0; i++) {
        await new Promise((r) => setTimeout(r, 250));
        code = await publish(client, `things/${thingName}/state`, `try ${i}`);
      }
      assert.equal(code, 0x87, 'the re-check read the detached thing: publishing on its topic is denied');
    } finally {
      await endClient(client, true);
    }
  });
});
