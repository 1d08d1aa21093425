// Issue 10 #14 "Records and limits per account": `certgate why` (GET /certgate/access-records) stays within the
// caller's account, never names another account, and one noisy tenant cannot evict another's evidence.
// Real server, real accounts (`certgate accounts create`), real mTLS connections (mqtt.js), real `certgate why`.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { RegisterCACertificateCommand } from '@aws-sdk/client-iot';
import { iotClient } from '../helpers/iot-clients.js';
import { createAccessLog } from '../../src/access/index.js';
import type { AdmissionResult, ConnectionAuthorization, DeviceAccess } from '../../src/access/index.js';
import { createBroker } from '../../src/broker/index.js';
import { silentLogger, systemClock } from '../../src/kernel/index.js';
import { createAccount, primaryAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { createDevice, endClient } from '../helpers/device.js';
import type { ConnectOutcome } from '../helpers/device.js';
import { TestPki } from '../helpers/openssl.js';
import { whyRecords } from '../helpers/why-records.js';
import type { WhyRecord } from '../helpers/why-records.js';

const WAIT_MS = 8_000;

/** Connect, and publish/subscribe only under `prefix/`. */
function prefixPolicy(prefix: string): object {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: '*' },
      { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: `arn:aws:iot:*:*:topic/${prefix}/*` },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `arn:aws:iot:*:*:topicfilter/${prefix}/*` },
    ],
  };
}

function connected(r: ConnectOutcome): MqttClient {
  assert.equal(r.outcome, 'connected', r.outcome === 'refused' ? `refused: ${String(r.reasonCode)} ${r.error?.message ?? ''}` : '');
  return (r as Extract<ConnectOutcome, { outcome: 'connected' }>).client;
}

