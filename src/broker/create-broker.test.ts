import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import type { IConnackPacket, IDisconnectPacket, MqttClient } from 'mqtt';
import { ALLOW_ALL, closedOf, inbox, startHarness } from './test-support/broker-test-harness.js';
import type { Harness } from './test-support/broker-test-harness.js';
import { rawClient } from './test-support/raw-mqtt-client.js';

/**
 * Protocol tests of the broker through handle(): real mqtt.js clients (and a byte-level peer for what
 * mqtt.js refuses to send) over plain TCP on 127.0.0.1, a test DeviceAccess evaluating real policies.
 */
const ACCOUNT_A = '111111111111';
const ACCOUNT_B = '222222222222';
const BOB_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: `arn:aws:iot:*:*:client/bob-*` },
    { Effect: 'Allow', Action: 'iot:Publish', Resource: `arn:aws:iot:*:*:topic/bob/*` },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: [`arn:aws:iot:*:*:topicfilter/bob/*`, `arn:aws:iot:*:*:topicfilter/open/*`] },
    { Effect: 'Allow', Action: 'iot:Receive', Resource: `arn:aws:iot:*:*:topic/bob/*` },
  ],
};

let h: Harness;
before(async () => {
  h = await startHarness([
    { name: 'alice', accountId: ACCOUNT_A, policies: [ALLOW_ALL] },
    { name: 'bob', accountId: ACCOUNT_A, policies: [BOB_POLICY] },
    { name: 'carol', accountId: ACCOUNT_B, policies: [ALLOW_ALL] },
    { name: 'dave', accountId: ACCOUNT_A, policies: [ALLOW_ALL] },
  ]);
});
after(async () => {
  await h.close();
});

/** Connects and returns the CONNACK; the inbox is attached before CONNACK, so queued messages are not missed. */
function connackOf(url: string, options: mqtt.IClientOptions): Promise<{ client: MqttClient; connack: IConnackPacket; box: ReturnType<typeof inbox> }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    const box = inbox(client);
    client.once('connect', (connack) => resolve({ client, connack, box }));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

const disconnectOf = (client: MqttClient): Promise<IDisconnectPacket> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no DISCONNECT in time')), 3000);
    client.once('disconnect', (p) => {
      clearTimeout(t);
      resolve(p);
    });
  });

describe('CONNECT / CONNACK', () => {
  it('MQTT 5 CONNACK carries AWS IoT properties; keep-alive 0 → Server Keep Alive 1200', async () => {
    const { client, connack } = await connackOf(h.url('alice'), { protocolVersion: 5, clientId: 'p5', keepalive: 0 });
    assert.equal(connack.reasonCode, 0);
    assert.equal(connack.sessionPresent, false);
    const p = connack.properties!;
    assert.equal(p.maximumQoS, 1);
    assert.equal(p.retainAvailable, true);
    assert.equal(p.sharedSubscriptionAvailable, true);
    assert.equal(p.subscriptionIdentifiersAvailable, false);
    assert.equal(p.wildcardSubscriptionAvailable, true);
    assert.equal(p.topicAliasMaximum, 8);
    assert.ok((p.maximumPacketSize ?? 0) > 128 * 1024);
    assert.equal(p.serverKeepAlive, 1200);
    await client.endAsync();
  });

  it('keep-alive 5 is clamped to 30 (Server Keep Alive)', async () => {
    const { client, connack } = await connackOf(h.url('alice'), { protocolVersion: 5, clientId: 'ka5', keepalive: 5 });
    assert.equal(connack.properties?.serverKeepAlive, 30);
    await client.endAsync();
  });

  it('MQTT 3.1.1 CONNACK accepted; the SDK-metrics username and a password are ignored', async () => {
    const { client, connack } = await connackOf(h.url('alice'), { protocolVersion: 4, clientId: 'p4', username: '?SDK=JavaScript&Version=1.0', password: 'x' });
    assert.equal(connack.returnCode, 0);
    await client.endAsync();
  });

  it('refused admission: MQTT 5 gets CONNACK 0x87, and the reason is in the access log and the logger', async () => {
    await assert.rejects(connackOf(h.url('unknown'), { protocolVersion: 5, clientId: 'x' }), (err: Error & { code?: number }) => err.code === 0x87);
    const rec = h.accessLog.records.find((r) => r.kind === 'admission' && r.outcome === 'denied');
    assert.ok(rec);
    assert.match(rec.reasons.join(' '), /UNKNOWN_CERTIFICATE: test: certificate of unknown is not registered/);
    assert.ok(h.warnings.some((w) => (w as { refusal?: string }).refusal === 'UNKNOWN_CERTIFICATE'));
  });

  it('refused admission: MQTT 3.1.1 is closed without CONNACK', async () => {
    const raw = await rawClient(h.url('unknown'), 4);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'x', clean: true, keepalive: 60 });
    await raw.closed();
    assert.deepEqual(raw.received, []);
  });

  it('iot:Connect denied: MQTT 5 CONNACK 0x87; 3.1.1 closed without CONNACK; recorded', async () => {
    await assert.rejects(connackOf(h.url('bob'), { protocolVersion: 5, clientId: 'mallory' }), (err: Error & { code?: number }) => err.code === 0x87);
    const raw = await rawClient(h.url('bob'), 4);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'mallory4', clean: true, keepalive: 60 });
    await raw.closed();
    assert.deepEqual(raw.received, []);
    const rec = h.accessLog.records.find((r) => r.kind === 'connect' && r.clientId === 'mallory4');
    assert.equal(rec?.outcome, 'denied');
    assert.equal(rec?.resource, 'client/mallory4');
  });

  it('client id rules: empty → v5 gets an assigned id, 3.1.1 identifier rejected (2); "$x" → rejected; 129 bytes → rejected', async () => {
    const v5 = await connackOf(h.url('alice'), { protocolVersion: 5, clientId: '' });
    assert.equal(v5.connack.reasonCode, 0);
    assert.match(String(v5.connack.properties?.assignedClientIdentifier), /^certgate-[0-9a-f-]{36}$/);
    v5.client.end(true);
    await assert.rejects(connackOf(h.url('alice'), { protocolVersion: 4, clientId: '' }), (err: Error & { code?: number }) => err.code === 2);
    await assert.rejects(connackOf(h.url('alice'), { protocolVersion: 4, clientId: '$x' }), (err: Error & { code?: number }) => err.code === 2);
    await assert.rejects(connackOf(h.url('alice'), { protocolVersion: 4, clientId: 'c'.repeat(129) }), (err: Error & { code?: number }) => err.code === 2);
  });

  it('a packet before CONNECT closes the connection [MQTT-3.1.0-1]; a second CONNECT too [MQTT-3.1.0-2]', async () => {
    const first = await rawClient(h.url('alice'), 4);
    first.send({ cmd: 'pingreq' });
    await first.closed();
    assert.deepEqual(first.received, []);
    const second = await rawClient(h.url('alice'), 4);
    second.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'twice', clean: true, keepalive: 60 });
    assert.equal((await second.next()).cmd, 'connack');
    second.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'twice', clean: true, keepalive: 60 });
    await second.closed();
  });
});

