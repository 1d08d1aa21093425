// The README's walk-through (own CA → proof of possession → a device that registers itself) is run here,
// exactly as written, against a fresh real server: the `sh` blocks between the walkthrough markers are
// executed by bash with the server's data dir, API URL and MQTT port. If the README drifts, this fails.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeCertificateCommand, ListCACertificatesCommand, ListCertificatesByCACommand } from '@aws-sdk/client-iot';
import { REPO_ROOT, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { iotClient } from '../helpers/iot-clients.js';

const SCRIPT_TIMEOUT_MS = 120_000;

/** The `sh` fenced blocks between `<!-- walkthrough:begin -->` and `<!-- walkthrough:end -->`. */
function walkthroughScript(readme: string): string {
  const begin = readme.indexOf('<!-- walkthrough:begin -->');
  const end = readme.indexOf('<!-- walkthrough:end -->');
  assert.ok(begin >= 0 && end > begin, 'README has the walkthrough markers');
  const section = readme.slice(begin, end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length > 0, 'the walkthrough section has sh blocks');
  return blocks.join('\n');
}

function runBash(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The walk-through must depend only on the data dir's files, not on AWS keys or profiles in the caller's environment.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^AWS_|^CERTGATE_/.test(k)));
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: REPO_ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('README walk-through: own CA, proof of possession, just-in-time registration (real server, aws CLI, openssl, mosquitto_pub)', () => {
  let server: RunningCertgate;
  let work: string;

  before(async () => {
    server = await startCertgate();
    work = await mkdtemp(join(tmpdir(), 'certgate-walkthrough-'));
  });
  after(async () => {
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('runs as written and ends with the device connected and publishing', { timeout: SCRIPT_TIMEOUT_MS + 30_000 }, async () => {
    const script = walkthroughScript(await readFile(join(REPO_ROOT, 'README.md'), 'utf8'));
    assert.ok(server.mqttPort !== undefined);
    const res = await runBash(script, {
      DATA: server.dataDir,
      E: server.apiUrl,
      MQTT_PORT: String(server.mqttPort),
      WT: work,
    });
    const transcript = `exit ${String(res.code)}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;
    assert.equal(res.code, 0, transcript);
    assert.match(res.stdout, /first connection refused: registered, pending activation/, transcript);
    assert.match(res.stdout, /[0-9a-f]{64}\s+PENDING_ACTIVATION/, `the first contact registered the certificate PENDING_ACTIVATION\n${transcript}`);
    assert.match(res.stdout, /admission\s+ALLOWED/, `certgate why shows the admitted connection\n${transcript}`);

    // The registry agrees: one certificate under the CA, ACTIVE now, registered by the device's first contact.
    const iot = iotClient(server);
    const cas = await iot.send(new ListCACertificatesCommand({}));
    assert.equal(cas.certificates?.length, 1);
    const listed = await iot.send(new ListCertificatesByCACommand({ caCertificateId: cas.certificates![0]!.certificateId! }));
    assert.equal(listed.certificates?.length, 1);
    const d = await iot.send(new DescribeCertificateCommand({ certificateId: listed.certificates![0]!.certificateId! }));
    assert.equal(d.certificateDescription?.status, 'ACTIVE');
  });
});
