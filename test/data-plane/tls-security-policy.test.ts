// issue 10 #12: TLS as AWS's security policies. By default only forward-secret AEAD suites (TLS 1.2) and the
// TLS 1.3 suites; no client-initiated renegotiation; a named policy (--tls-security-policy, AWS IoT's names)
// for operators who need older clients. Checked with `openssl s_client` on the MQTT, ALPN and HTTPS API ports.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { createDevice } from '../helpers/device.js';
import { sClient } from './openssl-s-client.js';

/** Suites Node's default list negotiated before the fix: RSA key exchange, CBC, ARIA. */
const WEAK_TLS12 = ['AES128-SHA', 'AES256-SHA256', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ARIA128-GCM-SHA256', 'ECDHE-ECDSA-ARIA128-GCM-SHA256', 'ARIA128-GCM-SHA256', 'DHE-RSA-AES128-GCM-SHA256'];
const GOOD_TLS12 = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305'];
const S_CLIENT_MS = 20_000;

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function negotiates(port: number, cipher: string, tmp: { certPath?: string; keyPath?: string } = {}): Promise<boolean> {
  // '@SECLEVEL=0' so that the client itself offers what it is asked to (OpenSSL 3 hides some suites at level 1+).
  const r = await sClient({ port, cipher: `${cipher}:@SECLEVEL=0`, tls: '1.2', servername: 'localhost', ...tmp });
  return new RegExp(`Cipher is ${cipher.replace(/[-]/g, '\\-')}\\b`).test(r.stdout) && !/Cipher is \(NONE\)/.test(r.stdout);
}

/**
 * `openssl s_client -tls1_2`, then `R` (client-initiated renegotiation), then a few bytes of application data.
 * Returns what s_client printed: a refused renegotiation ends in an alert ("no renegotiation") or a closed
 * connection; an accepted one prints a second handshake's "RENEGOTIATING" followed by the session going on.
 */
function renegotiate(port: number, tmp: { certPath?: string; keyPath?: string } = {}): Promise<{ stdout: string; stderr: string; secondHandshake: boolean }> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', '-servername', 'localhost'];
  if (tmp.certPath !== undefined) args.push('-cert', tmp.certPath);
  if (tmp.keyPath !== undefined) args.push('-key', tmp.keyPath);
  const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`openssl ${args.join(' ')} did not finish\n${stdout}\n${stderr}`));
    }, S_CLIENT_MS);
    let sentR = false;
    const onOut = (): void => {
      if (!sentR && /Verify return code|---\nSSL handshake has read/.test(stdout)) {
        sentR = true;
        child.stdin.write('R\n');
        // After the renegotiation (or its refusal) has had its round trip, end the session.
        setTimeout(() => child.stdin.end(), 1_000);
      }
    };
    child.stdout.on('data', onOut);
    child.once('error', reject);
    child.once('close', () => {
      clearTimeout(timer);
      const all = stdout + stderr;
      // s_client prints "RENEGOTIATING" when R is typed; a completed second handshake prints its verify lines again.
      const afterR = all.slice(Math.max(0, all.indexOf('RENEGOTIATING')));
      const secondHandshake = all.includes('RENEGOTIATING') && /verify return:|depth=/.test(afterR) && !/no renegotiation|alert/i.test(afterR);
      resolve({ stdout, stderr, secondHandshake });
    });
  });
}