describe('PUBLISH / SUBSCRIBE', () => {
  it('QoS 0 and 1 between a 3.1.1 and a 5 client; QoS = min(publish, subscription)', async () => {
    const sub = await h.connect('alice', { protocolVersion: 5, clientId: 'sub-a' });
    const box = inbox(sub);
    const granted = await sub.subscribeAsync({ 'ps/q0': { qos: 0 }, 'ps/q1': { qos: 1 }, 'ps/q2': { qos: 2 } });
    assert.deepEqual(granted.map((g) => g.qos), [0, 1, 1]); // QoS 2 requested → granted 1 (AWS IoT)
    const pub = await h.connect('alice', { protocolVersion: 4, clientId: 'pub-a' });
    await pub.publishAsync('ps/q0', 'zero', { qos: 1 });
    await pub.publishAsync('ps/q1', 'one', { qos: 1 });
    await pub.publishAsync('ps/q2', 'two', { qos: 0 });
    const got = [await box.next(), await box.next(), await box.next()];
    assert.deepEqual(got.map((m) => [m.topic, m.payload, m.packet.qos]), [
      ['ps/q0', 'zero', 0],
      ['ps/q1', 'one', 1],
      ['ps/q2', 'two', 0],
    ]);
    await pub.endAsync();
    await sub.endAsync();
  });

  it('MQTT 5 properties pass through: user properties, response topic, correlation data, content type', async () => {
    const sub = await h.connect('alice', { protocolVersion: 5, clientId: 'props-sub' });
    const box = inbox(sub);
    await sub.subscribeAsync('props/x', { qos: 1 });
    const pub = await h.connect('alice', { protocolVersion: 5, clientId: 'props-pub' });
    await pub.publishAsync('props/x', 'p', {
      qos: 1,
      properties: { userProperties: { a: '1' }, responseTopic: 'reply/here', correlationData: Buffer.from('c0ffee'), contentType: 'text/plain' },
    });
    const m = await box.next();
    assert.deepEqual({ ...m.packet.properties?.userProperties }, { a: '1' });
    assert.equal(m.packet.properties?.responseTopic, 'reply/here');
    assert.equal(m.packet.properties?.correlationData?.toString(), 'c0ffee');
    assert.equal(m.packet.properties?.contentType, 'text/plain');
    await pub.endAsync();
    await sub.endAsync();
  });

  it('denied publish on MQTT 5: PUBACK 0x87 for QoS 1, the connection stays up; recorded', async () => {
    const bob = await h.connect('bob', { protocolVersion: 5, clientId: 'bob-5' });
    await assert.rejects(bob.publishAsync('alice/secret', 'x', { qos: 1 }), /135|Not authorized/i);
    assert.equal(bob.connected, true);
    await bob.publishAsync('bob/ok', 'fine', { qos: 1 });
    const rec = h.accessLog.records.find((r) => r.kind === 'publish' && r.clientId === 'bob-5');
    assert.equal(rec?.outcome, 'denied');
    assert.equal(rec?.resource, 'alice/secret');
    await bob.endAsync();
  });

  it('denied publish on MQTT 3.1.1 closes the connection (disconnectReason FORBIDDEN_ACCESS)', async () => {
    const watcher = await h.connect('alice', { protocolVersion: 5, clientId: 'watch-forbidden' });
    const box = inbox(watcher);
    await watcher.subscribeAsync('$aws/events/presence/disconnected/bob-4', { qos: 1 });
    const bob = await h.connect('bob', { protocolVersion: 4, clientId: 'bob-4' });
    const closed = closedOf(bob);
    bob.publish('alice/secret', 'x', { qos: 1 });
    await closed;
    const ev = JSON.parse((await box.next()).payload) as Record<string, unknown>;
    assert.equal(ev.disconnectReason, 'FORBIDDEN_ACCESS');
    assert.equal(ev.clientInitiatedDisconnect, false);
    assert.ok(h.accessLog.records.some((r) => r.kind === 'disconnect' && r.clientId === 'bob-4' && r.outcome === 'denied'));
    await watcher.endAsync();
  });

  it('denied subscribe: SUBACK 0x80 (3.1.1) / 0x87 (5) for that filter only; recorded', async () => {
    for (const [version, code] of [[4, 0x80], [5, 0x87]] as const) {
      const raw = await rawClient(h.url('bob'), version);
      raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId: `bob-s${version}`, clean: true, keepalive: 60 });
      assert.equal((await raw.next()).cmd, 'connack');
      raw.send({ cmd: 'subscribe', messageId: 9, subscriptions: [{ topic: 'alice/#', qos: 1 }, { topic: 'bob/x', qos: 1 }, { topic: 'bob/+/#', qos: 0 }] });
      const suback = await raw.next();
      assert.ok(suback.cmd === 'suback');
      assert.deepEqual(suback.granted, [code, 1, 0]);
      raw.send({ cmd: 'disconnect' });
      await raw.closed();
    }
    assert.ok(h.accessLog.records.some((r) => r.kind === 'subscribe' && r.outcome === 'denied' && r.resource === 'alice/#' && r.clientId === 'bob-s5'));
  });

  it('iot:Receive denied → silently not delivered (and recorded), while allowed topics still arrive', async () => {
    const bob = await h.connect('bob', { protocolVersion: 4, clientId: 'bob-r' });
    const box = inbox(bob);
    await bob.subscribeAsync(['open/x', 'bob/y'], { qos: 1 });
    const alice = await h.connect('alice', { protocolVersion: 4, clientId: 'alice-r' });
    await alice.publishAsync('open/x', 'not for bob', { qos: 1 });
    await alice.publishAsync('bob/y', 'for bob', { qos: 1 });
    const m = await box.next();
    assert.equal(m.topic, 'bob/y');
    assert.deepEqual(box.all.map((r) => r.topic), ['bob/y']);
    assert.ok(h.accessLog.records.some((r) => r.kind === 'receive' && r.clientId === 'bob-r' && r.resource === 'open/x'));
    await alice.endAsync();
    await bob.endAsync();
  });

  it('clients may not publish on $aws/events/ (reserved)', async () => {
    const c = await h.connect('alice', { protocolVersion: 5, clientId: 'reserved-pub' });
    await assert.rejects(c.publishAsync('$aws/events/presence/connected/fake', '{}', { qos: 1 }), /135|Not authorized/i);
    await c.endAsync();
  });

  it('retained: stored per topic, delivered on subscribe with RETAIN, an empty payload clears', async () => {
    const pub = await h.connect('alice', { protocolVersion: 4, clientId: 'ret-pub' });
    await pub.publishAsync('ret/a', 'kept', { qos: 1, retain: true });
    const s1 = await h.connect('alice', { protocolVersion: 5, clientId: 'ret-s1' });
    const b1 = inbox(s1);
    await s1.subscribeAsync('ret/+', { qos: 1 });
    const m = await b1.next();
    assert.equal(m.payload, 'kept');
    assert.equal(m.packet.retain, true);
    await pub.publishAsync('ret/a', '', { qos: 1, retain: true });
    // The live empty message reaches the existing subscriber; a new subscriber gets nothing retained.
    assert.equal((await b1.next()).payload, '');
    await pub.publishAsync('ret/sentinel', 'last', { qos: 1, retain: true });
    const s2 = await h.connect('alice', { protocolVersion: 5, clientId: 'ret-s2' });
    const b2 = inbox(s2);
    await s2.subscribeAsync('ret/+', { qos: 1 });
    assert.equal((await b2.next()).topic, 'ret/sentinel');
    assert.deepEqual(b2.all.map((r) => r.topic), ['ret/sentinel']);
    await pub.publishAsync('ret/sentinel', '', { qos: 1, retain: true });
    for (const c of [pub, s1, s2]) await c.endAsync();
  });

  it('shared subscription $share/g/f: round robin among members', async () => {
    const s1 = await h.connect('alice', { protocolVersion: 5, clientId: 'share-1' });
    const s2 = await h.connect('alice', { protocolVersion: 5, clientId: 'share-2' });
    const b1 = inbox(s1);
    const b2 = inbox(s2);
    await s1.subscribeAsync('$share/g/work/#', { qos: 1 });
    await s2.subscribeAsync('$share/g/work/#', { qos: 1 });
    const pub = await h.connect('alice', { protocolVersion: 5, clientId: 'share-pub' });
    for (let i = 0; i < 4; i++) await pub.publishAsync(`work/${i}`, String(i), { qos: 1 });
    const got = [await b1.next(), await b1.next(), await b2.next(), await b2.next()];
    assert.deepEqual(got.map((m) => m.payload).sort(), ['0', '1', '2', '3']);
    assert.equal(b1.all.length, 2);
    assert.equal(b2.all.length, 2);
    for (const c of [pub, s1, s2]) await c.endAsync();
  });

  it('inbound topic alias (MQTT 5): the alias set by one PUBLISH resolves the next', async () => {
    const sub = await h.connect('alice', { protocolVersion: 5, clientId: 'alias-sub' });
    const box = inbox(sub);
    await sub.subscribeAsync('alias/topic', { qos: 1 });
    const raw = await rawClient(h.url('alice'), 5);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'alias-pub', clean: true, keepalive: 60 });
    assert.equal((await raw.next()).cmd, 'connack');
    raw.send({ cmd: 'publish', topic: 'alias/topic', payload: Buffer.from('first'), qos: 1, messageId: 1, retain: false, dup: false, properties: { topicAlias: 3 } });
    raw.send({ cmd: 'publish', topic: '', payload: Buffer.from('second'), qos: 1, messageId: 2, retain: false, dup: false, properties: { topicAlias: 3 } });
    assert.deepEqual([await box.next(), await box.next()].map((m) => [m.topic, m.payload]), [
      ['alias/topic', 'first'],
      ['alias/topic', 'second'],
    ]);
    raw.send({ cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 5 } });
    let d = await raw.next();
    while (d.cmd === 'puback') d = await raw.next();
    assert.equal(d.cmd, 'disconnect');
    assert.equal((d as IDisconnectPacket).reasonCode, 0x82); // unknown alias: protocol error
    await raw.closed();
    await sub.endAsync();
  });
});

