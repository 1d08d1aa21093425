// `certgate why <clientId|certificateId> --json` against a running server, parsed: what the data plane
// recorded about a device (admission refusals, denied actions) and why.
import assert from 'node:assert/strict';
import { runCertgateCli } from './certgate-process.js';
import type { RunningCertgate } from './certgate-process.js';
import type { ApiAccount } from './iot-clients.js';

export interface WhyRecord {
  readonly kind: string;
  readonly outcome: string;
  readonly certificateId?: string;
  readonly clientId?: string;
  readonly accountId?: string;
  readonly resource?: string;
  readonly reasons: string[];
}

/** Signs as `account` when given (its records only), else as the data dir's default account. */
export async function whyRecords(server: Pick<RunningCertgate, 'dataDir' | 'apiUrl'>, id: string, account?: ApiAccount): Promise<WhyRecord[]> {
  const env = account !== undefined ? { AWS_ACCESS_KEY_ID: account.accessKeyId, AWS_SECRET_ACCESS_KEY: account.secretAccessKey } : undefined;
  const res = await runCertgateCli(['why', id, '--data-dir', server.dataDir, '--endpoint-url', server.apiUrl, '--json'], env !== undefined ? { env } : {});
  assert.equal(res.code, 0, `certgate why ${id} failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as WhyRecord[];
}

/** The newest denied admission record of a certificate (fails when there is none). */
export async function lastAdmissionRefusal(server: Pick<RunningCertgate, 'dataDir' | 'apiUrl'>, certificateId: string, account?: ApiAccount): Promise<WhyRecord> {
  const records = await whyRecords(server, certificateId, account);
  const refusal = records.find((r) => r.kind === 'admission' && r.outcome === 'denied');
  assert.ok(refusal, `no denied admission recorded for ${certificateId}: ${JSON.stringify(records)}`);
  return refusal;
}
