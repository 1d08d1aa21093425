// Live connections are re-checked against the registry once per cache lifetime (--registry-cache-ttl):
// what changes without a registry event still reaches connected devices. Two such changes, on the REAL
// server: a strict-mode switch written by another process (`certgate accounts update` on the same data
// dir) while the device's CA is already INACTIVE, and a device certificate passing its notAfter.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UpdateCACertificateCommand } from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { primaryAccount } from '../helpers/accounts.js';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, endClient } from '../helpers/device.js';
import { iotClient } from '../helpers/iot-clients.js';
import { craftDeviceCert, registerCraftedCa } from '../helpers/short-lived-certificates.js';
import { whyRecords } from '../helpers/why-records.js';

/** The server re-checks every second here; a close must come within a few periods (bounded). */
const CACHE_TTL_SECONDS = 1;
const CLOSE_WAIT_MS = 10_000;

function closedWithin(client: MqttClient, ms: number): Promise<boolean> {
  if (!client.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('data plane: periodic re-check of live connections (--registry-cache-ttl)', () => {
  let server: RunningCertgate;

  before(async () => {
    server = await startCertgate({ args: ['--registry-cache-ttl', String(CACHE_TTL_SECONDS)] });
  });
  after(async () => {
    await server?.stop();
  });

  it('strict CA mode switched on by another process disconnects devices of an already INACTIVE CA', async () => {
    const account = primaryAccount(server);
    const ca = await registerCraftedCa(account);
    const leaf = await craftDeviceCert(ca, { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) });
    const device = await createDevice(server, {
      policyDocument: ALLOW_ALL_POLICY,
      certificate: { certPem: leaf.certPem, keyPem: leaf.keyPem, caCertificatePem: ca.certPem, status: 'ACTIVE' },
    });
    const client = await device.connect({ protocolVersion: 5 });
    try {
      await iotClient(server).send(new UpdateCACertificateCommand({ certificateId: ca.caCertificateId, newStatus: 'INACTIVE' }));
      // Not strict (AWS's behaviour): the device survives several re-checks.
      assert.equal(await closedWithin(client, 3 * CACHE_TTL_SECONDS * 1000), false, 'without strict mode an INACTIVE CA keeps its devices connected');

      const res = await runCertgateCli(['accounts', 'update', server.accountId, '--strict-ca-mode', 'on', '--data-dir', server.dataDir]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(await closedWithin(client, CLOSE_WAIT_MS), true, 'the re-check closes the connection once the account is strict');

      const records = await whyRecords(server, device.certificateId);
      const closed = records.find((r) => r.kind === 'disconnect' && r.outcome === 'denied');
      assert.ok(closed, JSON.stringify(records));
      assert.ok(closed.reasons.some((r) => /CA_NOT_ACTIVE/.test(r)), closed.reasons.join('; '));
      const again = await device.tryConnect({ protocolVersion: 5 });
      assert.equal(again.outcome, 'refused');
    } finally {
      await endClient(client, true);
      await runCertgateCli(['accounts', 'update', server.accountId, '--strict-ca-mode', 'off', '--data-dir', server.dataDir]);
    }
  });

  it('a connected device is disconnected once its certificate expires (CERTIFICATE_EXPIRED)', async () => {
    const account = primaryAccount(server);
    const ca = await registerCraftedCa(account);
    const notAfter = new Date(Math.floor((Date.now() + 5_000) / 1000) * 1000);
    const leaf = await craftDeviceCert(ca, { notBefore: new Date(Date.now() - 60_000), notAfter });
    const device = await createDevice(server, {
      policyDocument: ALLOW_ALL_POLICY,
      certificate: { certPem: leaf.certPem, keyPem: leaf.keyPem, caCertificatePem: ca.certPem, status: 'ACTIVE' },
    });
    const client = await device.connect({ protocolVersion: 4 });
    try {
      const waitMs = Math.max(0, notAfter.getTime() - Date.now()) + CLOSE_WAIT_MS;
      assert.equal(await closedWithin(client, waitMs), true, 'closed after notAfter');
      assert.ok(Date.now() >= notAfter.getTime(), 'not closed before the certificate expired');
      const records = await whyRecords(server, device.certificateId);
      const closed = records.find((r) => r.kind === 'disconnect' && r.outcome === 'denied');
      assert.ok(closed, JSON.stringify(records));
      assert.ok(closed.reasons.some((r) => /CERTIFICATE_EXPIRED/.test(r)), closed.reasons.join('; '));
    } finally {
      await endClient(client, true);
    }
  });
});
