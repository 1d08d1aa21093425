// Extra accounts for a running certgate, made with the real CLI (`certgate accounts create ... --json`)
// against the server's data directory while it runs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runCertgateCli } from './certgate-process.js';
import type { RunningCertgate } from './certgate-process.js';
import type { ApiAccount } from './iot-clients.js';

export interface TestAccount extends ApiAccount {
  readonly accountId: string;
  readonly name: string;
}

/** the server's bootstrap account as a TestAccount */
export function primaryAccount(server: RunningCertgate): TestAccount {
  return {
    apiUrl: server.apiUrl,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    accountId: server.accountId,
    name: 'primary',
  };
}

export async function createAccount(server: RunningCertgate, name = `acct-${randomBytes(4).toString('hex')}`): Promise<TestAccount> {
  const res = await runCertgateCli(['accounts', 'create', '--name', name, '--data-dir', server.dataDir, '--json']);
  assert.equal(res.code, 0, `certgate accounts create failed (${res.code}): ${res.stderr}`);
  const line = res.stdout.trim().split('\n').filter((l) => l.trim().startsWith('{')).at(-1);
  assert.ok(line !== undefined, `no JSON on stdout: ${res.stdout}`);
  const parsed = JSON.parse(line) as Partial<Record<'accountId' | 'accessKeyId' | 'secretAccessKey' | 'endpoint', unknown>>;
  assert.equal(typeof parsed.accountId, 'string');
  assert.equal(typeof parsed.accessKeyId, 'string');
  assert.equal(typeof parsed.secretAccessKey, 'string');
  return {
    apiUrl: server.apiUrl,
    region: server.region,
    accessKeyId: String(parsed.accessKeyId),
    secretAccessKey: String(parsed.secretAccessKey),
    accountId: String(parsed.accountId),
    name,
  };
}
