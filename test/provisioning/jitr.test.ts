// Just-in-time registration (provisioning.md JITR; aws-reference.md §2.1) against a real certgate process:
// CAs and device certificates made by openssl, CA registration with proof of possession, devices and an
// operator over mutual TLS with mqtt.js, the control plane through @aws-sdk/client-iot, refusals explained by
// `certgate why`. Event rule tested: one registered event per certificate per burst of connections (5 s window).
import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { createAccessLog } from '../../src/access/index.js';
import type { ServiceMessage } from '../../src/access/index.js';
import { BROKER_LIMITS } from '../../src/broker/limits.js';
import { refuseConnection } from '../../src/broker/refuse-connection.js';
import { silentLogger } from '../../src/kernel/index.js';
import { AttachPolicyCommand, CreatePolicyCommand, DescribeCertificateCommand, UpdateCACertificateCommand, UpdateCertificateCommand } from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, endClient } from '../helpers/device.js';
import type { Device } from '../helpers/device.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';
import {
  bareTlsHandshake,
  certificateIdOfPem,
  certificatesByCa,
  registerCa,
  startOperator,
  unregisteredDevice,
  whyCertificate,
} from '../helpers/jit.js';
import type { Operator, RegisteredCa } from '../helpers/jit.js';
import { TestPki } from '../helpers/openssl.js';
import { primaryAccount } from '../helpers/accounts.js';

const V5_NOT_AUTHORIZED = 0x87;

