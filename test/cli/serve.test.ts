import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';

const execFileP = promisify(execFile);

/** The machine's aws CLI with only the given AWS_* variables. */
async function aws(args: string[], env: Record<string, string>): Promise<unknown> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) base[k] = v;
  const { stdout } = await execFileP('aws', [...args, '--output', 'json'], { env: { ...base, ...env }, timeout: 60_000 });
  return JSON.parse(stdout) as unknown;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await filesUnder(dir)) out.set(f, createHash('sha256').update(await readFile(f)).digest('hex'));
  return out;
}

const mode = async (f: string): Promise<number> => (await stat(f)).mode & 0o777;

describe('certgate serve', () => {
  let dataDir: string;
  let server: RunningCertgate | undefined;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'certgate-serve-'));
    server = await startCertgate({ dataDir });
  });
  after(async () => {
    await server?.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the banner and a ready line without secrets', () => {
    const s = server!;
    assert.match(s.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s.region, 'us-east-1');
    assert.equal(s.dataDir, dataDir);
    assert.match(s.accountId, /^[1-9]\d{11}$/);
    assert.match(s.dataEndpoint, /^[a-z0-9]{14}-ats\.iot\.us-east-1\.localhost$/);
    const out = s.output();
    for (const want of [s.apiUrl, s.accountId, s.dataEndpoint, join(dataDir, 'credentials'), join(dataDir, 'config'), join(dataDir, 'root-ca-rsa.pem'), join(dataDir, 'root-ca-ecc.pem'), 'ready']) {
      assert.ok(out.includes(want), `banner mentions ${want}`);
    }
    const readyLine = out.split('\n').find((l) => l.startsWith('CERTGATE_READY '))!;
    assert.ok(!readyLine.includes(s.secretAccessKey) && !readyLine.includes(s.accessKeyId));
  });

  it('creates the CA hierarchy, the encrypted keys and the AWS profile files with safe modes', async () => {
    assert.equal(await mode(join(dataDir, 'master.key')), 0o600);
    assert.equal(await mode(join(dataDir, 'credentials')), 0o600);
    assert.match(await readFile(join(dataDir, 'config'), 'utf8'), /^\[default\]\nregion = us-east-1\n/);
    const keys = (await readdir(join(dataDir, 'keys'))).sort();
    assert.deepEqual(keys, ['device-issuing-ca.key.enc', 'intermediate-ecc.key.enc', 'intermediate-rsa.key.enc', 'root-ca-ecc.key.enc', 'root-ca-rsa.key.enc']);

    const load = async (f: string): Promise<X509Certificate> => new X509Certificate(await readFile(join(dataDir, f)));
    const rootRsa = await load('root-ca-rsa.pem');
    const rootEcc = await load('root-ca-ecc.pem');
    const intRsa = await load('ca/intermediate-rsa.pem');
    const intEcc = await load('ca/intermediate-ecc.pem');
    const device = await load('ca/device-issuing-ca.pem');
    assert.equal(rootRsa.publicKey.asymmetricKeyType, 'rsa');
    assert.equal(rootRsa.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(rootEcc.publicKey.asymmetricKeyType, 'ec');
    assert.equal(rootEcc.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    for (const c of [rootRsa, rootEcc, intRsa, intEcc, device]) assert.equal(c.ca, true);
    const years = (c: X509Certificate): number => (Date.parse(c.validTo) - Date.parse(c.validFrom)) / (365.25 * 86400_000);
    assert.ok(Math.abs(years(rootRsa) - 20) < 0.1 && Math.abs(years(rootEcc) - 20) < 0.1, 'roots: 20 years');
    assert.ok(Math.abs(years(intRsa) - 10) < 0.1 && Math.abs(years(intEcc) - 10) < 0.1, 'intermediates: 10 years');
    assert.ok(intRsa.checkIssued(rootRsa) && intRsa.verify(rootRsa.publicKey));
    assert.ok(intEcc.checkIssued(rootEcc) && intEcc.verify(rootEcc.publicKey));
    assert.ok(device.verify(device.publicKey), 'device-issuing CA is self-signed');
    assert.match(device.subject, /CN=certgate Device Issuing CA/);
    assert.match(device.subject, /O=certgate/);
  });

  it('never writes a private key in clear under the data dir', async () => {
    const files = await filesUnder(dataDir);
    assert.ok(files.length >= 10);
    for (const f of files) assert.ok(!(await readFile(f)).includes('PRIVATE KEY'), `${f} holds a clear private key`);
  });

  it('serves the aws CLI with the written credentials and config files', async () => {
    const s = server!;
    const res = (await aws(['iot', 'describe-endpoint', '--endpoint-type', 'iot:Data-ATS', '--endpoint-url', s.apiUrl], {
      AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'credentials'),
      AWS_CONFIG_FILE: join(dataDir, 'config'),
    })) as { endpointAddress?: string };
    assert.equal(res.endpointAddress, s.dataEndpoint);
  });

  it('accounts create --json while the server runs gives keys that work at once; a duplicate name fails in one line', async () => {
    const s = server!;
    const created = await runCertgateCli(['accounts', 'create', '--name', 'fleet-b', '--data-dir', dataDir, '--json']);
    assert.equal(created.code, 0, created.stderr);
    const lines = created.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const acct = JSON.parse(lines[0]!) as Record<string, string>;
    assert.deepEqual(Object.keys(acct).sort(), ['accessKeyId', 'accountId', 'endpoint', 'secretAccessKey']);
    assert.notEqual(acct['accountId'], s.accountId);
    const res = (await aws(['iot', 'describe-endpoint', '--endpoint-type', 'iot:Data-ATS', '--endpoint-url', s.apiUrl], {
      AWS_ACCESS_KEY_ID: acct['accessKeyId']!,
      AWS_SECRET_ACCESS_KEY: acct['secretAccessKey']!,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    })) as { endpointAddress?: string };
    assert.equal(res.endpointAddress, acct['endpoint']);

    const dup = await runCertgateCli(['accounts', 'create', '--name', 'fleet-b', '--data-dir', dataDir]);
    assert.equal(dup.code, 1);
    assert.equal(dup.stdout, '');
    assert.match(dup.stderr, /^certgate: .*already exists\n$/);

    const listed = await runCertgateCli(['accounts', 'list', '--json', '--data-dir', dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    const names = (JSON.parse(listed.stdout) as { name: string }[]).map((a) => a.name).sort();
    assert.deepEqual(names, ['default', 'fleet-b']);
    assert.ok(!listed.stdout.includes(acct['secretAccessKey']!), 'list shows no secrets');
  });

  it('restarts on the same data dir with the same CAs and account; a wrong master key fails without writing', async () => {
    const first = server!;
    const pems = ['root-ca-rsa.pem', 'root-ca-ecc.pem', 'ca/intermediate-rsa.pem', 'ca/intermediate-ecc.pem', 'ca/device-issuing-ca.pem'];
    const before = await Promise.all(pems.map((p) => readFile(join(dataDir, p))));
    await first.stop();
    server = undefined;

    const second = await startCertgate({ dataDir });
    server = second;
    assert.equal(second.accountId, first.accountId);
    assert.equal(second.accessKeyId, first.accessKeyId);
    const afterRestart = await Promise.all(pems.map((p) => readFile(join(dataDir, p))));
    pems.forEach((p, i) => assert.ok(afterRestart[i]!.equals(before[i]!), `${p} unchanged`));
    await second.stop();
    server = undefined;

    const files = await snapshot(dataDir);
    const wrong = await runCertgateCli(['serve', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0'], {
      env: { CERTGATE_MASTER_KEY: randomBytes(32).toString('hex') },
    });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /cannot decrypt CA keys: wrong master key\?/);
    assert.doesNotMatch(wrong.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(await snapshot(dataDir), files, 'nothing written');
  });

  it('with CERTGATE_MASTER_KEY on a fresh data dir, writes no master.key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certgate-envkey-'));
    try {
      const s = await startCertgate({ dataDir: dir, env: { CERTGATE_MASTER_KEY: randomBytes(32).toString('base64') }, args: ['--region', 'eu-west-1'] });
      await s.stop();
      await assert.rejects(stat(join(dir, 'master.key')), { code: 'ENOENT' });
      assert.equal(s.region, 'eu-west-1');
      assert.match(await readFile(join(dir, 'config'), 'utf8'), /region = eu-west-1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('certgate --help', () => {
  it('serve --help lists every flag with its env twin', async () => {
    const { code, stdout } = await runCertgateCli(['serve', '--help']);
    assert.equal(code, 0);
    const flat = stdout.replace(/\s+/g, ' ');
    for (const [flag, env] of [
      ['--data-dir', 'CERTGATE_DATA_DIR'],
      ['--host', 'CERTGATE_HOST'],
      ['--api-port', 'CERTGATE_API_PORT'],
      ['--mqtt-port', 'CERTGATE_MQTT_PORT'],
      ['--region', 'CERTGATE_REGION'],
      ['--domain', 'CERTGATE_DOMAIN'],
      ['--log-level', 'CERTGATE_LOG_LEVEL'],
    ] as const) {
      assert.match(flat, new RegExp(`${flag} <\\w+> .*?env: ${env}\\)`), `${flag} with ${env}`);
    }
    assert.match(flat, /--print-ready-json/);
    assert.match(flat, /CERTGATE_MASTER_KEY/);
  });

  it('a bad flag value is one line on stderr and exit 1', async () => {
    const { code, stderr } = await runCertgateCli(['serve', '--api-port', 'eighty']);
    assert.equal(code, 1);
    assert.equal(stderr, "certgate: --api-port: 'eighty' is not a port number (0-65535)\n");
  });
});
