#!/usr/bin/env node
// Differential run: the same boto3 scenario (boto3_scenario.py) against moto_server and against certgate,
// then a markdown table of the steps whose results differ (step | certgate | moto). Informational: certgate
// follows AWS, not moto, so differences are expected (certificateId derivation, REVOKED→ACTIVE, …); it
// exits 0 unless a server cannot be started or the scenario cannot run.
//
// usage: node test/differential/compare-with-moto.mjs   (needs moto_server, python3 + boto3, openssl)
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const scenario = join(here, 'boto3_scenario.py');
const START_TIMEOUT_MS = 60_000;
const SCENARIO_TIMEOUT_MS = 240_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function delay(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startMoto() {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited early:\n${output}`);
    try {
      await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(2000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stopChild(child);
        throw new Error(`moto_server not ready:\n${output}`);
      }
      await delay(200);
    }
  }
  return { name: 'moto', url, accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'moto-secret', region: 'us-east-1', stop: () => stopChild(child) };
}

async function startCertgate() {
  const dataDir = await mkdtemp(join(tmpdir(), 'certgate-diff-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CERTGATE_')));
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'certgate.js'), 'serve', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0', '--print-ready-json'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    stdout += d;
    output += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
  const stop = async () => {
    await stopChild(child);
    await rm(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  let ready;
  while (ready === undefined) {
    const line = stdout.split('\n').find((l) => l.startsWith('CERTGATE_READY '));
    if (line !== undefined) {
      ready = JSON.parse(line.slice('CERTGATE_READY '.length));
      break;
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`certgate did not start:\n${output}`);
    }
    await delay(100);
  }
  const creds = await readFile(join(dataDir, 'credentials'), 'utf8');
  const accessKeyId = /aws_access_key_id\s*=\s*(\S+)/.exec(creds)?.[1];
  const secretAccessKey = /aws_secret_access_key\s*=\s*(\S+)/.exec(creds)?.[1];
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    await stop();
    throw new Error('no credentials in the certgate data dir');
  }
  return { name: 'certgate', url: ready.apiUrl, accessKeyId, secretAccessKey, region: ready.region, stop };
}

function runScenario(server) {
  return new Promise((resolve, reject) => {
    execFile('python3', [scenario, '--endpoint-url', server.url, '--access-key-id', server.accessKeyId, '--secret-access-key', server.secretAccessKey, '--region', server.region], {
      timeout: SCENARIO_TIMEOUT_MS,
      maxBuffer: 8 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      const steps = new Map();
      for (const line of stdout.split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        const parsed = JSON.parse(line);
        steps.set(parsed.step, parsed);
      }
      if (err && steps.size === 0) {
        reject(new Error(`scenario against ${server.name} failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve({ steps, stderr: err ? stderr : '' });
    });
  });
}

function render(result) {
  if (result === undefined) return '(missing)';
  const outcome = result.ok ? 'ok' : `**${result.error_code}**`;
  const summary = result.summary && Object.keys(result.summary).length > 0 ? ` ${JSON.stringify(result.summary)}` : '';
  return `${outcome}${summary}`.replaceAll('|', '\\|');
}

function same(a, b) {
  return a !== undefined && b !== undefined && a.ok === b.ok && a.error_code === b.error_code && JSON.stringify(a.summary) === JSON.stringify(b.summary);
}

async function main() {
  const servers = [];
  try {
    const certgate = await startCertgate();
    servers.push(certgate);
    const moto = await startMoto();
    servers.push(moto);
    const [cg, mt] = [await runScenario(certgate), await runScenario(moto)];
    const names = [...new Set([...cg.steps.keys(), ...mt.steps.keys()])];
    const differing = names.filter((n) => !same(cg.steps.get(n), mt.steps.get(n)));
    console.log(`# certgate vs moto: ${differing.length} of ${names.length} steps differ\n`);
    console.log('| step | certgate | moto |');
    console.log('|---|---|---|');
    for (const n of differing) console.log(`| ${n.replaceAll('|', '\\|')} | ${render(cg.steps.get(n))} | ${render(mt.steps.get(n))} |`);
    const agreeing = names.filter((n) => !differing.includes(n));
    if (agreeing.length > 0) console.log(`\nSame on both: ${agreeing.join('; ')}`);
    for (const r of [cg, mt]) if (r.stderr) console.error(r.stderr);
  } finally {
    for (const s of servers.reverse()) await s.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
