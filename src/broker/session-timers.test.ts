import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import type { Packet } from 'mqtt-packet';
import { ALLOW_ALL, startHarness } from './test-support/broker-test-harness.js';
import type { Harness } from './test-support/broker-test-harness.js';
import { rawClient } from './test-support/raw-mqtt-client.js';
import type { RawClient } from './test-support/raw-mqtt-client.js';

/** Session Expiry [MQTT-3.1.2-23] and Will Delay [MQTT-3.1.3-9], with mocked timers (no waiting). */
let h: Harness;
before(async () => {
  h = await startHarness([{ name: 'alice', accountId: '111111111111', policies: [ALLOW_ALL] }]);
});
after(async () => {
  mock.timers.reset();
  await h.close();
});

async function connect5(clientId: string, extra: Partial<Extract<Packet, { cmd: 'connect' }>> = {}): Promise<{ raw: RawClient; sessionPresent: boolean }> {
  const raw = await rawClient(h.url('alice'), 5);
  raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId, clean: true, keepalive: 60, ...extra });
  const connack = await raw.next();
  assert.ok(connack.cmd === 'connack');
  assert.equal(connack.reasonCode, 0);
  return { raw, sessionPresent: connack.sessionPresent };
}

/** Waits (bounded, without timers: they are mocked) until the broker has seen connections close. */
async function brokerConnections(count: number): Promise<void> {
  for (let i = 0; i < 100_000 && h.broker.connectionCount() !== count; i++) await new Promise((r) => setImmediate(r));
  assert.equal(h.broker.connectionCount(), count);
}

async function subscribe(raw: RawClient, topic: string): Promise<void> {
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] });
  assert.equal((await raw.next()).cmd, 'suback');
}

describe('session expiry and will delay', () => {
  it('a session lives for its Session Expiry Interval after the connection ends, then is discarded', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const first = await connect5('expiring', { clean: false, properties: { sessionExpiryInterval: 10 } });
      first.raw.send({ cmd: 'disconnect', reasonCode: 0 });
      await first.raw.closed();
      await brokerConnections(0);
      mock.timers.tick(9_000);
      const back = await connect5('expiring', { clean: false, properties: { sessionExpiryInterval: 10 } });
      assert.equal(back.sessionPresent, true);
      back.raw.send({ cmd: 'disconnect', reasonCode: 0 });
      await back.raw.closed();
      await brokerConnections(0);
      mock.timers.tick(11_000);
      const late = await connect5('expiring', { clean: false, properties: { sessionExpiryInterval: 10 } });
      assert.equal(late.sessionPresent, false);
      late.raw.send({ cmd: 'disconnect', reasonCode: 0 });
      await late.raw.closed();
    } finally {
      mock.timers.reset();
    }
  });

  it('a delayed will is cancelled when the client reconnects in time, and published when it does not', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const watcher = await connect5('will-watcher');
      await subscribe(watcher.raw, 'wd/#');
      const will = { topic: 'wd/gone', payload: Buffer.from('gone'), qos: 0 as const, retain: false, properties: { willDelayInterval: 5 } };
      const a = await connect5('delayed', { clean: false, will, properties: { sessionExpiryInterval: 60 } });
      a.raw.socket.destroy();
      await brokerConnections(1);
      mock.timers.tick(4_000);
      const b = await connect5('delayed', { clean: false, will, properties: { sessionExpiryInterval: 60 } }); // back in time: no will
      mock.timers.tick(10_000);
      b.raw.socket.destroy();
      await brokerConnections(1);
      mock.timers.tick(6_000); // this time nobody comes back
      const got = await watcher.raw.next();
      assert.ok(got.cmd === 'publish');
      assert.equal(got.topic, 'wd/gone');
      const sentinel = await connect5('wd-sentinel');
      sentinel.raw.send({ cmd: 'publish', topic: 'wd/sentinel', payload: Buffer.from('s'), qos: 0, retain: false, dup: false });
      const next = await watcher.raw.next();
      assert.ok(next.cmd === 'publish');
      assert.equal(next.topic, 'wd/sentinel'); // exactly one will was published
      for (const c of [watcher.raw, sentinel.raw]) {
        c.send({ cmd: 'disconnect', reasonCode: 0 });
        await c.closed();
      }
    } finally {
      mock.timers.reset();
    }
  });
});
