import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import type { Packet } from 'mqtt-packet';
import mqttPacket from 'mqtt-packet';
import { ALLOW_ALL, startHarness } from './test-support/broker-test-harness.js';
import type { Harness } from './test-support/broker-test-harness.js';
import { rawClient } from './test-support/raw-mqtt-client.js';
import type { RawClient } from './test-support/raw-mqtt-client.js';

/**
 * Authorization over a session's whole life (issue 10 items 1–4), the defects a review found in it:
 * delayed wills on reconnect, wills racing a revocation, the periodic re-check, failures inside CONNECT.
 */
const ACCOUNT_A = '111111111111';
const ACCOUNT_B = '222222222222';
const SCOPE_A = { accountId: ACCOUNT_A, region: 'us-east-1' };

let h: Harness;
before(async () => {
  h = await startHarness([
    { name: 'alice', accountId: ACCOUNT_A, policies: [ALLOW_ALL] },
    { name: 'dave', accountId: ACCOUNT_A, policies: [ALLOW_ALL] },
    { name: 'erin', accountId: ACCOUNT_A, policies: [ALLOW_ALL] },
    { name: 'fay', accountId: ACCOUNT_A, policies: [ALLOW_ALL] },
    { name: 'gus', accountId: ACCOUNT_A, policies: [ALLOW_ALL], throwIn: 'connect' },
    { name: 'hal', accountId: ACCOUNT_A, policies: [ALLOW_ALL], throwIn: 'publish' },
  ]);
});
after(async () => {
  mock.timers.reset();
  await h.close();
});

async function connect5(name: string, clientId: string, extra: Partial<Extract<Packet, { cmd: 'connect' }>> = {}): Promise<{ raw: RawClient; sessionPresent: boolean }> {
  const raw = await rawClient(h.url(name), 5);
  raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId, clean: true, keepalive: 60, ...extra });
  const connack = await raw.next();
  assert.ok(connack.cmd === 'connack');
  assert.equal(connack.reasonCode, 0);
  return { raw, sessionPresent: connack.sessionPresent };
}

/** Waits (bounded, without timers: they may be mocked) until `done()`. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !done(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(done());
}

async function subscribe(raw: RawClient, topic: string): Promise<void> {
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] });
  assert.equal((await raw.next()).cmd, 'suback');
}

/** Publishes a sentinel through another client: the next message the watcher gets says what came before it. */
async function sentinel(topic: string): Promise<void> {
  const s = await connect5('alice', `sentinel-${topic.replace(/\W/g, '-')}`);
  s.raw.send({ cmd: 'publish', topic, payload: Buffer.from('sentinel'), qos: 0, retain: false, dup: false });
  s.raw.send({ cmd: 'disconnect', reasonCode: 0 });
  await s.raw.closed();
}

async function bye(...clients: RawClient[]): Promise<void> {
  for (const c of clients) {
    c.send({ cmd: 'disconnect', reasonCode: 0 });
    await c.closed();
  }
}

const delayedWill = (topic: string, properties: Record<string, number> = {}) => ({
  topic,
  payload: Buffer.from('gone'),
  qos: 0 as const,
  retain: false,
  properties: { willDelayInterval: 30, ...properties },
});

