// Debian's mosquitto_pub / mosquitto_sub (installed by .ci/run) as real devices: a registered, ACTIVE
// certificate with a policy publishes and subscribes over mutual TLS (server verified against certgate's
// roots, with and without SNI); an unregistered certificate is refused, and `certgate why` explains it.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY, createDevice } from '../helpers/device.js';
import { TestPki } from '../helpers/openssl.js';

const WAIT_MS = 10_000;

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: WAIT_MS }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('mosquitto clients as devices', () => {
  let server: RunningCertgate;
  let dir: string;
  let pki: TestPki;

  before(async () => {
    server = await startCertgate();
    dir = await mkdtemp(join(tmpdir(), 'certgate-mosquitto-'));
    pki = await TestPki.create();
  });

  after(async () => {
    await pki?.cleanup();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function files(name: string, certPem: string, keyPem: string, caPem: string): Promise<string[]> {
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    const ca = join(dir, 'roots.pem');
    await writeFile(cert, certPem);
    await writeFile(key, keyPem, { mode: 0o600 });
    await writeFile(ca, caPem);
    return ['-h', '127.0.0.1', '-p', String(server.mqttPort), '--cafile', ca, '--cert', cert, '--key', key];
  }

  for (const version of ['mqttv311', 'mqttv5'] as const) {
    it(`mosquitto_sub receives what mosquitto_pub sends (${version}, no SNI: placed by fingerprint)`, { timeout: 30_000 }, async () => {
      const device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
      const tls = await files(`dev-${version}`, device.certPem, device.keyPem, device.caPem);
      const topic = `mosq/${version}`;
      const sub = spawn('mosquitto_sub', [...tls, '-V', version, '-i', `sub-${version}`, '-t', topic, '-C', '1', '-W', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let received = '';
      sub.stdout.on('data', (d: Buffer) => (received += d.toString()));
      const subDone = new Promise<number>((resolve) => sub.on('exit', (c) => resolve(c ?? 1)));
      // Publish until the subscriber has its subscription in place (bounded).
      for (let i = 0; i < 20 && received === ''; i++) {
        const pub = await run('mosquitto_pub', [...tls, '-V', version, '-i', `pub-${version}`, '-t', topic, '-m', 'hello from mosquitto']);
        assert.equal(pub.code, 0, pub.stderr);
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(await subDone, 0);
      assert.equal(received.trim(), 'hello from mosquitto');
    });
  }

  it('an unregistered certificate is refused, and certgate why says so by certificate id', { timeout: 30_000 }, async () => {
    const stranger = await pki.makeCa({ cn: 'stranger' });
    const device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    const tls = await files('stranger', stranger.certPem, stranger.keyPem, device.caPem);
    const pub = await run('mosquitto_pub', [...tls, '-i', 'stranger', '-t', 'x', '-m', 'no']);
    assert.notEqual(pub.code, 0);
    const certificateId = createHash('sha256').update(new X509Certificate(stranger.certPem).raw).digest('hex');
    const why = await runCertgateCli(['why', certificateId, '--data-dir', server.dataDir, '--endpoint-url', server.apiUrl]);
    assert.equal(why.code, 0, why.stderr);
    assert.match(why.stdout, /UNKNOWN_CERTIFICATE/);
    assert.match(why.stdout, new RegExp(certificateId));
  });
});
