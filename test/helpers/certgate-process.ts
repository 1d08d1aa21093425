import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Real `certgate` processes for integration tests: `node bin/certgate.js ...` from the repository root,
 * with inherited CERTGATE_* variables removed so tests only see what they pass.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CERTGATE_BIN = join(REPO_ROOT, 'bin', 'certgate.js');
const READY_PREFIX = 'CERTGATE_READY ';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const CLI_TIMEOUT_MS = 60_000;

export interface RunningCertgate {
  apiUrl: string;
  region: string;
  dataDir: string;
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  dataEndpoint: string;
  /** The MQTT over mutual TLS port (ready line `mqttPort`; undefined while the server does not serve MQTT). */
  mqttPort: number | undefined;
  /** The ALPN (x-amzn-mqtt-ca) port, when started with --alpn-port. */
  alpnPort: number | undefined;
  /** The CA bundle that verifies the API's HTTPS certificate (ready line `caBundle`), when the API is HTTPS with certgate's certificate. */
  caBundle?: string;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** SIGTERM, then wait for exit; rejects unless the process exits with code 0. Removes the data dir if this helper created it. */
  stop(): Promise<void>;
}

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CERTGATE_')) env[k] = v;
  return { ...env, ...extra };
}

function spawnCertgate(args: string[], env: Record<string, string> | undefined): ChildProcess {
  return spawn(process.execPath, [CERTGATE_BIN, ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Parses the `[default]` profile of an AWS shared-credentials file. */
export function parseCredentialsFile(text: string): { accessKeyId: string; secretAccessKey: string } {
  let section = '';
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) section = header[1]!.trim();
    const kv = /^\s*([a-z_]+)\s*=\s*(\S+)\s*$/.exec(line);
    if (kv && section === 'default') values[kv[1]!] = kv[2]!;
  }
  const accessKeyId = values['aws_access_key_id'];
  const secretAccessKey = values['aws_secret_access_key'];
  if (accessKeyId === undefined || secretAccessKey === undefined) throw new Error('credentials file has no [default] keys');
  return { accessKeyId, secretAccessKey };
}

function waitForExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export async function startCertgate(opts: { dataDir?: string; args?: string[]; env?: Record<string, string> } = {}): Promise<RunningCertgate> {
  const ownsDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'certgate-test-')));
  const args = ['serve', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0', '--print-ready-json', ...(opts.args ?? [])];
  const child = spawnCertgate(args, opts.env);
  let output = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });

  const cleanup = async (): Promise<void> => {
    if (ownsDir) await rm(dataDir, { recursive: true, force: true });
  };

  let ready: { apiUrl: string; region: string; dataDir: string; accountId: string; dataEndpoint: string; mqttPort?: number; alpnPort?: number; caBundle?: string };
  try {
    ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`certgate did not become ready within ${START_TIMEOUT_MS} ms; output:\n${output}`));
      }, START_TIMEOUT_MS);
      const onData = (): void => {
        const line = stdout.split('\n').find((l) => l.startsWith(READY_PREFIX));
        if (line === undefined) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        try {
          resolve(JSON.parse(line.slice(READY_PREFIX.length)) as typeof ready);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        clearTimeout(timer);
        // Let the last output chunks arrive before reporting.
        setImmediate(() => reject(new Error(`certgate exited before ready (code ${code}, signal ${signal}); output:\n${output}`)));
      };
      child.stdout!.on('data', onData);
      child.once('exit', onExit);
    });
  } catch (e) {
    await waitForExit(child);
    await cleanup();
    throw e;
  }

  const credentials = parseCredentialsFile(await readFile(join(dataDir, 'credentials'), 'utf8'));
  let stopping: Promise<void> | undefined;
  return {
    ...ready,
    mqttPort: typeof ready.mqttPort === 'number' ? ready.mqttPort : undefined,
    alpnPort: typeof ready.alpnPort === 'number' ? ready.alpnPort : undefined,
    ...(typeof ready.caBundle === 'string' ? { caBundle: ready.caBundle } : {}),
    dataDir,
    ...credentials,
    output: () => output,
    stop: () =>
      (stopping ??= (async () => {
        const exited = waitForExit(child);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        const { code, signal } = await exited;
        clearTimeout(timer);
        await cleanup();
        if (code !== 0) throw new Error(`certgate exited with code ${code} signal ${signal}; output:\n${output}`);
      })()),
  };
}

export function runCertgateCli(args: string[], opts: { env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawnCertgate(args, opts.env);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`certgate ${args.join(' ')} did not finish within ${CLI_TIMEOUT_MS} ms; stderr:\n${stderr}`));
    }, CLI_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}
