import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ACCESS_KEY_ID, ACCOUNT_ID, REGION, SECRET_ACCESS_KEY, startHarness } from './api-server-harness.js';
import type { Harness } from './api-server-harness.js';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the machine's `aws` CLI against the harness (asynchronously: the server runs in this process). */
function aws(h: Harness, args: string[], secret = SECRET_ACCESS_KEY): Promise<CliResult> {
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/tmp',
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
    ...(process.env['PYENV_ROOT'] ? { PYENV_ROOT: process.env['PYENV_ROOT'] } : {}),
  };
  return new Promise((resolve) => {
    execFile(
      'aws',
      ['iot', ...args, '--endpoint-url', h.endpoint, '--region', REGION, '--output', 'json'],
      { env, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('createApiServer with the aws CLI (botocore)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('describe-endpoint, create-thing with a bad name and a wrong secret, in parallel', async () => {
    const [ok, invalid, badSecret] = await Promise.all([
      aws(h, ['describe-endpoint', '--endpoint-type', 'iot:Data-ATS']),
      aws(h, ['create-thing', '--thing-name', 'bad name!']),
      aws(h, ['describe-thing', '--thing-name', 't1'], 'wrong-secret'),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { endpointAddress: 'prefix-ats.iot.iot:Data-ATS' });
    assert.ok(h.calls.some((c) => c.operation === 'DescribeEndpoint' && c.accountId === ACCOUNT_ID && c.region === REGION));

    assert.notEqual(invalid.code, 0);
    assert.match(invalid.stderr, /An error occurred \(InvalidRequestException\) when calling the CreateThing operation( \(reached max retries: \d+\))?: 1 validation error detected: Value 'bad name!' at 'thingName'/);

    assert.notEqual(badSecret.code, 0);
    assert.match(badSecret.stderr, /\(InvalidSignatureException\) when calling the DescribeThing operation/);
  });

  it('list-attached-policies sends the ARN percent-encoded and the server decodes it', async () => {
    const arn = `arn:aws:iot:${REGION}:${ACCOUNT_ID}:cert/${'b'.repeat(64)}`;
    const res = await aws(h, ['list-attached-policies', '--target', arn]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).policies[0].policyArn, arn);
  });
});