describe('MQTT 5 subscription options and limits', () => {
  it('No Local: a client does not get its own messages back [MQTT-3.8.3-3]', async () => {
    const c = await h.connect('alice', { protocolVersion: 5, clientId: 'nolocal' });
    const box = inbox(c);
    await c.subscribeAsync('nl/#', { qos: 1, nl: true });
    await c.subscribeAsync('nl2/#', { qos: 1 });
    await c.publishAsync('nl/self', 'mine', { qos: 1 });
    await c.publishAsync('nl2/self', 'echo', { qos: 1 });
    assert.equal((await box.next()).topic, 'nl2/self');
    assert.deepEqual(box.all.map((m) => m.topic), ['nl2/self']);
    await c.endAsync();
  });

  it('Retain Handling 2 sends no retained messages; Retain As Published keeps RETAIN on live messages', async () => {
    const pub = await h.connect('alice', { protocolVersion: 5, clientId: 'rh-pub' });
    await pub.publishAsync('rh/a', 'kept', { qos: 1, retain: true });
    const c = await h.connect('alice', { protocolVersion: 5, clientId: 'rh-sub' });
    const box = inbox(c);
    await c.subscribeAsync('rh/#', { qos: 1, rh: 2, rap: true });
    await pub.publishAsync('rh/b', 'live', { qos: 1, retain: true });
    const m = await box.next();
    assert.deepEqual([m.topic, m.packet.retain], ['rh/b', true]);
    assert.deepEqual(box.all.map((r) => r.topic), ['rh/b']);
    const plain = await h.connect('alice', { protocolVersion: 5, clientId: 'rh-plain' });
    const pbox = inbox(plain);
    await plain.subscribeAsync('rh/b', { qos: 1 });
    assert.equal((await pbox.next()).packet.retain, true); // retained on subscribe [MQTT-3.3.1-9]
    await pub.publishAsync('rh/b', 'live2', { qos: 1 });
    const live = await pbox.next();
    assert.deepEqual([live.payload, live.packet.retain], ['live2', false]); // live message: RETAIN 0 [MQTT-3.3.1-12]
    await pub.publishAsync('rh/a', '', { qos: 1, retain: true });
    await pub.publishAsync('rh/b', '', { qos: 1, retain: true });
    for (const x of [pub, c, plain]) await x.endAsync();
  });

  it('more than 8 filters in one SUBSCRIBE: every filter refused (AWS limit); UNSUBSCRIBE answers per filter', async () => {
    const raw = await rawClient(h.url('alice'), 5);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'nine', clean: true, keepalive: 60 });
    assert.equal((await raw.next()).cmd, 'connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: Array.from({ length: 9 }, (_, i) => ({ topic: `f/${i}`, qos: 0 as const })) });
    const suback = await raw.next();
    assert.ok(suback.cmd === 'suback');
    assert.deepEqual(suback.granted, Array(9).fill(0x97));
    raw.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'f/ok', qos: 1 }, { topic: 'f/#/bad', qos: 1 }] });
    const second = await raw.next();
    assert.ok(second.cmd === 'suback');
    assert.deepEqual(second.granted, [1, 0x8f]);
    raw.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['f/ok', 'f/never'] });
    const unsuback = await raw.next();
    assert.ok(unsuback.cmd === 'unsuback');
    assert.deepEqual(unsuback.granted, [0x00, 0x11]);
    raw.send({ cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'f/x', qos: 1 }], properties: { subscriptionIdentifier: 5 } });
    const d = await raw.next();
    assert.ok(d.cmd === 'disconnect');
    assert.equal(d.reasonCode, 0xa1); // Subscription Identifiers not supported (CONNACK said so)
    await raw.closed();
  });

  it('enhanced authentication is not supported: CONNECT with an Authentication Method → CONNACK 0x8C', async () => {
    const raw = await rawClient(h.url('alice'), 5);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'enh', clean: true, keepalive: 60, properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    const connack = await raw.next();
    assert.ok(connack.cmd === 'connack');
    assert.equal(connack.reasonCode, 0x8c);
    await raw.closed();
  });

  it('packets sent right behind CONNECT (same write) are handled after it, in order', async () => {
    const raw = await rawClient(h.url('alice'), 5);
    const mqttPacket = (await import('mqtt-packet')).default;
    const bytes = Buffer.concat([
      mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'eager', clean: true, keepalive: 60 }, { protocolVersion: 5 }),
      mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'eager/x', qos: 1 }] }, { protocolVersion: 5 }),
      mqttPacket.generate({ cmd: 'publish', topic: 'eager/x', payload: Buffer.from('me'), qos: 1, messageId: 2, retain: false, dup: false }, { protocolVersion: 5 }),
    ]);
    raw.sendBytes(bytes);
    const cmds: string[] = [];
    for (let i = 0; i < 4; i++) cmds.push((await raw.next()).cmd);
    assert.deepEqual(cmds.slice(0, 2), ['connack', 'suback']);
    assert.deepEqual(cmds.slice(2).sort(), ['puback', 'publish']);
    raw.send({ cmd: 'disconnect', reasonCode: 0 });
    await raw.closed();
  });

  it('PINGREQ → PINGRESP; MQTT 3.1 (protocol level 3) is refused with return code 1', async () => {
    const raw = await rawClient(h.url('alice'), 4);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'pinger', clean: true, keepalive: 60 });
    assert.equal((await raw.next()).cmd, 'connack');
    raw.send({ cmd: 'pingreq' });
    assert.equal((await raw.next()).cmd, 'pingresp');
    raw.send({ cmd: 'disconnect' });
    await raw.closed();
    const old = await rawClient(h.url('alice'), 4);
    old.send({ cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clientId: 'old', clean: true, keepalive: 60 });
    const connack = await old.next();
    assert.ok(connack.cmd === 'connack');
    assert.equal(connack.returnCode, 1);
    await old.closed();
  });
});

