// issue 10 #12: TLS as AWS's security policies. By default only forward-secret AEAD suites (TLS 1.2) and the
// TLS 1.3 suites; no client-initiated renegotiation; a named policy (--tls-security-policy, AWS IoT's names)
// for operators who need older clients, each checked suite by suite against AWS's table with `openssl s_client`
// on the MQTT, ALPN and HTTPS API ports.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_TLS_SECURITY_POLICY, TLS_SECURITY_POLICIES, tlsPolicyOptions } from '../../src/broker/listeners/index.js';
import type { TlsSecurityPolicy, TlsSecurityPolicyName } from '../../src/broker/listeners/index.js';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { createDevice } from '../helpers/device.js';
import { sClient } from './openssl-s-client.js';

/** Suites Node's default list negotiated before the fix: RSA key exchange, CBC, ARIA. */
const WEAK_TLS12 = ['AES128-SHA', 'AES256-SHA256', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ARIA128-GCM-SHA256', 'ECDHE-ECDSA-ARIA128-GCM-SHA256', 'ARIA128-GCM-SHA256', 'DHE-RSA-AES128-GCM-SHA256'];
const GOOD_TLS12 = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305'];
const S_CLIENT_MS = 20_000;

/**
 * AWS IoT Core's security policy table, transcribed from "Transport security in AWS IoT Core" → "Security
 * policies" (https://docs.aws.amazon.com/iot/latest/developerguide/transport-security.html#tls-policy-table),
 * one line per row of AWS's table, in its order, with one character per column: the letter when AWS ticks it.
 * Columns: A TLS13_1_3_2022_10, B TLS13_1_2_2022_10, C TLS12_1_2_2022_10, D TLS12_1_0_2016_01 port 443,
 * E TLS12_1_0_2016_01 ports 8443/8883, F TLS12_1_0_2015_01 port 443, G TLS12_1_0_2015_01 ports 8443/8883,
 * H TLS13_1_2_2022_01 (GovCloud).
 */
const AWS_TABLE = `
TLS 1.2                        .BCDEFGH
TLS 1.3                        AB.....H
TLS_AES_128_GCM_SHA256         AB.....H
TLS_AES_256_GCM_SHA384         AB.....H
TLS_CHACHA20_POLY1305_SHA256   AB......
ECDHE-RSA-AES128-GCM-SHA256    .BCDEFGH
ECDHE-RSA-AES128-SHA256        .BCDEFGH
ECDHE-RSA-AES128-SHA           .BCDEFGH
ECDHE-RSA-AES256-GCM-SHA384    .BCDEFGH
ECDHE-RSA-AES256-SHA384        .BCDEFGH
ECDHE-RSA-AES256-SHA           .BCDEFGH
AES128-GCM-SHA256              .BCDEFG.
AES128-SHA256                  .BCD.FG.
AES128-SHA                     .BCDEFGH
AES256-GCM-SHA384              .BCDEFG.
AES256-SHA256                  .BCDEFG.
AES256-SHA                     .BCDEFGH
DHE-RSA-AES256-SHA             .....FG.
ECDHE-ECDSA-AES128-GCM-SHA256  .BCDEFGH
ECDHE-ECDSA-AES128-SHA256      .BCDEFGH
ECDHE-ECDSA-AES128-SHA         .BCDEFGH
ECDHE-ECDSA-AES256-GCM-SHA384  .BCDEFGH
ECDHE-ECDSA-AES256-SHA384      .BCDEFGH
ECDHE-ECDSA-AES256-SHA         .BCDEFGH
`;
const AWS_COLUMN_POLICIES: Array<{ policy: TlsSecurityPolicyName; port: '443' | '8443/8883' | 'all' }> = [
  { policy: 'IoTSecurityPolicy_TLS13_1_3_2022_10', port: 'all' },
  { policy: 'IoTSecurityPolicy_TLS13_1_2_2022_10', port: 'all' },
  { policy: 'IoTSecurityPolicy_TLS12_1_2_2022_10', port: 'all' },
  { policy: 'IoTSecurityPolicy_TLS12_1_0_2016_01', port: '443' },
  { policy: 'IoTSecurityPolicy_TLS12_1_0_2016_01', port: '8443/8883' },
  { policy: 'IoTSecurityPolicy_TLS12_1_0_2015_01', port: '443' },
  { policy: 'IoTSecurityPolicy_TLS12_1_0_2015_01', port: '8443/8883' },
  { policy: 'IoTSecurityPolicy_TLS13_1_2_2022_01', port: 'all' },
];
const AWS_ROWS = AWS_TABLE.trim().split('\n').map((line) => {
  const m = /^(.+?)\s+([A-H.]{8})$/.exec(line);
  if (m === null) throw new Error(`bad table line: ${line}`);
  return { row: m[1]!, ticks: m[2]! };
});
const AWS_COLUMNS = AWS_COLUMN_POLICIES.map((c, i) => ({ ...c, ticks: new Set(AWS_ROWS.filter((r) => r.ticks[i] !== '.').map((r) => r.row)) }));
const AWS_POLICIES = [...new Set(AWS_COLUMN_POLICIES.map((c) => c.policy))];
const TLS13_SUITES = AWS_ROWS.map((r) => r.row).filter((r) => r.startsWith('TLS_'));
const TLS12_AWS_ROWS = AWS_ROWS.map((r) => r.row).filter((r) => !r.startsWith('TLS'));
/** AWS's TLS 1.2 rows, and suites no AWS policy has (each must be refused everywhere but where certgate's default has it). */
const TLS12_SUITES_CHECKED = [...TLS12_AWS_ROWS, 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-ECDSA-ARIA128-GCM-SHA256', 'DHE-RSA-AES128-GCM-SHA256'];

/**
 * One `openssl s_client` handshake offering only `suite` (TLS 1.2 and older: -cipher, with @SECLEVEL=0 so that
 * the client offers whatever it is asked to; TLS 1.3: -ciphersuites). stdin is /dev/null, so s_client exits
 * right after the handshake. Returns its output.
 */
function handshakeOutput(port: number, o: { tls: '1.0' | '1.1' | '1.2' | '1.3'; suite: string; alpn?: string }): Promise<string> {
  const version = { '1.0': '-tls1', '1.1': '-tls1_1', '1.2': '-tls1_2', '1.3': '-tls1_3' }[o.tls];
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, version, '-servername', 'localhost'];
  args.push(...(o.tls === '1.3' ? ['-ciphersuites', o.suite] : ['-cipher', `${o.suite}:@SECLEVEL=0`]));
  if (o.alpn !== undefined) args.push('-alpn', o.alpn);
  const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`openssl ${args.join(' ')} did not finish\n${out}`));
    }, S_CLIENT_MS);
    child.once('error', reject);
    child.once('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** The handshake completed with `suite` (a single suite) at that protocol version. */
async function handshake(port: number, o: { tls: '1.0' | '1.1' | '1.2' | '1.3'; suite: string; alpn?: string }): Promise<boolean> {
  const out = await handshakeOutput(port, o);
  const protocol = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' }[o.tls];
  // "New, <the suite's own minimum version>, Cipher is X"; below TLS 1.3, the session's "Protocol  : <version>"
  // says which version was spoken (a TLS 1.3 suite is only ever TLS 1.3, and s_client may end before that block).
  if (!new RegExp(`^New, \\S+, Cipher is ${o.suite}$`, 'm').test(out)) return false;
  return o.tls === '1.3' || new RegExp(`^\\s*Protocol\\s*:\\s*${protocol.replace('.', '\\.')}$`, 'm').test(out);
}

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
      it(`${listener}: TLS 1.0 and 1.1 are refused`, async () => {
        for (const old of ['1.0', '1.1'] as const) assert.equal(await handshake(port(), { tls: old, suite: 'ECDHE-RSA-AES128-SHA' }), false, `TLS ${old} on ${listener}`);
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

  // Every AWS policy, suite by suite, against AWS's own table (below), on the wire.
  for (const policy of AWS_POLICIES) {
    it(`${policy}: negotiates exactly the protocols and suites AWS's table ticks for it`, async () => {
      const server = await startCertgate({ args: ['--tls-security-policy', policy, '--alpn-port', '0', '--api-tls', 'on'] });
      try {
        const columns = AWS_COLUMNS.filter((c) => c.policy === policy);
        for (const column of columns) {
          const ports: Array<{ listener: string; port: number; alpn?: string }> = column.port === '443'
            ? [{ listener: 'alpn', port: server.alpnPort!, alpn: 'x-amzn-mqtt-ca' }]
            : [{ listener: 'mqtt', port: server.mqttPort! }];
          for (const { listener, port, alpn } of ports) {
            const where = `${policy} (AWS column ${column.port}) on ${listener}`;
            const tls12 = column.ticks.has('TLS 1.2');
            const tls13 = column.ticks.has('TLS 1.3');
            for (const suite of TLS12_SUITES_CHECKED) {
              const expected = tls12 && column.ticks.has(suite);
              assert.equal(await handshake(port, { tls: '1.2', suite, ...(alpn !== undefined ? { alpn } : {}) }), expected, `${suite} ${expected ? 'refused' : 'negotiated'}: ${where}`);
            }
            for (const suite of TLS13_SUITES) {
              const expected = tls13 && column.ticks.has(suite);
              assert.equal(await handshake(port, { tls: '1.3', suite, ...(alpn !== undefined ? { alpn } : {}) }), expected, `${suite} ${expected ? 'refused' : 'negotiated'}: ${where}`);
            }
            for (const old of ['1.0', '1.1'] as const) {
              assert.equal(await handshake(port, { tls: old, suite: 'ECDHE-RSA-AES128-SHA', ...(alpn !== undefined ? { alpn } : {}) }), false, `TLS ${old} negotiated: ${where}`);
            }
          }
        }
        // AWS's security policies are the data endpoints' (domain configurations); the control plane, which
        // returns private keys, stays on certgate's forward-secret AEAD default whatever devices need.
        const api = portOf(server.apiUrl);
        assert.equal(await handshake(api, { tls: '1.2', suite: 'ECDHE-RSA-AES128-GCM-SHA256' }), true, `${policy}: API refused a forward-secret AEAD suite`);
        for (const suite of ['AES128-SHA', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA']) {
          assert.equal(await handshake(api, { tls: '1.2', suite }), false, `issue 10 #12 (review): a legacy data-plane policy (${policy}) also downgraded the API to ${suite}`);
        }
      } finally {
        await server.stop();
      }
    });
  }

  it("every suite of every policy is a name Node's OpenSSL knows", () => {
    for (const [name, p] of Object.entries(TLS_SECURITY_POLICIES) as Array<[string, TlsSecurityPolicy]>) {
      for (const suite of [...p.tls13Suites, ...p.tls12Suites, ...(p.tls12SuitesPort443 ?? [])]) {
        assert.doesNotThrow(() => createSecureContext({ ciphers: suite }), `${name}: ${suite}`);
      }
    }
  });

  it("AWS's rows are AWS's table (the transcription below), and certgate's default keeps only forward-secret AEAD suites", () => {
    for (const column of AWS_COLUMNS) {
      const p: TlsSecurityPolicy = TLS_SECURITY_POLICIES[column.policy];
      const tls12 = column.port === '443' && p.tls12SuitesPort443 !== undefined ? p.tls12SuitesPort443 : p.tls12Suites;
      const tickedIn = (suites: readonly string[]): string[] => suites.filter((s) => column.ticks.has(s));
      assert.deepEqual([...tls12], tickedIn(TLS12_AWS_ROWS), `${column.policy} ${column.port}: TLS 1.2 suites in AWS's row order`);
      assert.deepEqual([...p.tls13Suites], tickedIn(TLS13_SUITES), `${column.policy} ${column.port}: TLS 1.3 suites`);
      assert.equal(p.minVersion, column.ticks.has('TLS 1.2') ? 'TLSv1.2' : 'TLSv1.3', column.policy);
      assert.equal(p.maxVersion, column.ticks.has('TLS 1.3') ? 'TLSv1.3' : 'TLSv1.2', column.policy);
    }
    const d: TlsSecurityPolicy = TLS_SECURITY_POLICIES[DEFAULT_TLS_SECURITY_POLICY];
    assert.equal(d.minVersion, 'TLSv1.2');
    assert.equal(d.maxVersion, 'TLSv1.3');
    for (const s of d.tls12Suites) assert.match(s, /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    // AWS's own default keeps suites without forward secrecy (RSA key exchange): why it is not certgate's.
    assert.ok(TLS_SECURITY_POLICIES.IoTSecurityPolicy_TLS13_1_2_2022_10.tls12Suites.some((s) => !s.startsWith('ECDHE-')));
  });

  it("the server prefers forward secrecy and AEAD among an AWS policy's suites", async () => {
    const opts = tlsPolicyOptions('IoTSecurityPolicy_TLS12_1_0_2015_01');
    const order = opts.ciphers.split(':');
    assert.deepEqual(order.slice(0, 4), ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384']);
    assert.ok(order.indexOf('DHE-RSA-AES256-SHA') < order.indexOf('AES128-GCM-SHA256'));
    assert.equal(order.at(-1), 'AES256-SHA');
    assert.equal(opts.dhparam, 'auto');
    // A client offering a CBC suite first still gets the server's choice.
    const server = await startCertgate({ args: ['--tls-security-policy', 'IoTSecurityPolicy_TLS13_1_2_2022_10'] });
    try {
      const out = await handshakeOutput(server.mqttPort!, { tls: '1.2', suite: 'AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384' });
      assert.match(out, /Cipher is ECDHE-RSA-AES256-GCM-SHA384\b/);
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