/** MQTT 5 QoS 1 publish: the PUBACK reason code (0 accepted, 0x87 not authorized). */
function pubackCode(client: MqttClient, topic: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no PUBACK for ${topic} within ${WAIT_MS} ms`)), WAIT_MS);
    client.publish(topic, 'x', { qos: 1 }, (err, packet) => {
      clearTimeout(timer);
      resolve((err as (Error & { code?: number }) | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
    });
  });
}

/** No field of any record (account id, reasons, resource …) mentions `accountId`. */
function assertNeverNamed(records: readonly WhyRecord[], accountId: string, who: string): void {
  for (const r of records) assert.ok(!JSON.stringify(r).includes(accountId), `${who} was shown account ${accountId}: ${JSON.stringify(r)}`);
}

describe('issue 10 #14: access records stay within the caller\'s account (real server, two tenant accounts)', () => {
  let server: RunningCertgate;
  let pki: TestPki;
  /** The operator's account: the default account, whose keys `certgate serve` writes to the data directory. */
  let operator: TestAccount;
  let a: TestAccount;
  let b: TestAccount;

  before(async () => {
    server = await startCertgate();
    pki = await TestPki.create();
    operator = primaryAccount(server);
    a = await createAccount(server, 'tenant-a');
    b = await createAccount(server, 'tenant-b');
  });
  after(async () => {
    await server?.stop();
    await pki?.cleanup();
  });

  it('issue 10 #14: a certificate registered SNI_ONLY in two accounts, refused without SNI: neither tenant is shown the other account', async () => {
    const ca = await pki.makeCa({ cn: 'Records Test CA' });
    const cert = await pki.makeDeviceCert(ca, { cn: 'shared-by-two' });
    const certificate = { certPem: cert.certPem, keyPem: cert.keyPem, withoutCa: true };
    const inA = await createDevice(server, { account: a, certificate, policyDocument: prefixPolicy('a') });
    await createDevice(server, { account: b, certificate, policyDocument: prefixPolicy('b') });
    const r = await inA.tryConnect({ protocolVersion: 5, servername: null });
    assert.equal(r.outcome, 'refused');

    const seenByA = await whyRecords(server, inA.certificateId, a);
    const seenByB = await whyRecords(server, inA.certificateId, b);
    assertNeverNamed(seenByA, b.accountId, 'account A');
    assertNeverNamed(seenByB, a.accountId, 'account B');
    // The operator is told why (SNI is needed), without a list of the tenants that registered it.
    const seenByOperator = await whyRecords(server, inA.certificateId, operator);
    const refusal = seenByOperator.find((x) => x.kind === 'admission' && x.outcome === 'denied');
    assert.ok(refusal, `the operator sees the refusal: ${JSON.stringify(seenByOperator)}`);
    assert.ok(refusal.reasons.some((x) => /SNI/.test(x)), refusal.reasons.join('; '));
    assertNeverNamed(seenByOperator, a.accountId, 'the operator');
    assertNeverNamed(seenByOperator, b.accountId, 'the operator');
  });

  it('issue 10 #14: JITR without SNI, the issuer CA registered SNI_ONLY in two accounts: the refusal lists no account', async () => {
    const ca = await pki.makeCa({ cn: 'Shared SNI_ONLY CA' });
    for (const account of [a, b]) {
      await iotClient(account).send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, certificateMode: 'SNI_ONLY', setAsActive: true, allowAutoRegistration: true }));
    }
    const leaf = await pki.makeDeviceCert(ca, { cn: 'jit-device' });
    const carrier = await createDevice(server, { account: a, policyDocument: prefixPolicy('a') });
    const r = await carrier.tryConnect({ protocolVersion: 5, servername: null, cert: { certPem: leaf.certPem, keyPem: leaf.keyPem } });
    assert.equal(r.outcome, 'refused');
    const leafId = await certificateIdOfPem(leaf.certPem);
    for (const viewer of [a, b, operator]) {
      const seen = await whyRecords(server, leafId, viewer);
      assertNeverNamed(seen, a.accountId, viewer.name);
      assertNeverNamed(seen, b.accountId, viewer.name);
    }
    const refusal = (await whyRecords(server, leafId, operator)).find((x) => x.kind === 'admission');
    assert.ok(refusal?.reasons.some((x) => /2 accounts/.test(x)), JSON.stringify(refusal));
  });

  it('issue 10 #14: a refusal placed in no account (certificate registered nowhere) is not shown to every account that asks by its id', async () => {
    const stranger = await pki.makeSelfSigned();
    // Any account's device template gives the trust store and endpoint; the certificate presented is the stranger's.
    const carrier = await createDevice(server, { account: a, policyDocument: prefixPolicy('a') });
    const r = await carrier.tryConnect({ protocolVersion: 5, servername: null, cert: { certPem: stranger.certPem, keyPem: stranger.keyPem } });
    assert.equal(r.outcome, 'refused');
    const strangerId = await certificateIdOfPem(stranger.certPem);
    assert.deepEqual(await whyRecords(server, strangerId, a), [], 'tenant A is not shown a refusal no account owns');
    assert.deepEqual(await whyRecords(server, strangerId, b), [], 'tenant B is not shown a refusal no account owns');
    const seenByOperator = await whyRecords(server, strangerId, operator);
    assert.ok(
      seenByOperator.some((x) => x.kind === 'admission' && x.reasons.some((reason) => reason.startsWith('UNKNOWN_CERTIFICATE'))),
      `the operator (data directory keys) sees why: ${JSON.stringify(seenByOperator)}`,
    );
  });

  it('issue 10 #14: a refusal before placement (unknown endpoint) is filed under the account holding the certificate, and only there', async () => {
    const device = await createDevice(server, { account: a, policyDocument: prefixPolicy('a') });
    const host = device.endpoint.replace(/^[^-]+-ats\./, 'nosuchprefix00-ats.');
    const r = await device.tryConnect({ protocolVersion: 5, servername: host });
    assert.equal(r.outcome, 'refused');
    const seenByA = await whyRecords(server, device.certificateId, a);
    const refusal = seenByA.find((x) => x.kind === 'admission' && x.outcome === 'denied');
    assert.ok(refusal, `account A, which registered the certificate, sees the refusal: ${JSON.stringify(seenByA)}`);
    assert.equal(refusal.accountId, a.accountId);
    assert.ok(refusal.reasons.some((x) => x.startsWith('UNKNOWN_ENDPOINT') && x.includes('nosuchprefix00')), refusal.reasons.join('; '));
    assert.deepEqual(await whyRecords(server, device.certificateId, b), [], 'account B does not see account A\'s device');
  });

  it('issue 10 #14: account B cannot read account A\'s records, by A\'s certificate id or by a client id both use', async () => {
    const clientId = 'same-client-id-in-two-accounts';
    const devA = await createDevice(server, { account: a, policyDocument: prefixPolicy('a') });
    const devB = await createDevice(server, { account: b, policyDocument: prefixPolicy('b') });
    const ca = connected(await devA.tryConnect({ protocolVersion: 5, clientId }));
    try {
      assert.equal(await pubackCode(ca, 'secret-of-a/x'), 0x87);
    } finally {
      await endClient(ca);
    }
    const cb = connected(await devB.tryConnect({ protocolVersion: 5, clientId }));
    try {
      assert.equal(await pubackCode(cb, 'b/x'), 0);
    } finally {
      await endClient(cb);
    }
    assert.deepEqual(await whyRecords(server, devA.certificateId, b), [], "B asking by A's certificate id");
    const byClientB = await whyRecords(server, clientId, b);
    assert.ok(byClientB.length > 0);
    assert.ok(byClientB.every((x) => x.accountId === b.accountId && x.certificateId === devB.certificateId), JSON.stringify(byClientB));
    assertNeverNamed(byClientB, a.accountId, 'account B');
    assert.ok(!JSON.stringify(byClientB).includes('secret-of-a'), 'B is not shown the topics A used');
    const byClientA = await whyRecords(server, clientId, a);
    assert.ok(byClientA.some((x) => x.kind === 'publish' && x.outcome === 'denied' && x.resource === 'secret-of-a/x'), JSON.stringify(byClientA));
    assert.ok(byClientA.every((x) => x.accountId === a.accountId), JSON.stringify(byClientA));
  });

  it('issue 10 #14: the access log is bounded per account: account B flooding denials does not evict account A\'s evidence', async () => {
    const devA = await createDevice(server, { account: a, policyDocument: prefixPolicy('a') });
    const devB = await createDevice(server, { account: b, policyDocument: prefixPolicy('b') });
    const quiet = connected(await devA.tryConnect({ protocolVersion: 5, clientId: 'quiet-tenant-device' }));
    try {
      assert.equal(await pubackCode(quiet, 'not-allowed/evidence'), 0x87);
    } finally {
      await endClient(quiet);
    }
    const noisy = connected(await devB.tryConnect({ protocolVersion: 5, clientId: 'noisy-tenant-device' }));
    try {
      // More denials than the whole log used to hold (10,000 records), as QoS 0 publishes, then one QoS 1 publish:
      // its PUBACK comes after every earlier packet of this connection was handled.
      for (let i = 0; i < 10_500; i++) noisy.publish(`denied/${i % 50}`, 'x', { qos: 0 });
      assert.equal(await pubackCode(noisy, 'denied/last'), 0x87);
    } finally {
      await endClient(noisy);
    }
    const seenByA = await whyRecords(server, 'quiet-tenant-device', a);
    assert.ok(
      seenByA.some((x) => x.kind === 'publish' && x.outcome === 'denied' && x.resource === 'not-allowed/evidence'),
      `account A's denial survived account B's flood: ${JSON.stringify(seenByA.slice(0, 3))}`,
    );
    const seenByB = await whyRecords(server, 'noisy-tenant-device', b);
    assert.ok(seenByB.some((x) => x.resource === 'denied/last'), 'B still sees its own newest records');
  });
});

async function certificateIdOfPem(pem: string): Promise<string> {
  const { X509Certificate, createHash } = await import('node:crypto');
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

describe('issue 10 #14: the periodic re-check records why a connection was closed without naming another account', () => {
  it('issue 10 #14: a live connection of account A re-admitted elsewhere (or refused with a reason about account B): A\'s record names no other account', async () => {
    const A = '111111111111';
    const B = '222222222222';
    const allow = { effect: 'Allow', reasons: ['test: allowed'], statements: [] } as unknown as ReturnType<ConnectionAuthorization['connect']>;
    // Real broker and access log; the admission answers change between CONNECT and the re-checks, as a
    // registration, transfer or SNI_ONLY registration by another account would make them change.
    const answers: AdmissionResult[] = [
      { admitted: true, principal: { scope: { accountId: A, region: 'us-east-1' }, certificateId: 'c'.repeat(64), certificateArn: 'arn', certificateValues: {} } },
      { admitted: false, refusal: 'SNI_REQUIRED', reason: `certificate is registered in SNI_ONLY mode in account ${B} (us-east-1)`, certificateId: 'c'.repeat(64), accountId: B, region: 'us-east-1' },
      { admitted: true, principal: { scope: { accountId: B, region: 'us-east-1' }, certificateId: 'c'.repeat(64), certificateArn: 'arn', certificateValues: {} } },
    ];
    let next = 0;
    const access: DeviceAccess = {
      admit: () => Promise.resolve(answers[Math.min(next++, answers.length - 1)]!),
      authorize: () => Promise.resolve({ connect: () => allow, publish: () => allow, subscribe: () => allow, receive: () => allow }),
    };
    const log = createAccessLog();
    const broker = createBroker({ access, accessLog: log, clock: systemClock, logger: silentLogger });
    const server = createServer((socket) =>
      broker.handle(socket, { certificateDer: new Uint8Array([1]), chainDer: [], serverName: undefined, remoteAddress: '127.0.0.1', remotePort: 0, listener: 'mqtt' }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const round of [1, 2]) {
        next = 0;
        const client = await mqtt.connectAsync(url, { clientId: `recheck-${round}`, reconnectPeriod: 0, connectTimeout: 5_000 });
        next = round; // the re-check sees answer #round
        assert.equal(await broker.revalidateConnections(), 1);
        await client.endAsync(true);
        const records = log.recent({ accountId: A, clientId: `recheck-${round}` });
        const closed = records.find((r) => r.kind === 'disconnect' && r.outcome === 'denied');
        assert.ok(closed, JSON.stringify(records));
        assert.ok(!JSON.stringify(records).includes(B), `account A's record names account B: ${JSON.stringify(closed)}`);
      }
    } finally {
      await broker.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