describe('malformed and unsupported input', () => {
  it('QoS 2 PUBLISH on MQTT 5 → DISCONNECT 0x9B; on 3.1.1 → closed', async () => {
    const r5 = await rawClient(h.url('alice'), 5);
    r5.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'q2-5', clean: true, keepalive: 60 });
    assert.equal((await r5.next()).cmd, 'connack');
    r5.send({ cmd: 'publish', topic: 'q/2', payload: Buffer.from('x'), qos: 2, messageId: 7, retain: false, dup: false });
    const d = (await r5.next()) as IDisconnectPacket;
    assert.equal(d.cmd, 'disconnect');
    assert.equal(d.reasonCode, 0x9b);
    await r5.closed();
    const r4 = await rawClient(h.url('alice'), 4);
    r4.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'q2-4', clean: true, keepalive: 60 });
    assert.equal((await r4.next()).cmd, 'connack');
    r4.send({ cmd: 'publish', topic: 'q/2', payload: Buffer.from('x'), qos: 2, messageId: 7, retain: false, dup: false });
    await r4.closed();
    assert.equal(r4.received.length, 1); // no PUBREC, no PUBACK
  });

  it('payload over 128 KiB → closed (v5 DISCONNECT 0x95) while another client keeps working', async () => {
    const other = await h.connect('alice', { protocolVersion: 4, clientId: 'bystander' });
    const box = inbox(other);
    await other.subscribeAsync('big/#', { qos: 1 });
    const r5 = await rawClient(h.url('alice'), 5);
    r5.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'big-5', clean: true, keepalive: 60 });
    assert.equal((await r5.next()).cmd, 'connack');
    r5.send({ cmd: 'publish', topic: 'big/x', payload: Buffer.alloc(128 * 1024 + 1), qos: 1, messageId: 1, retain: false, dup: false });
    const d = (await r5.next()) as IDisconnectPacket;
    assert.equal(d.reasonCode, 0x95);
    await r5.closed();
    const big4 = await h.connect('alice', { protocolVersion: 4, clientId: 'big-4' });
    const closed = closedOf(big4);
    big4.publish('big/x', Buffer.alloc(200 * 1024), { qos: 0 });
    await closed;
    await other.publishAsync('big/small', 'still fine', { qos: 1 });
    const m = await box.next();
    assert.equal(m.payload, 'still fine');
    assert.equal(box.all.length, 1);
    await other.endAsync();
  });

  it('garbage bytes → closed cleanly (before and after CONNECT); the broker keeps serving', async () => {
    const before = await rawClient(h.url('alice'), 4);
    before.sendBytes(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]));
    await before.closed();
    const after5 = await rawClient(h.url('alice'), 5);
    after5.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'garbage-5', clean: true, keepalive: 60 });
    assert.equal((await after5.next()).cmd, 'connack');
    after5.sendBytes(Buffer.from([0x30, 0x02, 0xff, 0xff])); // PUBLISH whose topic length overruns the packet
    await after5.closed();
    const ok = await h.connect('alice', { protocolVersion: 5, clientId: 'after-garbage' });
    assert.equal(ok.connected, true);
    await ok.endAsync();
  });
});