describe('delayed wills when the session ends', () => {
  it('issue 10 review #1: a clean-start reconnect publishes the pending delayed will now instead of cancelling it', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const watcher = await connect5('alice', 'lw1-watcher');
      await subscribe(watcher.raw, 'lw1/#');
      const a = await connect5('alice', 'lw1-device', { clean: false, will: delayedWill('lw1/gone'), properties: { sessionExpiryInterval: 120 } });
      const before = h.broker.connectionCount();
      a.raw.socket.destroy();
      await until(() => h.broker.connectionCount() === before - 1);
      // Clean start: the session ends, so its delayed will is due now [MQTT-3.1.3-9].
      const b = await connect5('alice', 'lw1-device', { clean: true });
      await sentinel('lw1/sentinel');
      const got = await watcher.raw.next();
      assert.ok(got.cmd === 'publish');
      assert.equal(got.topic, 'lw1/gone', 'the will comes first, before the sentinel');
      assert.equal((await watcher.raw.next()).cmd === 'publish', true);
      await bye(watcher.raw, b.raw);
    } finally {
      mock.timers.reset();
    }
  });

  it('issue 10 review #1: another certificate taking the client id over publishes the pending delayed will now', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const watcher = await connect5('alice', 'lw2-watcher');
      await subscribe(watcher.raw, 'lw2/#');
      const a = await connect5('alice', 'lw2-device', { clean: false, will: delayedWill('lw2/gone'), properties: { sessionExpiryInterval: 120 } });
      const before = h.broker.connectionCount();
      a.raw.socket.destroy();
      await until(() => h.broker.connectionCount() === before - 1);
      // Another certificate asks to resume: it starts clean (issue 10 #1), the old session ended.
      const b = await connect5('dave', 'lw2-device', { clean: false, properties: { sessionExpiryInterval: 120 } });
      assert.equal(b.sessionPresent, false);
      await sentinel('lw2/sentinel');
      const got = await watcher.raw.next();
      assert.ok(got.cmd === 'publish');
      assert.equal(got.topic, 'lw2/gone', 'the will comes first, before the sentinel');
      await bye(watcher.raw, b.raw);
    } finally {
      mock.timers.reset();
    }
  });

  it('issue 10 review #6: a delayed will counts its Message Expiry Interval from publication, not from CONNECT', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const watcher = await connect5('alice', 'lw6-watcher');
      await subscribe(watcher.raw, 'lw6/#');
      const will = { ...delayedWill('lw6/gone', { willDelayInterval: 5, messageExpiryInterval: 10 }) };
      const a = await connect5('alice', 'lw6-device', { clean: false, will, properties: { sessionExpiryInterval: 120 } });
      const before = h.broker.connectionCount();
      a.raw.socket.destroy();
      await until(() => h.broker.connectionCount() === before - 1);
      h.clock.advance(5_000);
      mock.timers.tick(5_000);
      const got = await watcher.raw.next();
      assert.ok(got.cmd === 'publish');
      assert.equal(got.topic, 'lw6/gone');
      assert.equal(got.properties?.messageExpiryInterval, 10);
      await bye(watcher.raw);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('revocation and the periodic re-check', () => {
  it('issue 10 review #3: a will whose authorization is under way when the certificate is revoked is not published', async () => {
    const watcher = await connect5('alice', 'lw3-watcher');
    await subscribe(watcher.raw, 'lw3/#');
    const e = await connect5('erin', 'lw3-device', { will: { topic: 'lw3/gone', payload: Buffer.from('gone'), qos: 0, retain: false } });
    const release = h.holdAdmission('erin');
    const asked = h.admittedPeers.length;
    e.raw.socket.destroy();
    // The will is being authorized (admission asked again, answer held back) ...
    await until(() => h.admittedPeers.length > asked);
    // ... when the certificate is revoked.
    await h.broker.disconnectCertificate(SCOPE_A, 'cert-erin', 'certificate REVOKED by UpdateCertificate');
    release();
    await sentinel('lw3/sentinel');
    const got = await watcher.raw.next();
    assert.ok(got.cmd === 'publish');
    assert.equal(got.topic, 'lw3/sentinel', 'the will of a revoked certificate is not published');
    await bye(watcher.raw);
  });

  it('issue 10 review #4: one failing admission does not stop the periodic re-check', async () => {
    const f = await connect5('fay', 'rc4-fay');
    const d = await connect5('dave', 'rc4-dave');
    h.failAdmission('fay', true);
    h.placeElsewhere('dave', ACCOUNT_B);
    try {
      assert.equal(await h.broker.revalidateConnections(), 1);
      await d.raw.closed();
    } finally {
      h.failAdmission('fay', false);
      h.placeElsewhere('dave', undefined);
    }
    assert.ok(h.warnings.some((w) => JSON.stringify(w).includes('rc4-fay')), 'the failure is logged');
    await bye(f.raw);
  });

  it('issue 10 review #4: the re-check closes every connection of a certificate it no longer admits before discarding its sessions', async () => {
    const off = await connect5('dave', 'rc4-dave-offline', { clean: false, properties: { sessionExpiryInterval: 600 } });
    await bye(off.raw);
    const gate = await connect5('alice', 'rc4-gate');
    const release = h.holdAdmission('alice');
    const asked = h.admittedPeers.length;
    const pass = h.broker.revalidateConnections();
    try {
      await until(() => h.admittedPeers.slice(asked).some((p) => p.serverName === 'alice'));
      // A connection of dave's arrives while the pass is under way (after its list of connections was taken) ...
      const live = await connect5('dave', 'rc4-dave-live');
      // ... and dave's certificate is no longer admitted here by the time the offline sessions are checked.
      h.placeElsewhere('dave', ACCOUNT_B);
      release();
      await pass;
      await live.raw.closed();
    } finally {
      release();
      h.placeElsewhere('dave', undefined);
    }
    await bye(gate.raw);
  });

  it('issue 10 review #8: an offline session keeps no device-sent chain for its re-admission', async () => {
    const off = await connect5('dave', 'rc8-dave-offline', { clean: false, properties: { sessionExpiryInterval: 600 } });
    await bye(off.raw);
    const asked = h.admittedPeers.length;
    await h.broker.revalidateConnections();
    const readmitted = h.admittedPeers.slice(asked).filter((p) => p.serverName === 'dave');
    assert.ok(readmitted.length > 0, 'the offline session was re-admitted');
    for (const p of readmitted) {
      assert.equal(p.chainDer.length, 0, 'no chain kept');
      assert.ok(p.certificateDer !== undefined && p.certificateDer.byteLength > 0, 'the certificate is kept');
    }
  });
});

describe('thing values changing during CONNECT', () => {
  it('issue 10 review #2: a registry change of thing values during CONNECT refreshes the connection once it is set up', async () => {
    const release = h.holdAuthorization('dave');
    let raw: RawClient | undefined;
    try {
      raw = await rawClient(h.url('dave'), 5);
      raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'tv2-dave', clean: true, keepalive: 60 });
      // CONNECT is being authorized (its thing values read) when AttachThingPrincipal changes them.
      await until(() => h.authorizing.includes('tv2-dave'));
      await h.broker.refreshThingValues(SCOPE_A, { principal: `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/cert-dave` });
      release();
      const connack = await raw.next();
      assert.ok(connack.cmd === 'connack');
      assert.equal(connack.reasonCode, 0);
      await until(() => h.refreshed.includes('tv2-dave'));
    } finally {
      release();
    }
    if (raw !== undefined) await bye(raw);
  });
});