describe('just-in-time registration (JITR)', { timeout: 240_000 }, () => {
  let server: RunningCertgate;
  let iot: IoTClient;
  let pki: TestPki;
  let operator: Operator;
  /** A registered device: only its roots and endpoint are borrowed for unregistered certificates. */
  let template: Device;
  let autoCa: RegisteredCa;

  before(async () => {
    server = await startCertgate();
    iot = iotClient(server);
    pki = await TestPki.create();
    autoCa = await registerCa(iot, pki);
    operator = await startOperator(server);
    template = operator.device;
  });

  after(async () => {
    await operator?.close();
    iot?.destroy();
    await server?.stop();
    await pki?.cleanup();
  });

  it('registers an unknown certificate PENDING_ACTIVATION at CONNECT, publishes the event, closes; the operator activates it and the device connects', async () => {
    const cert = await pki.makeDeviceCert(autoCa.ca);
    const certificateId = certificateIdOfPem(cert.certPem);
    const device = unregisteredDevice(server, template, cert, autoCa.ca);

    const first = await device.tryConnect({ withChain: true, protocolVersion: 5 });
    assert.equal(first.outcome, 'refused');
    assert.equal(first.outcome === 'refused' ? first.reasonCode : undefined, V5_NOT_AUTHORIZED, 'MQTT 5: CONNACK 0x87 after registering');

    const event = await operator.waitForEvent((e) => e.body['certificateId'] === certificateId);
    assert.equal(event.topic, `$aws/events/certificates/registered/${autoCa.caCertificateId}`);
    assert.deepEqual(Object.keys(event.body).sort(), ['awsAccountId', 'caCertificateId', 'certificateId', 'certificateRegistrationTimestamp', 'certificateStatus', 'timestamp']);
    assert.equal(event.body['caCertificateId'], autoCa.caCertificateId);
    assert.equal(event.body['certificateStatus'], 'PENDING_ACTIVATION');
    assert.equal(event.body['awsAccountId'], server.accountId);
    assert.equal(typeof event.body['timestamp'], 'number');
    assert.equal(typeof event.body['certificateRegistrationTimestamp'], 'string');

    const described = await iot.send(new DescribeCertificateCommand({ certificateId }));
    assert.equal(described.certificateDescription?.status, 'PENDING_ACTIVATION');
    assert.equal(described.certificateDescription?.caCertificateId, autoCa.caCertificateId);
    assert.equal(described.certificateDescription?.certificateMode, 'DEFAULT');

    // Still pending: refused again.
    const pending = await device.tryConnect({ withChain: true });
    assert.equal(pending.outcome, 'refused');

    // The operator's process: activate + attach a policy, as a JITR Lambda would.
    const arn = described.certificateDescription?.certificateArn;
    assert.ok(arn);
    await iot.send(new UpdateCertificateCommand({ certificateId: String(event.body['certificateId']), newStatus: 'ACTIVE' }));
    const policyName = `jitr-${certificateId.slice(0, 8)}`;
    await iot.send(new CreatePolicyCommand({ policyName, policyDocument: JSON.stringify(ALLOW_ALL_POLICY) }));
    await iot.send(new AttachPolicyCommand({ policyName, target: arn }));

    const next = await device.tryConnect({ withChain: true });
    assert.equal(next.outcome, 'connected');
    if (next.outcome === 'connected') await endClient(next.client);
  });

  it('publishes the event again when a still-PENDING_ACTIVATION certificate is presented after the burst window', async () => {
    const cert = await pki.makeDeviceCert(autoCa.ca);
    const certificateId = certificateIdOfPem(cert.certPem);
    const device = unregisteredDevice(server, template, cert, autoCa.ca);
    assert.equal((await device.tryConnect({ withChain: true })).outcome, 'refused');
    await operator.waitForEvent((e) => e.body['certificateId'] === certificateId);
    await new Promise((r) => setTimeout(r, 5_500)); // past the 5 s coalescing window
    assert.equal((await device.tryConnect({ withChain: true })).outcome, 'refused');
    await operator.sync();
    assert.equal(operator.events.filter((e) => e.body['certificateId'] === certificateId).length, 2);
    assert.deepEqual(await certificatesByCa(iot, autoCa.caCertificateId).then((l) => l.filter((c) => c.certificateId === certificateId).length), 1);
  });

  it('a race of 20 connections with one new certificate registers it once and publishes exactly one event', async () => {
    const ca = await registerCa(iot, pki);
    const cert = await pki.makeDeviceCert(ca.ca);
    const certificateId = certificateIdOfPem(cert.certPem);
    const device = unregisteredDevice(server, template, cert, ca.ca);
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => device.tryConnect({ withChain: true, protocolVersion: i % 2 === 0 ? 4 : 5 })));
    assert.deepEqual(outcomes.map((o) => o.outcome), Array(20).fill('refused'));
    // Every refusal answered after its follow-up ran: all events are on their way; one round trip flushes them.
    await operator.sync();
    assert.equal(operator.events.filter((e) => e.body['certificateId'] === certificateId).length, 1);
    const registered = await certificatesByCa(iot, ca.caCertificateId);
    assert.deepEqual(registered, [{ certificateId, status: 'PENDING_ACTIVATION' }]);
  });

  it('without the CA in the chain, with SNI, finds the CA by issuer and key id and registers', async () => {
    const cert = await pki.makeDeviceCert(autoCa.ca);
    const certificateId = certificateIdOfPem(cert.certPem);
    const device = unregisteredDevice(server, template, cert, autoCa.ca);
    assert.equal((await device.tryConnect({ withChain: false })).outcome, 'refused');
    await operator.waitForEvent((e) => e.body['certificateId'] === certificateId);
    const d = await iot.send(new DescribeCertificateCommand({ certificateId }));
    assert.equal(d.certificateDescription?.status, 'PENDING_ACTIVATION');
  });

  it('a bare TLS handshake without CONNECT registers nothing', async () => {
    const cert = await pki.makeDeviceCert(autoCa.ca);
    const certificateId = certificateIdOfPem(cert.certPem);
    const closedByServer = await bareTlsHandshake(server, { ...cert, certPem: `${cert.certPem.trimEnd()}\n${autoCa.ca.certPem}` }, template.caPem, template.endpoint);
    assert.equal(closedByServer, true, 'the handshake completed and the server closed the idle connection');
    await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId })), 'ResourceNotFoundException');
  });

  it('auto-registration DISABLE: refused, nothing registered, the reason in certgate why', async () => {
    const ca = await registerCa(iot, pki, { allowAutoRegistration: false });
    const cert = await pki.makeDeviceCert(ca.ca);
    const certificateId = certificateIdOfPem(cert.certPem);
    const r = await unregisteredDevice(server, template, cert, ca.ca).tryConnect({ withChain: true, protocolVersion: 5 });
    assert.equal(r.outcome, 'refused');
    assert.equal(r.outcome === 'refused' ? r.reasonCode : undefined, V5_NOT_AUTHORIZED);
    assert.deepEqual(await certificatesByCa(iot, ca.caCertificateId), []);
    const why = await whyCertificate(server, certificateId, primaryAccount(server));
    assert.ok(why.some((w) => w.outcome === 'denied' && w.reasons.some((x) => x.includes('auto-registration DISABLE'))), JSON.stringify(why));
  });

  it('CA INACTIVE: refused, nothing registered; enabling auto-registration on an INACTIVE CA is not enough', async () => {
    const ca = await registerCa(iot, pki, { setAsActive: false });
    const cert = await pki.makeDeviceCert(ca.ca);
    const certificateId = certificateIdOfPem(cert.certPem);
    assert.equal((await unregisteredDevice(server, template, cert, ca.ca).tryConnect({ withChain: true })).outcome, 'refused');
    assert.deepEqual(await certificatesByCa(iot, ca.caCertificateId), []);
    const why = await whyCertificate(server, certificateId, primaryAccount(server));
    assert.ok(why.some((w) => w.reasons.some((x) => x.includes('INACTIVE'))), JSON.stringify(why));
    // Activated later: the next connection registers.
    await iot.send(new UpdateCACertificateCommand({ certificateId: ca.caCertificateId, newStatus: 'ACTIVE' }));
    assert.equal((await unregisteredDevice(server, template, cert, ca.ca).tryConnect({ withChain: true })).outcome, 'refused');
    assert.deepEqual(await certificatesByCa(iot, ca.caCertificateId), [{ certificateId, status: 'PENDING_ACTIVATION' }]);
  });

  it('CA not registered: refused with the reason (send the CA in the chain or use SNI)', async () => {
    const ca = await pki.makeCa();
    const cert = await pki.makeDeviceCert(ca);
    const certificateId = certificateIdOfPem(cert.certPem);
    const r = await unregisteredDevice(server, template, cert, ca).tryConnect({ withChain: false, servername: null });
    assert.equal(r.outcome, 'refused');
    await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId })), 'ResourceNotFoundException');
    const why = await whyCertificate(server, certificateId, primaryAccount(server));
    assert.ok(
      why.some((w) => w.reasons.some((x) => x.includes('is not registered') && x.includes('send the CA certificate in the TLS chain or use the account endpoint as SNI'))),
      JSON.stringify(why),
    );
  });

  it('a forged certificate (the CA subject, another key) is refused and nothing is registered', async () => {
    const forger = await pki.makeCa({ cn: autoCa.ca.cn });
    const cert = await pki.makeDeviceCert(forger);
    const certificateId = certificateIdOfPem(cert.certPem);
    // Sends the genuine CA in its chain, and also tries with the forger's CA.
    assert.equal((await unregisteredDevice(server, template, cert, autoCa.ca).tryConnect({ withChain: true })).outcome, 'refused');
    assert.equal((await unregisteredDevice(server, template, cert, forger).tryConnect({ withChain: true })).outcome, 'refused');
    await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId })), 'ResourceNotFoundException');
    const why = await whyCertificate(server, certificateId, primaryAccount(server));
    assert.ok(why.some((w) => w.reasons.some((x) => x.includes('verifies the certificate') || x.includes('signed by another key'))), JSON.stringify(why));
  });

  it('an expired device certificate is refused and not registered', async () => {
    const cert = await pki.makeDeviceCert(autoCa.ca, { expired: true });
    const certificateId = certificateIdOfPem(cert.certPem);
    assert.equal((await unregisteredDevice(server, template, cert, autoCa.ca).tryConnect({ withChain: true })).outcome, 'refused');
    await expectIotError(iot.send(new DescribeCertificateCommand({ certificateId })), 'ResourceNotFoundException');
    const why = await whyCertificate(server, certificateId, primaryAccount(server));
    assert.ok(why.some((w) => w.reasons.some((x) => x.includes('cannot be registered just in time'))), JSON.stringify(why));
  });

  it('the RegisterCertificate API publishes no registered event', async () => {
    const cert = await pki.makeDeviceCert(autoCa.ca);
    const d: Device = await createDevice(server, { certificate: { certPem: cert.certPem, keyPem: cert.keyPem, caCertificatePem: autoCa.ca.certPem, status: 'INACTIVE' } });
    await operator.sync();
    assert.equal(operator.events.filter((e) => e.body['certificateId'] === d.certificateId).length, 0);
  });
});