describe('sessions, wills, takeover', () => {
  it('will published on ungraceful close; not on DISCONNECT; a denied will is not published (recorded)', async () => {
    const watcher = await h.connect('alice', { protocolVersion: 4, clientId: 'will-watch' });
    const box = inbox(watcher);
    await watcher.subscribeAsync('will/#', { qos: 1 });
    const graceful = await h.connect('alice', { protocolVersion: 4, clientId: 'will-graceful', will: { topic: 'will/graceful', payload: Buffer.from('g'), qos: 1, retain: false } });
    await graceful.endAsync();
    const denied = await h.connect('bob', { protocolVersion: 4, clientId: 'bob-will', will: { topic: 'will/bob', payload: Buffer.from('b'), qos: 1, retain: false } });
    denied.stream.destroy();
    await closedOf(denied);
    const dying = await h.connect('alice', { protocolVersion: 4, clientId: 'will-dying', will: { topic: 'will/dying', payload: Buffer.from('bye'), qos: 1, retain: false } });
    dying.stream.destroy();
    const m = await box.next();
    assert.deepEqual([m.topic, m.payload], ['will/dying', 'bye']);
    assert.deepEqual(box.all.map((r) => r.topic), ['will/dying']);
    assert.ok(h.accessLog.records.some((r) => r.kind === 'publish' && r.clientId === 'bob-will' && r.reasons.some((x) => /last will/.test(x))));
    await watcher.endAsync();
  });

  it('MQTT 5 DISCONNECT 0x04 publishes the will', async () => {
    const watcher = await h.connect('alice', { protocolVersion: 5, clientId: 'will4-watch' });
    const box = inbox(watcher);
    await watcher.subscribeAsync('will4/#', { qos: 1 });
    const c = await h.connect('alice', { protocolVersion: 5, clientId: 'will4', will: { topic: 'will4/x', payload: Buffer.from('w'), qos: 0, retain: false } });
    await c.endAsync({ reasonCode: 4 });
    assert.equal((await box.next()).topic, 'will4/x');
    await watcher.endAsync();
  });

  it('persistent session (clean session 0): subscriptions and QoS 1 messages kept while offline, session present on return', async () => {
    const first = await h.connect('alice', { protocolVersion: 4, clientId: 'persist-4', clean: false });
    await first.subscribeAsync('persist/#', { qos: 1 });
    await first.endAsync();
    const pub = await h.connect('alice', { protocolVersion: 4, clientId: 'persist-pub' });
    for (const n of ['1', '2', '3']) await pub.publishAsync('persist/m', n, { qos: 1 });
    await pub.publishAsync('persist/m', 'q0 dropped while offline', { qos: 0 });
    const { client, connack, box } = await connackOf(h.url('alice'), { protocolVersion: 4, clientId: 'persist-4', clean: false });
    assert.equal(connack.sessionPresent, true);
    const got = [await box.next(), await box.next(), await box.next()];
    assert.deepEqual(got.map((m) => m.payload), ['1', '2', '3']);
    await client.endAsync();
    const { client: clean, connack: c2 } = await connackOf(h.url('alice'), { protocolVersion: 4, clientId: 'persist-4', clean: true });
    assert.equal(c2.sessionPresent, false);
    await clean.endAsync();
    await pub.endAsync();
  });

  it('unacknowledged QoS 1 messages are redelivered with DUP after reconnect [MQTT-4.4.0-1]', async () => {
    const raw = await rawClient(h.url('alice'), 4);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'dup-4', clean: false, keepalive: 60 });
    assert.equal((await raw.next()).cmd, 'connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'dup/x', qos: 1 }] });
    assert.equal((await raw.next()).cmd, 'suback');
    const pub = await h.connect('alice', { protocolVersion: 4, clientId: 'dup-pub' });
    await pub.publishAsync('dup/x', 'unacked', { qos: 1 });
    const first = await raw.next();
    assert.equal(first.cmd, 'publish');
    raw.socket.destroy(); // no PUBACK
    await raw.closed();
    const again = await rawClient(h.url('alice'), 4);
    again.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'dup-4', clean: false, keepalive: 60 });
    const connack = await again.next();
    assert.equal(connack.cmd === 'connack' && connack.sessionPresent, true);
    const redelivered = await again.next();
    assert.ok(redelivered.cmd === 'publish');
    assert.equal(redelivered.dup, true);
    assert.equal(redelivered.payload.toString(), 'unacked');
    again.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'dup-4', clean: true, keepalive: 60 });
    await again.closed();
    await pub.endAsync();
  });

  it('message expiry: expired messages are dropped, others carry the time left', async () => {
    const first = await h.connect('alice', { protocolVersion: 5, clientId: 'expiry-5', clean: false, properties: { sessionExpiryInterval: 600 } });
    await first.subscribeAsync('exp/#', { qos: 1 });
    await first.endAsync();
    const pub = await h.connect('alice', { protocolVersion: 5, clientId: 'expiry-pub' });
    await pub.publishAsync('exp/short', 's', { qos: 1, properties: { messageExpiryInterval: 10 } });
    await pub.publishAsync('exp/long', 'l', { qos: 1, properties: { messageExpiryInterval: 100 } });
    h.clock.advance(20_000);
    try {
      const { client, connack, box } = await connackOf(h.url('alice'), { protocolVersion: 5, clientId: 'expiry-5', clean: false, properties: { sessionExpiryInterval: 600 } });
      assert.equal(connack.sessionPresent, true);
      const m = await box.next();
      assert.equal(m.topic, 'exp/long');
      const left = m.packet.properties?.messageExpiryInterval ?? 0;
      assert.ok(left > 0 && left <= 80, `time left ${left}`);
      await pub.publishAsync('exp/sentinel', 'x', { qos: 1 });
      assert.equal((await box.next()).topic, 'exp/sentinel');
      assert.deepEqual(box.all.map((r) => r.topic), ['exp/long', 'exp/sentinel']);
      await client.endAsync();
    } finally {
      h.clock.advance(-20_000);
    }
    await pub.endAsync();
  });

  it('takeover: the same client id closes the older connection (v5 DISCONNECT 0x8E, DUPLICATE_CLIENTID)', async () => {
    const watcher = await h.connect('alice', { protocolVersion: 5, clientId: 'take-watch' });
    const box = inbox(watcher);
    await watcher.subscribeAsync('$aws/events/presence/disconnected/taken', { qos: 1 });
    const old = await h.connect('alice', { protocolVersion: 5, clientId: 'taken' });
    const disc = disconnectOf(old);
    const fresh = await h.connect('alice', { protocolVersion: 5, clientId: 'taken' });
    assert.equal((await disc).reasonCode, 0x8e);
    const ev = JSON.parse((await box.next()).payload) as Record<string, unknown>;
    assert.equal(ev.disconnectReason, 'DUPLICATE_CLIENTID');
    assert.equal(fresh.connected, true);
    await fresh.endAsync();
    await watcher.endAsync();
  });
});

