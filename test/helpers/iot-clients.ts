// Clients for the control plane as a user drives it: an @aws-sdk/client-iot IoTClient per account/region,
// the machine's `aws` CLI (`aws iot ... --endpoint-url --output json`) as a child process, and small
// assertion helpers for AWS-named errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { IoTClient } from '@aws-sdk/client-iot';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** What a client needs to reach one account of a running server (RunningCertgate satisfies it). */
export interface ApiAccount {
  readonly apiUrl: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** PEM file the API's HTTPS certificate chains to (RunningCertgate's ready-line `caBundle`); absent = system trust. */
  readonly caBundle?: string | undefined;
}

export interface IotClientOptions {
  /** override the account's region (region-isolation tests) */
  readonly region?: string;
  /** override the secret (bad-signature tests) */
  readonly secretAccessKey?: string;
  readonly accessKeyId?: string;
  /** override the CA bundle file trusted for HTTPS (default: the account's `caBundle`) */
  readonly caBundle?: string;
}

export function iotClient(account: ApiAccount, opts: IotClientOptions = {}): IoTClient {
  const caBundle = opts.caBundle ?? account.caBundle;
  return new IoTClient({
    endpoint: account.apiUrl,
    ...(caBundle !== undefined ? { requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ ca: readFileSync(caBundle, 'utf8') }) }) } : {}),
    region: opts.region ?? account.region,
    credentials: {
      accessKeyId: opts.accessKeyId ?? account.accessKeyId,
      secretAccessKey: opts.secretAccessKey ?? account.secretAccessKey,
    },
    maxAttempts: 1,
  });
}

export interface AwsCliResult {
  readonly code: number;
  /** parsed stdout, or undefined when stdout is empty / not JSON */
  readonly json: unknown;
  readonly stdout: string;
  readonly stderr: string;
}

const AWS_CLI_TIMEOUT_MS = 60_000;

/** `aws iot <args>` against the account; never throws on a non-zero exit code */
export function awsCli(
  args: readonly string[],
  account: ApiAccount,
  opts: { region?: string; caBundle?: string; configFile?: string; endpointUrl?: string | null } = {},
): Promise<AwsCliResult> {
  const caBundle = opts.caBundle ?? account.caBundle;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    AWS_ACCESS_KEY_ID: account.accessKeyId,
    AWS_SECRET_ACCESS_KEY: account.secretAccessKey,
    AWS_DEFAULT_REGION: opts.region ?? account.region,
    AWS_CONFIG_FILE: opts.configFile ?? '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
    AWS_PAGER: '',
  };
  const endpointUrl = opts.endpointUrl === undefined ? account.apiUrl : opts.endpointUrl;
  const fullArgs = [
    'iot',
    ...args,
    ...(endpointUrl !== null ? ['--endpoint-url', endpointUrl] : []),
    ...(caBundle !== undefined ? ['--ca-bundle', caBundle] : []),
    '--output',
    'json',
  ];
  return new Promise((resolve, reject) => {
    execFile('aws', fullArgs, { env, timeout: AWS_CLI_TIMEOUT_MS, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      let code = 0;
      if (err) {
        const c = (err as NodeJS.ErrnoException & { code?: unknown }).code;
        if (typeof c !== 'number') {
          reject(new Error(`aws ${fullArgs.join(' ')} did not run: ${err.message}`));
          return;
        }
        code = c;
      }
      let json: unknown;
      const text = stdout.trim();
      if (text !== '') {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      resolve({ code, json, stdout, stderr });
    });
  });
}

/** The shape of a service error thrown by the v3 SDK (ServiceException). */
export interface SdkError {
  readonly name: string;
  readonly message: string;
  readonly $metadata: { readonly httpStatusCode?: number };
  readonly [member: string]: unknown;
}

function isSdkError(e: unknown): e is SdkError {
  return typeof e === 'object' && e !== null && typeof (e as { name?: unknown }).name === 'string' && '$metadata' in e;
}

/**
 * Awaits `p`, asserts it rejects with an AWS error named `name` (one of `name` when an array),
 * and, when given, with HTTP status `status`. Returns the error for further checks.
 */
export async function expectIotError(p: Promise<unknown>, name: string | readonly string[], status?: number): Promise<SdkError> {
  let result: unknown;
  try {
    result = await p;
  } catch (e) {
    assert.ok(isSdkError(e), `expected an AWS service error, got ${String(e)}`);
    const names = typeof name === 'string' ? [name] : name;
    assert.ok(names.includes(e.name), `expected ${names.join(' or ')}, got ${e.name} (HTTP ${String(e.$metadata.httpStatusCode)}): ${e.message}`);
    if (status !== undefined) {
      assert.equal(e.$metadata.httpStatusCode, status, `${e.name} should be HTTP ${status}`);
    }
    return e;
  }
  assert.fail(`expected ${typeof name === 'string' ? name : name.join(' or ')}, but the call succeeded: ${JSON.stringify(result).slice(0, 300)}`);
}

/** Strips the `$metadata` the SDK adds, for deep comparisons of outputs. */
export function withoutMetadata<T extends object>(output: T): Omit<T, '$metadata'> {
  const { $metadata: _ignored, ...rest } = output as T & { $metadata?: unknown };
  return rest;
}
