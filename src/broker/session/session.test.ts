import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BROKER_LIMITS } from '../limits.js';
import { Session } from './session.js';
import type { OutboundMessage, SessionSink } from './session.js';

const msg = (n: number, qos: 0 | 1 = 1, expiresAt?: number): OutboundMessage => ({
  topic: `t/${n}`,
  payload: Buffer.from(String(n)),
  qos,
  retain: false,
  properties: {},
  expiresAt,
});

function sink(receiveMaximum: number): SessionSink & { writes: { topic: string; id: number | undefined; dup: boolean }[] } {
  const writes: { topic: string; id: number | undefined; dup: boolean }[] = [];
  return {
    writes,
    receiveMaximum,
    mayReceive: () => true,
    writePublish(m, id, dup) {
      writes.push({ topic: m.topic, id, dup });
      return true;
    },
  };
}

describe('Session: outbound QoS 1 window and queue', () => {
  it(`at most ${BROKER_LIMITS.maxInflightQos1} QoS 1 messages in flight; the rest queue and go out as PUBACKs arrive`, () => {
    const s = new Session('c', 0, 'cert');
    const out = sink(BROKER_LIMITS.maxInflightQos1);
    s.sink = out;
    for (let i = 0; i < 150; i++) s.deliver(msg(i), 0);
    assert.equal(out.writes.length, 100);
    assert.equal(s.inflight.size, 100);
    assert.equal(s.queue.length, 50);
    const firstId = out.writes[0]!.id!;
    assert.equal(s.acknowledge(firstId, 0), true);
    assert.equal(out.writes.length, 101);
    assert.equal(out.writes[100]!.topic, 't/100'); // order kept [MQTT-4.6.0-6]
    assert.equal(s.acknowledge(firstId, 0), false);
  });

  it('offline: QoS 0 dropped, QoS 1 queued (bounded, oldest dropped); resume resends in-flight with DUP first', () => {
    const s = new Session('c', 3600, 'cert');
    const online = sink(2);
    s.sink = online;
    s.deliver(msg(1), 0);
    s.deliver(msg(2), 0);
    s.sink = undefined;
    s.deliver(msg(3, 0), 0);
    for (let i = 0; i < BROKER_LIMITS.maxQueuedMessages + 5; i++) s.deliver(msg(1000 + i), 0);
    assert.equal(s.queue.length, BROKER_LIMITS.maxQueuedMessages);
    assert.equal(s.droppedMessages, 5);
    const back = sink(100);
    s.sink = back;
    s.resume(0);
    assert.deepEqual(back.writes.slice(0, 2).map((w) => [w.topic, w.dup]), [
      ['t/1', true],
      ['t/2', true],
    ]);
    assert.equal(back.writes[2]!.topic, 't/1005');
    assert.equal(back.writes[2]!.dup, false);
    assert.ok(!back.writes.some((w) => w.topic === 't/3'));
  });

  it('expired messages are never sent [MQTT-3.3.2-5]', () => {
    const s = new Session('c', 60, 'cert');
    s.deliver(msg(1, 1, 1000), 0);
    s.deliver(msg(2, 1, 5000), 0);
    const out = sink(10);
    s.sink = out;
    s.resume(2000);
    assert.deepEqual(out.writes.map((w) => w.topic), ['t/2']);
  });

  it('packet identifiers skip ones still in flight and wrap after 65535', () => {
    const s = new Session('c', 0, 'cert');
    const out = sink(100);
    s.sink = out;
    for (let i = 0; i < 3; i++) s.deliver(msg(i), 0);
    const ids = out.writes.map((w) => w.id);
    assert.equal(new Set(ids).size, 3);
    assert.ok(ids.every((id) => id !== undefined && id >= 1 && id <= 65535));
  });
});
