// Multi-account registration and transfer on the data plane (provisioning.md "Multi-account registration",
// data-plane.md "Which account"): one certificate registered in two accounts reaches the account its SNI names,
// with that account's policies; without SNI it cannot be placed and is refused, and `certgate why` says so.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AcceptCertificateTransferCommand,
  DescribeCertificateCommand,
  DetachPolicyCommand,
  TransferCertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { createAccount, primaryAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, endClient } from '../helpers/device.js';
import type { ConnectOutcome, Device } from '../helpers/device.js';
import { iotClient } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';

const WAIT_MS = 5_000;

/** A policy allowing connect and publish/subscribe/receive under one topic prefix only. */
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

/** MQTT 5 QoS 1 publish: the PUBACK reason code (0 = accepted, 0x87 = not authorized). */
function pubackCode(client: MqttClient, topic: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no PUBACK for ${topic} within ${WAIT_MS} ms`)), WAIT_MS);
    client.publish(topic, 'x', { qos: 1 }, (err, packet) => {
      clearTimeout(timer);
      const code = (err as (Error & { code?: number }) | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0;
      resolve(code);
    });
  });
}

function connected(r: ConnectOutcome): MqttClient {
  assert.equal(r.outcome, 'connected', r.outcome === 'refused' ? `refused: ${String(r.reasonCode)} ${r.error?.message ?? ''}` : '');
  return (r as Extract<ConnectOutcome, { outcome: 'connected' }>).client;
}

async function whyJson(server: RunningCertgate, certificateId: string, account: TestAccount): Promise<{ kind: string; outcome: string; accountId?: string; reasons: string[] }[]> {
  const res = await runCertgateCli(['why', certificateId, '--data-dir', server.dataDir, '--endpoint-url', server.apiUrl, '--json'], {
    env: { AWS_ACCESS_KEY_ID: account.accessKeyId, AWS_SECRET_ACCESS_KEY: account.secretAccessKey },
  });
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout) as { kind: string; outcome: string; accountId?: string; reasons: string[] }[];
}

describe('multi-account registration and transfer on the data plane (real server)', () => {
  let server: RunningCertgate;
  let pki: TestPki;
  let a: TestAccount;
  let b: TestAccount;
  let inA: Device;
  let inB: Device;

  before(async () => {
    server = await startCertgate();
    pki = await TestPki.create();
    a = primaryAccount(server);
    b = await createAccount(server);
    // One certificate, its CA registered nowhere: RegisterCertificateWithoutCA in both accounts (SNI_ONLY).
    const ca = await pki.makeCa({ cn: 'Multi-account Test CA' });
    const cert = await pki.makeDeviceCert(ca, { cn: 'shared-device' });
    const certificate = { certPem: cert.certPem, keyPem: cert.keyPem, withoutCa: true };
    inA = await createDevice(server, { account: a, certificate, policyDocument: prefixPolicy('alpha') });
    inB = await createDevice(server, { account: b, certificate, policyDocument: prefixPolicy('beta') });
  });
  after(async () => {
    await server?.stop();
    await pki?.cleanup();
  });

  it('the same certificate has the same id in both accounts and is SNI_ONLY in each', async () => {
    assert.equal(inA.certificateId, inB.certificateId);
    for (const account of [a, b]) {
      const d = await iotClient(account).send(new DescribeCertificateCommand({ certificateId: inA.certificateId }));
      assert.equal(d.certificateDescription?.certificateMode, 'SNI_ONLY');
      assert.equal(d.certificateDescription?.status, 'ACTIVE');
    }
  });

  it("SNI picks the account, and that account's policies apply (MQTT 5)", async () => {
    const viaA = connected(await inA.tryConnect({ protocolVersion: 5 }));
    const viaB = connected(await inB.tryConnect({ protocolVersion: 5 }));
    try {
      assert.equal(await pubackCode(viaA, 'alpha/t'), 0, "account A's policy allows alpha/*");
      assert.equal(await pubackCode(viaA, 'beta/t'), 0x87, "account A's policy does not allow beta/*");
      assert.equal(await pubackCode(viaB, 'beta/t'), 0, "account B's policy allows beta/*");
      assert.equal(await pubackCode(viaB, 'alpha/t'), 0x87, "account B's policy does not allow alpha/*");
    } finally {
      await Promise.all([endClient(viaA), endClient(viaB)]);
    }
  });

  it('accounts never see each other\'s topics, even with the same certificate', async () => {
    const subB = connected(await inB.tryConnect({ protocolVersion: 5 }));
    const pubA = connected(await inA.tryConnect({ protocolVersion: 5 }));
    try {
      // B may subscribe to beta/#; A publishes beta/t (denied by A's policy) and alpha/t: B sees nothing of A's.
      const seen: string[] = [];
      subB.on('message', (topic) => seen.push(topic));
      await subB.subscribeAsync('beta/#', { qos: 1 });
      await pubackCode(pubA, 'alpha/t');
      await pubackCode(pubA, 'beta/t');
      // B's own message is the marker that delivery works and everything before it has been routed.
      const marker = new Promise<void>((resolve) => subB.on('message', (t) => t === 'beta/marker' && resolve()));
      assert.equal(await pubackCode(subB, 'beta/marker'), 0);
      await Promise.race([marker, new Promise((_, rej) => setTimeout(() => rej(new Error('marker not delivered')), WAIT_MS))]);
      assert.deepEqual(seen, ['beta/marker']);
    } finally {
      await Promise.all([endClient(subB), endClient(pubA)]);
    }
  });

  it('without SNI the certificate cannot be placed: refused (3.1.1 and 5), and `certgate why` says SNI is needed', async () => {
    const r4 = await inA.tryConnect({ protocolVersion: 4, servername: null });
    assert.equal(r4.outcome, 'refused');
    const r5 = await inA.tryConnect({ protocolVersion: 5, servername: null });
    assert.equal(r5.outcome, 'refused');
    if (r5.outcome === 'refused') assert.equal(r5.reasonCode, 0x87);
    const records = await whyJson(server, inA.certificateId, a);
    const refusal = records.find((r) => r.kind === 'admission' && r.outcome === 'denied');
    assert.ok(refusal, JSON.stringify(records));
    assert.ok(refusal.reasons.some((x) => /SNI/.test(x)), refusal.reasons.join('; '));
  });

  it('a certificate registered only in account A, with SNI naming account B: refused, and the refusal says it is not registered there', async () => {
    const onlyA = await createDevice(server, { account: a, policyDocument: ALLOW_ALL_POLICY });
    const r = await onlyA.tryConnect({ protocolVersion: 5, servername: inB.endpoint });
    assert.equal(r.outcome, 'refused');
    if (r.outcome === 'refused') assert.equal(r.reasonCode, 0x87);
    // The attempt happened at account B's endpoint: B's operator sees it (by certificate id).
    const records = await whyJson(server, onlyA.certificateId, b);
    const refusal = records.find((x) => x.kind === 'admission' && x.outcome === 'denied');
    assert.ok(refusal, JSON.stringify(records));
    assert.equal(refusal.accountId, b.accountId, 'the refusal names the account the SNI chose');
    assert.ok(refusal.reasons.some((x) => /not registered/i.test(x) && x.includes(b.accountId)), refusal.reasons.join('; '));
  });

  it('transfer: PENDING_TRANSFER refuses the device; once accepted it connects in the new account only', async () => {
    const moving = await createDevice(server, { account: a, policyDocument: ALLOW_ALL_POLICY });
    const iotA = iotClient(a);
    const iotB = iotClient(b);
    const before = connected(await moving.tryConnect({ protocolVersion: 5 }));
    await endClient(before);
    await iotA.send(new UpdateCertificateCommand({ certificateId: moving.certificateId, newStatus: 'INACTIVE' }));
    // AWS: a certificate is transferred without policies.
    await iotA.send(new DetachPolicyCommand({ policyName: moving.policyName!, target: moving.certificateArn }));
    await iotA.send(new TransferCertificateCommand({ certificateId: moving.certificateId, targetAwsAccount: b.accountId }));
    const pending = await moving.tryConnect({ protocolVersion: 5 });
    assert.equal(pending.outcome, 'refused', 'a PENDING_TRANSFER certificate is refused');
    await iotB.send(new AcceptCertificateTransferCommand({ certificateId: moving.certificateId, setAsActive: true }));
    // Policies do not travel with a transfer: B attaches its own.
    const inNewAccount = await createDevice(server, {
      account: b,
      certificate: { certPem: moving.certPem, keyPem: moving.keyPem, withoutCa: true },
      policyDocument: ALLOW_ALL_POLICY,
    }).catch((e: unknown) => e);
    // The certificate is already B's: registering it again is a conflict, which proves the transfer happened.
    assert.ok(inNewAccount instanceof Error && /ResourceAlreadyExists|already/i.test(inNewAccount.message), String(inNewAccount));
    const viaOldEndpoint = await moving.tryConnect({ protocolVersion: 5 });
    assert.equal(viaOldEndpoint.outcome, 'refused', "account A's endpoint no longer admits the certificate");
    const described = await iotB.send(new DescribeCertificateCommand({ certificateId: moving.certificateId }));
    assert.equal(described.certificateDescription?.status, 'ACTIVE');
    assert.equal(described.certificateDescription?.ownedBy, b.accountId);
    assert.equal(described.certificateDescription?.previousOwnedBy, a.accountId);
    // B's endpoint admits it (no policy attached in B yet: connect is denied by policy, not by admission).
    const viaB = await moving.tryConnect({ protocolVersion: 5, servername: inB.endpoint });
    assert.equal(viaB.outcome, 'refused');
    const records = await whyJson(server, moving.certificateId, b);
    const admitted = records.find((x) => x.kind === 'admission' && x.outcome === 'allowed' && x.accountId === b.accountId);
    assert.ok(admitted, `admitted in account B: ${JSON.stringify(records)}`);
    const connectDenied = records.find((x) => x.kind === 'connect' && x.outcome === 'denied');
    assert.ok(connectDenied, `then iot:Connect denied for want of a policy: ${JSON.stringify(records)}`);
  });
});
