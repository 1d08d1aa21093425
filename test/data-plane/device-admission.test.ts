// Device admission against the REAL server process (data-plane.md "Authenticating the device", "Which account"):
// mqtt.js 3.1.1 and 5 clients over mutual TLS that verify certgate's server chain, openssl s_client for the chain.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UpdateCertificateCommand } from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { createAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice, dataEndpointOf, endClient } from '../helpers/device.js';
import type { ConnectOutcome, Device } from '../helpers/device.js';
import { iotClient } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';
import { sClient } from './openssl-s-client.js';

const CLOSE_WAIT_MS = 5_000;
/** MQTT 5 CONNACK "Not authorized" [MQTT-3.2.2.2]; AWS answers refused devices with it. */
const NOT_AUTHORIZED = 0x87;

function closed(client: MqttClient): Promise<boolean> {
  if (!client.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), CLOSE_WAIT_MS);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** data-plane.md step 4: 3.1.1 → the connection is closed without CONNACK; 5 → CONNACK 0x87, then close. */
function assertRefused(r: ConnectOutcome, protocolVersion: 4 | 5): void {
  assert.equal(r.outcome, 'refused', 'expected a refusal, the device connected');
  if (r.outcome !== 'refused') return;
  if (protocolVersion === 4) assert.equal(r.reasonCode, undefined, 'MQTT 3.1.1: no CONNACK for a refused device');
  else assert.equal(r.reasonCode, NOT_AUTHORIZED, `MQTT 5: CONNACK 0x87 (${r.error?.message ?? 'closed'})`);
}