describe('issue 10 #12: TLS as AWS\'s security policies', () => {
  describe('default policy', () => {
    let server: RunningCertgate;
    let tmp: string;
    let device: { certPath: string; keyPath: string };
    before(async () => {
      server = await startCertgate({ args: ['--api-tls', 'on', '--alpn-port', '0'] });
      tmp = await mkdtemp(join(tmpdir(), 'certgate-tls-policy-'));
      const d = await createDevice(server, { policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] } });
      device = { certPath: join(tmp, 'dev.crt'), keyPath: join(tmp, 'dev.key') };
      await writeFile(device.certPath, d.certPem);
      await writeFile(device.keyPath, d.keyPem, { mode: 0o600 });
    });
    after(async () => {
      await server?.stop();
      await rm(tmp, { recursive: true, force: true });
    });

    for (const listener of ['mqtt', 'alpn', 'api'] as const) {
      const port = (): number => (listener === 'mqtt' ? server.mqttPort! : listener === 'alpn' ? server.alpnPort! : portOf(server.apiUrl));
      it(`${listener}: each formerly negotiated weak TLS 1.2 suite is refused`, async () => {
        for (const cipher of WEAK_TLS12) assert.equal(await negotiates(port(), cipher), false, `${cipher} is negotiated on ${listener}`);
      });
      it(`${listener}: forward-secret AEAD suites and TLS 1.3 are negotiated`, async () => {
        for (const cipher of GOOD_TLS12) assert.equal(await negotiates(port(), cipher), true, `${cipher} is refused on ${listener}`);
        const r13 = await sClient({ port: port(), tls: '1.3', servername: 'localhost' });
        assert.equal(r13.protocol, 'TLSv1.3', r13.stdout);
      });
    }

    it('mqtt: client-initiated renegotiation is refused', async () => {
      const r = await renegotiate(server.mqttPort!, device);
      assert.ok(r.stdout.includes('RENEGOTIATING') || r.stderr.includes('RENEGOTIATING'), `R was not sent:\n${r.stdout}\n${r.stderr}`);
      assert.equal(r.secondHandshake, false, `renegotiation completed:\n${r.stdout}\n${r.stderr}`);
    });

    it('api: client-initiated renegotiation is refused', async () => {
      const r = await renegotiate(portOf(server.apiUrl));
      assert.ok(r.stdout.includes('RENEGOTIATING') || r.stderr.includes('RENEGOTIATING'), `R was not sent:\n${r.stdout}\n${r.stderr}`);
      assert.equal(r.secondHandshake, false, `renegotiation completed:\n${r.stdout}\n${r.stderr}`);
    });
  });

  it('an older-client policy (IoTSecurityPolicy_TLS12_1_2_2022_10) allows what it names: TLS 1.2 only, RSA-key-exchange suites too', async () => {
    const server = await startCertgate({ args: ['--tls-security-policy', 'IoTSecurityPolicy_TLS12_1_2_2022_10'] });
    try {
      assert.equal(await negotiates(server.mqttPort!, 'AES128-SHA'), true);
      assert.equal(await negotiates(server.mqttPort!, 'ECDHE-RSA-AES128-GCM-SHA256'), true);
      assert.equal(await negotiates(server.mqttPort!, 'ECDHE-ECDSA-ARIA128-GCM-SHA256'), false, 'a suite the policy does not name');
      const r13 = await sClient({ port: server.mqttPort!, tls: '1.3', servername: 'localhost' });
      assert.notEqual(r13.protocol, 'TLSv1.3');
    } finally {
      await server.stop();
    }
  });

  it('the legacy IoTSecurityPolicy_TLS12_1_0_2016_01 admits a TLS 1.0 client; the default refuses it', async () => {
    const tls10 = async (port: number): Promise<boolean> => {
      const out = await new Promise<string>((resolve) => {
        const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1', '-cipher', 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0', '-noservername'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let text = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), S_CLIENT_MS);
        child.once('close', () => {
          clearTimeout(timer);
          resolve(text);
        });
        child.stdin.end();
      });
      return /Protocol\s*:\s*TLSv1\b/.test(out) && !/Cipher is \(NONE\)/.test(out);
    };
    const legacy = await startCertgate({ args: ['--tls-security-policy', 'IoTSecurityPolicy_TLS12_1_0_2016_01'] });
    try {
      assert.equal(await tls10(legacy.mqttPort!), true);
    } finally {
      await legacy.stop();
    }
    const strict = await startCertgate();
    try {
      assert.equal(await tls10(strict.mqttPort!), false);
    } finally {
      await strict.stop();
    }
  });

  it('IoTSecurityPolicy_TLS13_1_3_2022_10 allows TLS 1.3 only', async () => {
    const server = await startCertgate({ args: ['--tls-security-policy', 'IoTSecurityPolicy_TLS13_1_3_2022_10'] });
    try {
      assert.equal(await negotiates(server.mqttPort!, 'ECDHE-ECDSA-AES128-GCM-SHA256'), false);
      const r13 = await sClient({ port: server.mqttPort!, tls: '1.3', servername: 'localhost' });
      assert.equal(r13.protocol, 'TLSv1.3');
    } finally {
      await server.stop();
    }
  });

  it('an unknown policy name fails at start, listing the known ones', async () => {
    const res = await runCertgateCli(['serve', '--data-dir', '/nonexistent-certgate-dir', '--tls-security-policy', 'IoTSecurityPolicy_Nope']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /--tls-security-policy/);
    assert.match(res.stderr, /IoTSecurityPolicy_TLS13_1_2_2022_10/);
  });
});