describe('failures inside CONNECT', () => {
  it('issue 10 review #7: an exception while accepting a CONNECT closes the connection (server error), the process lives', async () => {
    const raw = await rawClient(h.url('gus'), 5);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'rc7-gus', clean: true, keepalive: 60 });
    const connack = await raw.next();
    assert.ok(connack.cmd === 'connack');
    assert.equal(connack.reasonCode, 0x80);
    await raw.closed();
    assert.ok(h.warnings.some((w) => JSON.stringify(w).includes('rc7-gus')), 'the failure is logged');
  });

  it('issue 10 review #7: an exception handling a packet queued behind CONNECT closes the connection, the process lives', async () => {
    const raw = await rawClient(h.url('hal'), 5);
    const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'rc7-hal', clean: true, keepalive: 60 });
    const publish = mqttPacket.generate({ cmd: 'publish', topic: 'rc7/x', payload: Buffer.from('x'), qos: 0, retain: false, dup: false }, { protocolVersion: 5 });
    raw.sendBytes(Buffer.concat([connect, publish]));
    const connack = await raw.next();
    assert.ok(connack.cmd === 'connack');
    assert.equal(connack.reasonCode, 0);
    const disconnect = await raw.next();
    assert.ok(disconnect.cmd === 'disconnect');
    assert.equal(disconnect.reasonCode, 0x80);
    await raw.closed();
  });
});

