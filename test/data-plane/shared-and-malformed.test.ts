// Shared subscriptions and hostile input against the REAL server (data-plane.md "MQTT behaviour and limits").
// - `$share/<group>/<filter>`: each message goes to one member of the group, every message to a plain subscriber.
//   AWS IoT Core supports shared subscriptions for MQTT 3.1.1 and MQTT 5 alike (developer guide, mqtt.html
//   "Shared subscriptions"); certgate's broker does the same, so both versions are tested.
// - Malformed packets over raw TLS after a valid CONNECT: the connection is closed (MQTT 5: DISCONNECT 0x81
//   Malformed Packet first, which MQTT 5 §4.13 allows), the process stays up, other clients keep working.
// - One representative case each of the AWS limits on client id length and filters per SUBSCRIBE (the unit
//   tests in src/broker/create-broker.test.ts cover the rest).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DescribeEndpointCommand } from '@aws-sdk/client-iot';
import mqttPacket from 'mqtt-packet';
import type { IConnackPacket, IDisconnectPacket, ISubackPacket } from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, endClient } from '../helpers/device.js';
import type { Device } from '../helpers/device.js';
import { iotClient } from '../helpers/iot-clients.js';
import { RawMqttConnection } from '../helpers/raw-mqtt-tls.js';
import type { RawTlsTarget } from '../helpers/raw-mqtt-tls.js';

const WAIT_MS = 5_000;
const N = 10;
/** MQTT 5 reason codes [MQTT 5 §2.4]. */
const MALFORMED_PACKET = 0x81;
const CLIENT_IDENTIFIER_NOT_VALID = 0x85;
const QUOTA_EXCEEDED = 0x97;
/** MQTT 3.1.1 CONNACK "identifier rejected" and SUBACK failure [MQTT-3.2.2.3, 3.9.3]. */
const V4_IDENTIFIER_REJECTED = 2;
const V4_SUBACK_FAILURE = 0x80;

