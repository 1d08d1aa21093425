import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { after, describe, it } from 'node:test';
import type { AccessRecord, AdmissionResult, DeviceAccess } from '../access/index.js';
import { silentLogger, systemClock } from '../kernel/index.js';
import { createBroker } from './create-broker.js';
import type { Broker } from './create-broker.js';
import { rawClient } from './test-support/raw-mqtt-client.js';

/** data-plane.md "Authenticating the device" step 2: admission runs before any MQTT state. */
const ALLOW = { effect: 'Allow' as const, matched: [], reasons: ['test allows'] };

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const servers: Server[] = [];
const brokers: Broker[] = [];
after(async () => {
  for (const b of brokers) await b.close();
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});

async function serve(access: DeviceAccess, records: AccessRecord[]): Promise<{ broker: Broker; url: string }> {
  const broker = createBroker({ access, accessLog: { record: (e) => void records.push(e), recent: () => [] }, clock: systemClock, logger: silentLogger });
  const server = createServer((socket) =>
    broker.handle(socket, { certificateDer: undefined, chainDer: [], serverName: undefined, remoteAddress: '127.0.0.1', remotePort: 1, listener: 'mqtt' }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  brokers.push(broker);
  return { broker, url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('admission before MQTT state', () => {
  it('CONNECT sent during a pending admission is read only once the certificate is admitted', async () => {
    const admission = deferred<AdmissionResult>();
    let admits = 0;
    const access: DeviceAccess = {
      admit: () => {
        admits++;
        return admission.promise;
      },
      authorize: () => Promise.resolve({ connect: () => ALLOW, publish: () => ALLOW, subscribe: () => ALLOW, receive: () => ALLOW }),
    };
    const { broker, url } = await serve(access, []);
    const raw = await rawClient(url, 4);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'waiting', clean: true, keepalive: 60 });
    raw.send({ cmd: 'pingreq' });
    // Admission was asked at once; no connection (MQTT state) exists until it answers.
    for (let i = 0; i < 10_000 && admits === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(admits, 1);
    assert.equal(broker.connectionCount(), 0);
    assert.deepEqual(raw.received, []);
    admission.resolve({
      admitted: true,
      principal: { scope: { accountId: '123456789012', region: 'us-east-1' }, certificateId: 'c1', certificateArn: 'arn:aws:iot:us-east-1:123456789012:cert/c1', certificateValues: {} },
    });
    assert.equal((await raw.next()).cmd, 'connack');
    assert.equal((await raw.next()).cmd, 'pingresp');
    assert.equal(broker.connectionCount(), 1);
    raw.send({ cmd: 'disconnect' });
    await raw.closed();
  });

  it('an admission that throws closes the stream; nothing escapes handle()', async () => {
    const records: AccessRecord[] = [];
    const access: DeviceAccess = {
      admit: () => Promise.reject(new Error('store down')),
      authorize: () => Promise.reject(new Error('unreachable')),
    };
    const { broker, url } = await serve(access, records);
    const raw = await rawClient(url, 5);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'x', clean: true, keepalive: 60 });
    await raw.closed();
    assert.equal(broker.connectionCount(), 0);
  });

  it('a refused certificate creates no connection and is recorded with its reason', async () => {
    const records: AccessRecord[] = [];
    const access: DeviceAccess = {
      admit: () => Promise.resolve({ admitted: false, refusal: 'CERTIFICATE_NOT_ACTIVE', reason: 'certificate c9 is REVOKED in account 123456789012 (us-east-1)', certificateId: 'c9', accountId: '123456789012', region: 'us-east-1' }),
      authorize: () => Promise.reject(new Error('must not be called')),
    };
    const { broker, url } = await serve(access, records);
    const raw = await rawClient(url, 5);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'x', clean: true, keepalive: 60 });
    const connack = await raw.next();
    assert.ok(connack.cmd === 'connack');
    assert.equal(connack.reasonCode, 0x87);
    await raw.closed();
    assert.equal(broker.connectionCount(), 0);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.kind, 'admission');
    assert.equal(records[0]!.certificateId, 'c9');
    assert.match(records[0]!.reasons[0]!, /CERTIFICATE_NOT_ACTIVE: certificate c9 is REVOKED/);
  });
});