describe('namespaces and lifecycle events', () => {
  it('accounts are isolated: topics, retained messages and client ids', async () => {
    const carol = await h.connect('carol', { protocolVersion: 5, clientId: 'shared-id' });
    const box = inbox(carol);
    await carol.subscribeAsync('#', { qos: 1 });
    await carol.subscribeAsync('$aws/events/#', { qos: 1 });
    const alice = await h.connect('alice', { protocolVersion: 5, clientId: 'shared-id' }); // same id, other account: no takeover
    await alice.publishAsync('iso/a', 'alice', { qos: 1, retain: true });
    await alice.publishAsync('iso/b', 'alice', { qos: 1 });
    const carolPub = await h.connect('carol', { protocolVersion: 5, clientId: 'carol-pub' });
    const m = await box.next(); // carol-pub's own connected event or its publish
    assert.equal(carol.connected, true);
    await carolPub.publishAsync('iso/c', 'carol', { qos: 1 });
    const seen = [m];
    while (seen[seen.length - 1]!.topic !== 'iso/c') seen.push(await box.next());
    // Only carol's own account: her events and iso/c; nothing of alice's connection or topics.
    assert.ok(seen.every((r) => !r.payload.includes('alice') && !r.topic.startsWith('iso/a') && !r.topic.startsWith('iso/b')), JSON.stringify(seen.map((r) => r.topic)));
    const carol2 = await h.connect('carol', { protocolVersion: 5, clientId: 'carol-2' });
    const b2 = inbox(carol2);
    await carol2.subscribeAsync('iso/#', { qos: 1 });
    await carolPub.publishAsync('iso/d', 'carol', { qos: 1 });
    assert.equal((await b2.next()).topic, 'iso/d'); // alice's retained iso/a is not in carol's account
    await alice.publishAsync('iso/a', '', { qos: 1, retain: true });
    for (const c of [carol, alice, carolPub, carol2]) await c.endAsync();
  });

  it('lifecycle events: connected / subscribed / disconnected with AWS fields, shared versionNumber', async () => {
    const watcher = await h.connect('alice', { protocolVersion: 5, clientId: 'life-watch' });
    const box = inbox(watcher);
    await watcher.subscribeAsync(['$aws/events/presence/+/life-dev', '$aws/events/subscriptions/+/life-dev'], { qos: 1 });
    const dev = await h.connect('alice', { protocolVersion: 4, clientId: 'life-dev' });
    await dev.subscribeAsync('life/x', { qos: 1 });
    await dev.endAsync();
    const [c, s, d] = [await box.next(), await box.next(), await box.next()];
    assert.equal(c.topic, '$aws/events/presence/connected/life-dev');
    const ce = JSON.parse(c.payload) as Record<string, unknown>;
    assert.equal(ce.eventType, 'connected');
    assert.equal(ce.clientId, 'life-dev');
    assert.equal(ce.principalIdentifier, 'cert-alice');
    assert.equal(typeof ce.timestamp, 'number');
    assert.equal(typeof ce.ipAddress, 'string');
    assert.match(String(ce.sessionIdentifier), /^[0-9a-f-]{36}$/);
    assert.equal(s.topic, '$aws/events/subscriptions/subscribed/life-dev');
    assert.deepEqual((JSON.parse(s.payload) as { topics: string[] }).topics, ['life/x']);
    assert.equal(d.topic, '$aws/events/presence/disconnected/life-dev');
    const de = JSON.parse(d.payload) as Record<string, unknown>;
    assert.equal(de.eventType, 'disconnected');
    assert.equal(de.clientInitiatedDisconnect, true);
    assert.equal(de.disconnectReason, 'CLIENT_INITIATED_DISCONNECT');
    assert.equal(de.versionNumber, ce.versionNumber);
    assert.equal(de.sessionIdentifier, ce.sessionIdentifier);
    // The next connection of the same client id has a greater versionNumber.
    const again = await h.connect('alice', { protocolVersion: 4, clientId: 'life-dev' });
    const c2 = await box.next();
    assert.equal(c2.topic, '$aws/events/presence/connected/life-dev');
    assert.ok(Number((JSON.parse(c2.payload) as { versionNumber: number }).versionNumber) > Number(ce.versionNumber));
    await again.endAsync();
    await box.next();
    await watcher.endAsync();
  });

  it('a client id with "+" or "#" gets no lifecycle events', async () => {
    const watcher = await h.connect('alice', { protocolVersion: 5, clientId: 'life-watch-2' });
    const box = inbox(watcher);
    await watcher.subscribeAsync('$aws/events/presence/connected/#', { qos: 1 });
    const odd = await h.connect('alice', { protocolVersion: 4, clientId: 'odd+id' });
    const plain = await h.connect('alice', { protocolVersion: 4, clientId: 'plain-id' });
    assert.equal((await box.next()).topic, '$aws/events/presence/connected/plain-id');
    assert.equal(box.all.length, 1);
    await odd.endAsync();
    await plain.endAsync();
    await watcher.endAsync();
  });
});

