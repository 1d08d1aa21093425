// Strict CA mode (data-plane.md "Authenticating the device" step 6), switched with the real CLI
// (`certgate accounts update <account> --strict-ca-mode on|off`) and observed on the REAL server:
// - off (the default, AWS's behaviour): a CA set INACTIVE blocks new registrations only; its devices stay
//   connected and may connect again;
// - on: UpdateCACertificate INACTIVE disconnects the CA's connected devices and refuses new connections
//   (CA_NOT_ACTIVE, explained by `certgate why`); ACTIVE again admits them.
// The server reads account settings through a cache (~30 s): the test switches the mode and then restarts
// the server so that it starts with the setting, instead of waiting for the cache.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UpdateCACertificateCommand } from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { createAccount, primaryAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, endClient } from '../helpers/device.js';
import type { ConnectOutcome, Device } from '../helpers/device.js';
import { iotClient } from '../helpers/iot-clients.js';
import { craftDeviceCert, registerCraftedCa } from '../helpers/short-lived-certificates.js';
import type { CraftedCa } from '../helpers/short-lived-certificates.js';
import { lastAdmissionRefusal } from '../helpers/why-records.js';

const WAIT_MS = 5_000;
const NOT_AUTHORIZED = 0x87;

function closedWithin(client: MqttClient, ms = WAIT_MS): Promise<boolean> {
  if (!client.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** A QoS 1 round trip through the server on a fresh topic: proves a connection still works. */
async function roundTrip(sub: MqttClient, pub: MqttClient): Promise<string | undefined> {
  const topic = `strict/${randomBytes(4).toString('hex')}`;
  await new Promise<void>((resolve, reject) => sub.subscribe(topic, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  const got = new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), WAIT_MS);
    sub.on('message', (t, payload) => {
      if (t !== topic) return;
      clearTimeout(timer);
      resolve(payload.toString());
    });
  });
  pub.publish(topic, 'still here', { qos: 1 });
  return got;
}

function assertConnected(r: ConnectOutcome): MqttClient {
  if (r.outcome !== 'connected') assert.fail(`refused: ${String(r.reasonCode)} ${r.error?.message ?? ''}`);
  return r.client;
}

async function deviceUnder(account: TestAccount, server: RunningCertgate, ca: CraftedCa): Promise<Device> {
  const leaf = await craftDeviceCert(ca, { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) });
  return createDevice(server, {
    account,
    policyDocument: ALLOW_ALL_POLICY,
    certificate: { certPem: leaf.certPem, keyPem: leaf.keyPem, caCertificatePem: ca.certPem, status: 'ACTIVE' },
  });
}

async function setStrictMode(dataDir: string, account: string, mode: 'on' | 'off'): Promise<void> {
  const res = await runCertgateCli(['accounts', 'update', account, '--strict-ca-mode', mode, '--data-dir', dataDir]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`strict CA mode ${mode}`));
}