describe('data plane: device admission (real server)', () => {
  let server: RunningCertgate;
  let pki: TestPki;
  let device: Device;
  let other: TestAccount;

  before(async () => {
    server = await startCertgate({ args: ['--alpn-port', '0'] });
    assert.ok(server.mqttPort !== undefined && server.mqttPort > 0, `no mqttPort in the ready line:\n${server.output()}`);
    assert.ok(server.alpnPort !== undefined && server.alpnPort > 0, `no alpnPort in the ready line:\n${server.output()}`);
    pki = await TestPki.create();
    device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    other = await createAccount(server);
  });
  after(async () => {
    await server?.stop();
    await pki?.cleanup();
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`an ACTIVE certificate connects with MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}; the server chain verifies against certgate's roots and the endpoint name`, async () => {
      const r = await device.tryConnect({ protocolVersion });
      assert.equal(r.outcome, 'connected', r.outcome === 'refused' ? `refused: ${r.reasonCode} ${r.error?.message}` : '');
      if (r.outcome !== 'connected') return;
      assert.equal(r.connack.returnCode ?? r.connack.reasonCode ?? 0, 0);
      await endClient(r.client);
    });
  }

  it('without SNI, a DEFAULT-mode certificate is placed by its registration (data-plane.md "Which account")', async () => {
    const r = await device.tryConnect({ servername: null });
    assert.equal(r.outcome, 'connected', r.outcome === 'refused' ? `refused: ${r.error?.message}` : '');
    if (r.outcome === 'connected') await endClient(r.client);
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`an unregistered certificate is refused (MQTT ${protocolVersion})`, async () => {
      const stranger = await pki.makeSelfSigned();
      assertRefused(await device.tryConnect({ protocolVersion, cert: { certPem: stranger.certPem, keyPem: stranger.keyPem } }), protocolVersion);
    });

    it(`a client without a certificate is refused (MQTT ${protocolVersion})`, async () => {
      assertRefused(await device.tryConnect({ protocolVersion, cert: null }), protocolVersion);
    });
  }

  it('INACTIVE and REVOKED certificates are refused (3.1.1 and 5)', async () => {
    const iot = iotClient(server);
    const inactive = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    await iot.send(new UpdateCertificateCommand({ certificateId: inactive.certificateId, newStatus: 'INACTIVE' }));
    assertRefused(await inactive.tryConnect({ protocolVersion: 4 }), 4);
    assertRefused(await inactive.tryConnect({ protocolVersion: 5 }), 5);
    const revoked = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    await iot.send(new UpdateCertificateCommand({ certificateId: revoked.certificateId, newStatus: 'REVOKED' }));
    assertRefused(await revoked.tryConnect({ protocolVersion: 4 }), 4);
    assertRefused(await revoked.tryConnect({ protocolVersion: 5 }), 5);
  });

  it("SNI naming another account's endpoint is refused: the certificate is not registered there", async () => {
    const otherEndpoint = await dataEndpointOf(other);
    assert.notEqual(otherEndpoint, device.endpoint);
    assertRefused(await device.tryConnect({ protocolVersion: 5, servername: otherEndpoint }), 5);
    assertRefused(await device.tryConnect({ protocolVersion: 4, servername: otherEndpoint }), 4);
  });

  it('SNI that is no account endpoint is refused (UNKNOWN_ENDPOINT)', async () => {
    // Matches the server certificate's *.iot.<region>.<domain>, so TLS verification passes; no account has it.
    const unknown = `zz0000000000000-ats.iot.${server.region}.localhost`;
    assertRefused(await device.tryConnect({ protocolVersion: 5, servername: unknown }), 5);
  });

  it('revoking a connected certificate disconnects it (target < 1 s; bounded wait 5 s)', async () => {
    const victim = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const v4 = await victim.connect({ protocolVersion: 4 });
    const v5 = await victim.connect({ protocolVersion: 5 });
    const bystander = await device.connect({ protocolVersion: 4 });
    try {
      const closes = Promise.all([closed(v4), closed(v5)]);
      await iotClient(server).send(new UpdateCertificateCommand({ certificateId: victim.certificateId, newStatus: 'REVOKED' }));
      assert.deepEqual(await closes, [true, true], 'both connections of the revoked certificate are closed');
      assert.equal(bystander.connected, true, 'other devices are not affected');
      assertRefused(await victim.tryConnect({ protocolVersion: 4 }), 4);
    } finally {
      await Promise.all([endClient(v4, true), endClient(v5, true), endClient(bystander)]);
    }
  });

  it('`certgate why <certificateId>` shows the refusal and its reason', async () => {
    const refused = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    await iotClient(server).send(new UpdateCertificateCommand({ certificateId: refused.certificateId, newStatus: 'INACTIVE' }));
    assertRefused(await refused.tryConnect({ protocolVersion: 5 }), 5);
    const res = await runCertgateCli(['why', refused.certificateId, '--data-dir', server.dataDir, '--endpoint-url', server.apiUrl]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /admission\s+DENIED/);
    assert.match(res.stdout, new RegExp(refused.certificateId));
    assert.match(res.stdout, /INACTIVE/);
    const json = await runCertgateCli(['why', refused.certificateId, '--data-dir', server.dataDir, '--endpoint-url', server.apiUrl, '--json']);
    const records = JSON.parse(json.stdout) as { kind: string; outcome: string; certificateId?: string; accountId?: string; reasons: string[] }[];
    const admission = records.find((r) => r.kind === 'admission');
    assert.ok(admission, json.stdout);
    assert.equal(admission.outcome, 'denied');
    assert.equal(admission.accountId, server.accountId);
    assert.ok(admission.reasons.some((r) => r.includes('INACTIVE')), admission.reasons.join('; '));
  });

  it('`certgate why` against a server that is not running fails with one line', async () => {
    const res = await runCertgateCli(['why', 'some-client', '--data-dir', server.dataDir, '--endpoint-url', 'http://127.0.0.1:1']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^certgate: cannot reach certgate at http:\/\/127\.0\.0\.1:1/);
  });

  it('--alpn-port: a device negotiating x-amzn-mqtt-ca connects (AWS: port 443); a client without that ALPN is refused', async () => {
    const r = await device.tryConnect({ protocolVersion: 5, alpn: true });
    assert.equal(r.outcome, 'connected', r.outcome === 'refused' ? `refused: ${r.error?.message}` : '');
    if (r.outcome === 'connected') await endClient(r.client);
    const s = await sClient({ port: server.alpnPort!, servername: device.endpoint, alpn: 'x-amzn-mqtt-ca' });
    assert.equal(s.alpn, 'ALPN protocol: x-amzn-mqtt-ca');
    const withoutAlpn = await device.tryConnect({ protocolVersion: 5, port: server.alpnPort! });
    assert.equal(withoutAlpn.outcome, 'refused');
    if (withoutAlpn.outcome === 'refused') assert.equal(withoutAlpn.reasonCode, undefined, 'refused at the TLS layer: no CONNACK');
  });

  it('the real listener sends leaf + ECC intermediate to an ECDSA-only TLS 1.2 client, leaf + RSA intermediate to an RSA-only one, never a root', async () => {
    const ecc = await sClient({ port: server.mqttPort!, servername: device.endpoint, cipher: 'aECDSA', tls: '1.2' });
    assert.equal(ecc.chain.length, 2, ecc.stdout + ecc.stderr);
    assert.equal(ecc.chain[0]!.publicKey.algorithm, 'EC');
    assert.match(ecc.chain[1]!.subject, /Intermediate CA ECC/);
    assert.equal(ecc.chain[0]!.authorityKeyId, ecc.chain[1]!.subjectKeyId);
    const rsa = await sClient({ port: server.mqttPort!, servername: device.endpoint, cipher: 'aRSA', tls: '1.2' });
    assert.equal(rsa.chain.length, 2, rsa.stdout + rsa.stderr);
    assert.equal(rsa.chain[0]!.publicKey.algorithm, 'RSA');
    assert.match(rsa.chain[1]!.subject, /Intermediate CA RSA/);
    assert.equal(rsa.chain[0]!.authorityKeyId, rsa.chain[1]!.subjectKeyId);
    for (const c of [...ecc.chain, ...rsa.chain]) assert.doesNotMatch(c.subject, /Root CA/);
    assert.equal(ecc.sawSessionTicket || rsa.sawSessionTicket, false);
  });
});