describe('Broker API', () => {
  it('disconnectCertificate closes every connection of that certificate (v5 DISCONNECT 0x98) and records it', async () => {
    const b1 = await h.connect('bob', { protocolVersion: 5, clientId: 'bob-rev-1' });
    const b2 = await h.connect('bob', { protocolVersion: 4, clientId: 'bob-rev-2' });
    const a = await h.connect('alice', { protocolVersion: 4, clientId: 'alice-stays' });
    const disc = disconnectOf(b1);
    const closed2 = closedOf(b2);
    const n = await h.broker.disconnectCertificate({ accountId: ACCOUNT_A, region: 'us-east-1' }, 'cert-bob', 'certificate REVOKED by UpdateCertificate');
    assert.equal(n, 2);
    assert.equal((await disc).reasonCode, 0x98);
    await closed2;
    assert.equal(a.connected, true);
    const rec = h.accessLog.records.find((r) => r.kind === 'disconnect' && r.clientId === 'bob-rev-1');
    assert.ok(rec?.reasons.some((r) => /REVOKED/.test(r)));
    assert.equal(await h.broker.disconnectCertificate({ accountId: ACCOUNT_B, region: 'us-east-1' }, 'cert-alice', 'x'), 0);
    await a.endAsync();
  });

  it('issue 10: the re-check closing a certificate now placed in another account names no other account in the record', async () => {
    const d = await h.connect('dave', { protocolVersion: 5, clientId: 'dave-moved' });
    const closed = closedOf(d);
    h.placeElsewhere('dave', ACCOUNT_B);
    try {
      assert.equal(await h.broker.revalidateConnections(), 1);
      await closed;
    } finally {
      h.placeElsewhere('dave', undefined);
    }
    const rec = h.accessLog.records.find((r) => r.kind === 'disconnect' && r.clientId === 'dave-moved');
    assert.ok(rec, 'the close is recorded');
    assert.equal(rec.accountId, ACCOUNT_A);
    assert.ok(rec.reasons.every((r) => !r.includes(ACCOUNT_B)), rec.reasons.join('; '));
    assert.ok(rec.reasons.some((r) => /no longer registered in this account/.test(r)), rec.reasons.join('; '));
  });

  it('issue 10 #4: the periodic re-check discards the offline persistent session of a certificate no longer admitted here', async () => {
    const first = await h.connect('dave', { protocolVersion: 4, clientId: 'dave-offline', clean: false });
    await first.subscribeAsync('dave/#', { qos: 1 });
    await first.endAsync();
    h.placeElsewhere('dave', ACCOUNT_B);
    try {
      await h.broker.revalidateConnections();
    } finally {
      h.placeElsewhere('dave', undefined);
    }
    const { client, connack } = await connackOf(h.url('dave'), { protocolVersion: 4, clientId: 'dave-offline', clean: false });
    assert.equal(connack.sessionPresent, false, 'the session was discarded by the re-check');
    await client.endAsync();
  });
});
