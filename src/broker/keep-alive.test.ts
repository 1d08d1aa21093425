import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import type { IDisconnectPacket } from 'mqtt-packet';
import { ALLOW_ALL, startHarness } from './test-support/broker-test-harness.js';
import type { Harness } from './test-support/broker-test-harness.js';
import { rawClient } from './test-support/raw-mqtt-client.js';

/**
 * Keep-alive [MQTT-3.1.2-24] with AWS's clamp: the connection ends after 1.5 × keep-alive without a
 * packet (disconnectReason MQTT_KEEP_ALIVE_TIMEOUT). Time is simulated: the harness clock and mocked timers.
 */
let h: Harness;
before(async () => {
  h = await startHarness([{ name: 'alice', accountId: '111111111111', policies: [ALLOW_ALL] }]);
});
after(async () => {
  mock.timers.reset();
  await h.close();
});

describe('keep-alive timeout', () => {
  it('keep-alive 10 → clamped to 30: alive at 44 s of silence, closed with DISCONNECT 0x8D after 45 s; a PINGREQ resets it', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const raw = await rawClient(h.url('alice'), 5);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'sleepy', clean: true, keepalive: 10 });
    const connack = await raw.next();
    assert.ok(connack.cmd === 'connack');
    assert.equal(connack.properties?.serverKeepAlive, 30);

    h.clock.advance(40_000);
    raw.send({ cmd: 'pingreq' });
    assert.equal((await raw.next()).cmd, 'pingresp');
    mock.timers.tick(45_000); // first check: the PINGREQ just reset the idle time → re-armed for 45 s
    h.clock.advance(44_000); // 44 s of silence
    mock.timers.tick(45_000); // second check: 44 s < 45 s → still alive, re-armed for the 1 s left
    assert.equal(raw.received.length, 2);
    assert.equal(raw.socket.destroyed, false);
    h.clock.advance(2_000); // 46 s of silence
    mock.timers.tick(1_000);
    const d = (await raw.next()) as IDisconnectPacket;
    assert.equal(d.cmd, 'disconnect');
    assert.equal(d.reasonCode, 0x8d);
    await raw.closed();
    h.clock.advance(-86_000);
    mock.timers.reset();
  });
});