describe('data plane: --require-sni (real server)', () => {
  let server: RunningCertgate;
  let device: Device;
  before(async () => {
    server = await startCertgate({ args: ['--require-sni'] });
    device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
  });
  after(async () => {
    await server?.stop();
  });

  it('refuses a device that sends no server name, admits it with its account endpoint, and `certgate why` says SNI', async () => {
    assertRefused(await device.tryConnect({ protocolVersion: 5, servername: null }), 5);
    const ok = await device.tryConnect({ protocolVersion: 5 });
    assert.equal(ok.outcome, 'connected');
    if (ok.outcome === 'connected') await endClient(ok.client);
    const res = await runCertgateCli(['why', device.certificateId, '--data-dir', server.dataDir, '--endpoint-url', server.apiUrl, '--json']);
    assert.equal(res.code, 0, res.stderr);
    const records = JSON.parse(res.stdout) as { kind: string; outcome: string; reasons: string[] }[];
    const refusal = records.find((r) => r.kind === 'admission' && r.outcome === 'denied');
    assert.ok(refusal, res.stdout);
    assert.ok(refusal.reasons.some((r) => /SNI|server name/i.test(r)), refusal.reasons.join('; '));
  });

  it('graceful shutdown (SIGTERM) with devices connected: they are disconnected and the process exits 0', async () => {
    const v4 = await device.connect({ protocolVersion: 4 });
    const v5 = await device.connect({ protocolVersion: 5 });
    const closes = Promise.all([closed(v4), closed(v5)]);
    await server.stop(); // rejects unless the exit code is 0
    assert.deepEqual(await closes, [true, true]);
    v4.end(true);
    v5.end(true);
  });
});