function subscribe(client: MqttClient, filters: string | string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no SUBACK for ${String(filters)}`)), WAIT_MS);
    client.subscribe(filters, { qos: 1 }, (err, _granted, packet) => {
      clearTimeout(timer);
      if (packet === undefined) reject(err ?? new Error('no SUBACK packet'));
      else resolve((packet as ISubackPacket).granted.map((g) => (typeof g === 'number' ? g : Number((g as { qos?: number }).qos))));
    });
  });
}

/** Collects the payloads a client receives on `topic`. */
function collect(client: MqttClient, topic: string): string[] {
  const got: string[] = [];
  client.on('message', (t, payload) => {
    if (t === topic) got.push(payload.toString());
  });
  return got;
}

/** Resolves once `count()` reaches `n` (or the bounded wait ends); returns the last count. */
async function until(count: () => number, n: number, ms = WAIT_MS): Promise<number> {
  const deadline = Date.now() + ms;
  while (count() < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return count();
}

async function publishAll(pub: MqttClient, topic: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) => pub.publish(topic, String(i), { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  }
}

const all = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i));
const sorted = (xs: string[]): string[] => [...xs].sort((a, b) => Number(a) - Number(b));

describe('data plane: shared subscriptions and malformed packets (real server)', () => {
  let server: RunningCertgate;
  let device: Device;
  let target: RawTlsTarget;
  const open: MqttClient[] = [];
  const track = (c: MqttClient): MqttClient => (open.push(c), c);

  before(async () => {
    server = await startCertgate();
    assert.ok(server.mqttPort !== undefined, `no mqttPort in the ready line:\n${server.output()}`);
    device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    target = { port: server.mqttPort, caPem: device.caPem, certPem: device.certPem, keyPem: device.keyPem, servername: device.endpoint };
  });
  after(async () => {
    await Promise.all(open.splice(0).map((c) => endClient(c, true)));
    await server?.stop();
  });

  for (const protocolVersion of [5, 4] as const) {
    const label = protocolVersion === 5 ? 'MQTT 5' : 'MQTT 3.1.1';
    it(`${label}: two members of $share/<group>/<filter> split ${N} messages (disjoint, together all); a plain subscriber gets all ${N}`, async () => {
      const topic = `shared/${randomBytes(4).toString('hex')}/data`;
      const group = `g${randomBytes(3).toString('hex')}`;
      const memberA = track(await device.connect({ protocolVersion }));
      const memberB = track(await device.connect({ protocolVersion }));
      const plain = track(await device.connect({ protocolVersion }));
      const pub = track(await device.connect({ protocolVersion: 4 }));
      // Through the `+` wildcard: the shared filter is matched like any other.
      const sharedFilter = `$share/${group}/${topic.replace(/\/data$/, '/+')}`;
      assert.deepEqual(await subscribe(memberA, sharedFilter), [1]);
      assert.deepEqual(await subscribe(memberB, sharedFilter), [1]);
      assert.deepEqual(await subscribe(plain, topic), [1]);
      const gotA = collect(memberA, topic);
      const gotB = collect(memberB, topic);
      const gotPlain = collect(plain, topic);

      await publishAll(pub, topic, N);
      assert.equal(await until(() => gotPlain.length, N), N, 'the plain subscriber gets every message');
      assert.equal(await until(() => gotA.length + gotB.length, N), N, 'the group gets every message once');
      assert.deepEqual(sorted(gotPlain), all(N));
      assert.deepEqual(sorted([...gotA, ...gotB]), all(N), 'together the members got each message exactly once');
      assert.deepEqual(gotA.filter((m) => gotB.includes(m)), [], 'no message went to both members');
      assert.ok(gotA.length > 0 && gotB.length > 0, `both members got a share (A ${gotA.length}, B ${gotB.length})`);
    });
  }

  it('a member leaving the group: the remaining member gets every message', async () => {
    const topic = `shared/${randomBytes(4).toString('hex')}`;
    const filter = `$share/solo/${topic}`;
    const stays = track(await device.connect({ protocolVersion: 5 }));
    const leaves = await device.connect({ protocolVersion: 5 });
    await subscribe(stays, filter);
    await subscribe(leaves, filter);
    await endClient(leaves);
    const got = collect(stays, topic);
    const pub = track(await device.connect({ protocolVersion: 5 }));
    await publishAll(pub, topic, 4);
    assert.equal(await until(() => got.length, 4), 4);
    assert.deepEqual(sorted(got), all(4));
  });

  describe('malformed packets over raw TLS (after a valid CONNECT and CONNACK)', () => {
    let bystanderSub: MqttClient;
    let bystanderPub: MqttClient;
    const bystanderTopic = `bystander/${randomBytes(4).toString('hex')}`;

    before(async () => {
      bystanderSub = track(await device.connect({ protocolVersion: 5 }));
      bystanderPub = track(await device.connect({ protocolVersion: 4 }));
      await subscribe(bystanderSub, bystanderTopic);
    });

    /** The bystanders, connected before the bad input, still exchange a message; the API still answers. */
    async function othersUnaffected(): Promise<void> {
      assert.equal(bystanderSub.connected && bystanderPub.connected, true, 'the other clients are still connected');
      const got = collect(bystanderSub, bystanderTopic);
      const payload = randomBytes(4).toString('hex');
      bystanderPub.publish(bystanderTopic, payload, { qos: 1 });
      await until(() => got.filter((p) => p === payload).length, 1);
      assert.ok(got.includes(payload), 'a message still flows between the other clients');
      const endpoint = await iotClient(server).send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
      assert.equal(endpoint.endpointAddress, device.endpoint, 'the server process still answers');
    }

    const cases: { name: string; bytes: Buffer }[] = [
      { name: 'garbage: packet type 0 (reserved) [MQTT-2.2.1]', bytes: Buffer.from([0x00, 0x00, 0xde, 0xad, 0xbe, 0xef]) },
      { name: 'an invalid Remaining Length (five continuation bytes) [MQTT-1.5.5]', bytes: Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]) },
      { name: 'SUBSCRIBE with reserved header flags 0000 instead of 0010 [MQTT-3.8.1-1]', bytes: Buffer.from([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x01]) },
      { name: 'PUBLISH with both QoS bits set [MQTT-3.3.1-4]', bytes: Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]) },
    ];
    for (const c of cases) {
      it(`MQTT 5, ${c.name}: DISCONNECT 0x81 Malformed Packet, then closed`, async () => {
        const raw = await RawMqttConnection.connected(target, 5, `raw5-${randomBytes(4).toString('hex')}`);
        try {
          assert.equal((raw.received[0] as IConnackPacket).reasonCode ?? 0, 0);
          raw.send(c.bytes);
          assert.equal(await raw.waitClosed(), true, 'the server closes the connection');
          const disconnect = raw.received.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined;
          assert.ok(disconnect, `a DISCONNECT before the close (got ${raw.received.map((p) => p.cmd).join(', ')})`);
          assert.equal(disconnect.reasonCode, MALFORMED_PACKET);
          assert.equal(raw.parseError, undefined, 'the server only sent well-formed packets');
        } finally {
          raw.destroy();
        }
        await othersUnaffected();
      });

      it(`MQTT 3.1.1, ${c.name}: closed without a reply`, async () => {
        const raw = await RawMqttConnection.connected(target, 4, `raw4-${randomBytes(4).toString('hex')}`);
        try {
          assert.equal((raw.received[0] as IConnackPacket).returnCode, 0);
          raw.send(c.bytes);
          assert.equal(await raw.waitClosed(), true, 'the server closes the connection');
          assert.deepEqual(raw.received.map((p) => p.cmd), ['connack'], 'MQTT 3.1.1 has no DISCONNECT from the server');
        } finally {
          raw.destroy();
        }
        await othersUnaffected();
      });
    }

    it('a packet announcing more than the 128 KiB limit is refused from its header (v5 DISCONNECT 0x95), before its body is buffered', async () => {
      const raw = await RawMqttConnection.connected(target, 5, `big-${randomBytes(4).toString('hex')}`);
      try {
        // PUBLISH QoS 0, Remaining Length 16 MiB, and only the start of the body.
        raw.send(Buffer.concat([Buffer.from([0x30, 0x80, 0x80, 0x80, 0x08]), Buffer.from([0x00, 0x01, 0x61]), Buffer.alloc(64)]));
        assert.equal(await raw.waitClosed(), true);
        const disconnect = raw.received.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined;
        assert.equal(disconnect?.reasonCode, 0x95, 'Packet too large');
      } finally {
        raw.destroy();
      }
      await othersUnaffected();
    });

    it('a second CONNECT on a connection is a protocol error: closed (v5 DISCONNECT 0x82) [MQTT-3.1.0-2]', async () => {
      const clientId = `twice-${randomBytes(4).toString('hex')}`;
      const raw = await RawMqttConnection.connected(target, 5, clientId);
      try {
        raw.send(mqttPacket.generate({ cmd: 'connect', protocolVersion: 5, clientId, clean: true, keepalive: 60 }));
        assert.equal(await raw.waitClosed(), true);
        const disconnect = raw.received.find((p) => p.cmd === 'disconnect') as IDisconnectPacket | undefined;
        assert.equal(disconnect?.reasonCode, 0x82);
      } finally {
        raw.destroy();
      }
      await othersUnaffected();
    });
  });

  describe('AWS limits, one representative case each', () => {
    it('client id of 129 bytes (AWS: ≤ 128): MQTT 5 CONNACK 0x85, MQTT 3.1.1 CONNACK 2 (identifier rejected); 128 bytes connects', async () => {
      const v5 = await device.tryConnect({ protocolVersion: 5, clientId: 'x'.repeat(129) });
      assert.equal(v5.outcome, 'refused');
      if (v5.outcome === 'refused') assert.equal(v5.reasonCode, CLIENT_IDENTIFIER_NOT_VALID);
      const v4 = await device.tryConnect({ protocolVersion: 4, clientId: 'y'.repeat(129) });
      assert.equal(v4.outcome, 'refused');
      if (v4.outcome === 'refused') assert.equal(v4.reasonCode, V4_IDENTIFIER_REJECTED);
      const ok = await device.tryConnect({ protocolVersion: 5, clientId: 'z'.repeat(128) });
      assert.equal(ok.outcome, 'connected');
      if (ok.outcome === 'connected') track(ok.client);
    });

    it('SUBSCRIBE with 9 filters (AWS: ≤ 8): every filter refused (v5 0x97 Quota exceeded, 3.1.1 0x80), the connection stays; 8 filters are granted', async () => {
      const nine = Array.from({ length: 9 }, (_, i) => `limits/${i}`);
      const v5 = track(await device.connect({ protocolVersion: 5 }));
      assert.deepEqual(await subscribe(v5, nine), Array(9).fill(QUOTA_EXCEEDED));
      const v4 = track(await device.connect({ protocolVersion: 4 }));
      assert.deepEqual(await subscribe(v4, nine), Array(9).fill(V4_SUBACK_FAILURE));
      assert.equal(v5.connected && v4.connected, true);
      assert.deepEqual(await subscribe(v5, nine.slice(0, 8)), Array(8).fill(1));
    });
  });
});