describe('data plane: strict CA mode (certgate accounts update --strict-ca-mode)', () => {
  let dataDir: string;
  let server: RunningCertgate | undefined;
  let strict: TestAccount;
  let lenient: TestAccount;
  const open: MqttClient[] = [];
  const track = (c: MqttClient): MqttClient => (open.push(c), c);

  /** (Re)starts the server on the data dir; the accounts' API URL follows the new port. */
  async function restart(): Promise<RunningCertgate> {
    await Promise.all(open.splice(0).map((c) => endClient(c, true)));
    await server?.stop();
    server = undefined;
    const s = await startCertgate({ dataDir });
    server = s;
    strict = { ...strict, apiUrl: s.apiUrl };
    lenient = { ...lenient, apiUrl: s.apiUrl };
    return s;
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'certgate-strict-'));
    server = await startCertgate({ dataDir });
    lenient = primaryAccount(server);
    strict = await createAccount(server, 'strict-tenant');
  });
  after(async () => {
    await Promise.all(open.splice(0).map((c) => endClient(c, true)));
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('accounts update switches the mode by name or id; accounts list shows it; bad input fails in one line', async () => {
    await setStrictMode(dataDir, 'strict-tenant', 'on');
    const listed = await runCertgateCli(['accounts', 'list', '--json', '--data-dir', dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as { name: string; accountId: string; strictCaMode: boolean }[];
    assert.deepEqual(
      rows.map((r) => [r.accountId, r.strictCaMode]).sort(),
      [[lenient.accountId, false], [strict.accountId, true]].sort(),
    );
    const table = await runCertgateCli(['accounts', 'list', '--data-dir', dataDir]);
    assert.match(table.stdout, /STRICT CA MODE/);
    assert.match(table.stdout, /strict-tenant\s.*\son\n/);

    await setStrictMode(dataDir, strict.accountId, 'on'); // by id, idempotent
    const unknown = await runCertgateCli(['accounts', 'update', 'no-such-account', '--strict-ca-mode', 'on', '--data-dir', dataDir]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^certgate: No account with the id or name 'no-such-account'\n$/);
    const nothing = await runCertgateCli(['accounts', 'update', 'strict-tenant', '--data-dir', dataDir]);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /^certgate: No account setting to change/);
    const badValue = await runCertgateCli(['accounts', 'update', 'strict-tenant', '--strict-ca-mode', 'yes', '--data-dir', dataDir]);
    assert.notEqual(badValue.code, 0);
    assert.match(badValue.stderr, /Allowed choices are on, off/);
  });

  it('strict mode on: UpdateCACertificate INACTIVE disconnects the CA\'s devices and refuses them (CA_NOT_ACTIVE); ACTIVE again admits them', async () => {
    const s = await restart();
    const ca = await registerCraftedCa(strict);
    const device = await deviceUnder(strict, s, ca);
    const bystander = await createDevice(s, { account: strict, policyDocument: ALLOW_ALL_POLICY }); // issued by certgate, no registered CA
    const v4 = track(assertConnected(await device.tryConnect({ protocolVersion: 4 })));
    const v5 = track(assertConnected(await device.tryConnect({ protocolVersion: 5 })));
    const other = track(await bystander.connect({ protocolVersion: 4 }));

    const closes = Promise.all([closedWithin(v4), closedWithin(v5)]);
    await iotClient(strict).send(new UpdateCACertificateCommand({ certificateId: ca.caCertificateId, newStatus: 'INACTIVE' }));
    assert.deepEqual(await closes, [true, true], 'both connections of the CA\'s device are closed');
    assert.equal(other.connected, true, 'a device of no registered CA is not affected');

    const again5 = await device.tryConnect({ protocolVersion: 5 });
    assert.equal(again5.outcome, 'refused');
    if (again5.outcome === 'refused') assert.equal(again5.reasonCode, NOT_AUTHORIZED);
    const again4 = await device.tryConnect({ protocolVersion: 4 });
    assert.equal(again4.outcome, 'refused');
    if (again4.outcome === 'refused') assert.equal(again4.reasonCode, undefined, 'MQTT 3.1.1: no CONNACK');
    const refusal = await lastAdmissionRefusal(s, device.certificateId, strict);
    assert.equal(refusal.accountId, strict.accountId);
    assert.ok(refusal.reasons.some((r) => r.startsWith('CA_NOT_ACTIVE') && r.includes(ca.caCertificateId) && r.includes('strict CA mode')), refusal.reasons.join('; '));

    await iotClient(strict).send(new UpdateCACertificateCommand({ certificateId: ca.caCertificateId, newStatus: 'ACTIVE' }));
    track(assertConnected(await device.tryConnect({ protocolVersion: 5 })));
  });

  it('strict mode off (default, AWS): the CA\'s devices stay connected and keep working, and may connect again', async () => {
    const s = server!;
    const ca = await registerCraftedCa(lenient);
    const device = await deviceUnder(lenient, s, ca);
    const sub = track(assertConnected(await device.tryConnect({ protocolVersion: 5 })));
    const pub = track(assertConnected(await device.tryConnect({ protocolVersion: 4 })));

    const closing = closedWithin(sub, 1_500);
    await iotClient(lenient).send(new UpdateCACertificateCommand({ certificateId: ca.caCertificateId, newStatus: 'INACTIVE' }));
    assert.equal(await closing, false, 'not disconnected');
    assert.equal(await roundTrip(sub, pub), 'still here');
    track(assertConnected(await device.tryConnect({ protocolVersion: 4 })));
  });

  it('switching strict mode off again (and restarting): devices of an INACTIVE CA are admitted', async () => {
    const ca = await registerCraftedCa(strict);
    const device = await deviceUnder(strict, server!, ca);
    await iotClient(strict).send(new UpdateCACertificateCommand({ certificateId: ca.caCertificateId, newStatus: 'INACTIVE' }));
    const refused = await device.tryConnect({ protocolVersion: 5 });
    assert.equal(refused.outcome, 'refused', 'strict mode still on');
    await setStrictMode(dataDir, 'strict-tenant', 'off');
    const s = await restart();
    const listed = JSON.parse((await runCertgateCli(['accounts', 'list', '--json', '--data-dir', dataDir])).stdout) as { name: string; strictCaMode: boolean }[];
    assert.equal(listed.find((r) => r.name === 'strict-tenant')?.strictCaMode, false);
    // The device handle knows the old server's port: present its certificate through a handle of the new one.
    const carrier = await createDevice(s, { account: strict });
    track(assertConnected(await carrier.tryConnect({ protocolVersion: 5, cert: { certPem: device.certPem, keyPem: device.keyPem } })));
  });
});