// The refusal path's own bounds (review of the JIT flow), on real sockets: the broker's refuseConnection serving
// a net server. setTimeout is mocked, so a close can only come from the rule under test, never from a timer
// that was not advanced on purpose.
describe('JIT refusal path: bounded, and answered per protocol', () => {
  const refusal = (onConnect?: () => Promise<{ reasons: string[]; messages: ServiceMessage[] }>) => ({
    admitted: false as const,
    refusal: 'UNKNOWN_CERTIFICATE' as const,
    reason: 'test refusal',
    certificateId: 'c'.repeat(64),
    ...(onConnect !== undefined ? { onConnect } : {}),
  });
  const PEER = { certificateDer: undefined, chainDer: [], serverName: undefined, remoteAddress: '127.0.0.1', remotePort: 1, listener: 'mqtt' };

  async function serve(r: ReturnType<typeof refusal>, published: ServiceMessage[] = []): Promise<{ port: number; close: () => Promise<void> }> {
    const srv = createServer((s) => {
      s.on('error', () => undefined);
      refuseConnection(s, PEER, r, { accessLog: createAccessLog(), logger: silentLogger, clock: { now: () => new Date() }, publish: (m) => published.push(m) });
    });
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    return { port: (srv.address() as AddressInfo).port, close: () => new Promise<void>((res) => srv.close(() => res())) };
  }

  /** Connects, writes `bytes`, resolves with what the server sent once it closed the connection. */
  function exchange(port: number, bytes: Buffer, afterWrite?: () => void): Promise<Buffer> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const s = connect(port, '127.0.0.1', () => {
        s.write(bytes, () => afterWrite?.());
      });
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('error', () => undefined);
      s.on('close', () => resolve(Buffer.concat(chunks)));
    });
  }

  before(() => mock.timers.enable({ apis: ['setTimeout'] }));
  after(() => mock.timers.reset());

  it('a refused peer cannot make the server buffer more than one maximal packet (oversize CONNECT closes at once; nothing registered)', async () => {
    let followUps = 0;
    const srv = await serve(
      refusal(() => {
        followUps++;
        return Promise.resolve({ reasons: [], messages: [] });
      }),
    );
    // CONNECT announcing 2 MiB of body, then 512 KiB of it: well past BROKER_LIMITS.maxPacketBytes.
    const header = Buffer.from([0x10, 0x80, 0x80, 0x80, 0x01]);
    const got = await exchange(srv.port, Buffer.concat([header, Buffer.alloc(512 * 1024)]));
    assert.equal(got.length, 0);
    assert.equal(followUps, 0);
    await srv.close();
  });

  it('a follow-up that never finishes does not hold the connection open past the CONNECT wait', async () => {
    const srv = await serve(refusal(() => new Promise(() => undefined)));
    const connect5 = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'stuck', clean: true, keepalive: 60 });
    const got = await exchange(srv.port, connect5, () => setImmediate(() => mock.timers.tick(BROKER_LIMITS.connectWaitMs)));
    assert.equal(got.length, 0, 'no CONNACK: the registration outcome is unknown');
    await srv.close();
  });

  it('after the follow-up: 3.1.1 is closed without CONNACK, MQTT 5 gets CONNACK 0x87; the event is published first', async () => {
    const published: ServiceMessage[] = [];
    const event: ServiceMessage = { scope: { accountId: '123456789012', region: 'us-east-1' }, topic: '$aws/events/certificates/registered/x', payload: '{}' };
    const srv = await serve(refusal(() => Promise.resolve({ reasons: ['registered'], messages: [event] })), published);
    const v4 = await exchange(srv.port, mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'v4', clean: true, keepalive: 60 }));
    assert.equal(v4.length, 0, 'MQTT 3.1.1: closed without CONNACK');
    const v5 = await exchange(srv.port, mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'v5', clean: true, keepalive: 60 }));
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (p) => packets.push(p));
    parser.parse(v5);
    assert.equal(packets[0]?.cmd, 'connack');
    assert.equal((packets[0] as mqttPacket.IConnackPacket).reasonCode, 0x87);
    assert.equal(published.length, 2);
    await srv.close();
  });
});
