// Integration: the core control-plane flows through the machine's `aws` CLI (child process, --endpoint-url,
// --output json), proving the server works with botocore's serializer and the CLI's own conventions
// (file:// arguments, auto-pagination, exit codes). Covers create-keys-and-certificate, describe-certificate,
// list-certificates (--page-size 1, auto-paginated), update-certificate, get-registration-code +
// register-ca-certificate with a verification certificate file, register-certificate, create-thing,
// attach-thing-principal, create-policy with file://, attach-policy, list-attached-policies,
// describe-endpoint, and errors (non-zero exit 254/255 with the AWS error name on stderr).
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { awsCli } from '../helpers/iot-clients.js';
import type { AwsCliResult } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';

const suffix = randomBytes(4).toString('hex');

function ok(res: AwsCliResult): Record<string, unknown> {
  assert.equal(res.code, 0, `aws exited ${res.code}: ${res.stderr}`);
  if (res.stdout.trim() === '') return {};
  assert.equal(typeof res.json, 'object', `stdout is not JSON: ${res.stdout}`);
  return res.json as Record<string, unknown>;
}

function str(v: unknown): string {
  assert.equal(typeof v, 'string', `expected a string, got ${JSON.stringify(v)}`);
  return v as string;
}

function sha256OfDer(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

function assertCliError(res: AwsCliResult, errorName: string): void {
  assert.ok(res.code === 254 || res.code === 255, `expected exit code 254/255, got ${res.code}; stderr: ${res.stderr}`);
  assert.match(res.stderr, new RegExp(`\\(${errorName}\\)`), `stderr lacks (${errorName}): ${res.stderr}`);
}

describe('aws CLI against certgate', { timeout: 300_000 }, () => {
  let server: RunningCertgate;
  let pki: TestPki;
  let certId: string;
  let certArn: string;

  before(async () => {
    server = await startCertgate();
    pki = await TestPki.create();
  });

  after(async () => {
    await server?.stop();
    await pki?.cleanup();
  });

  it('create-keys-and-certificate --set-as-active → ACTIVE certificate with a key pair', async () => {
    const out = ok(await awsCli(['create-keys-and-certificate', '--set-as-active'], server));
    certId = str(out['certificateId']);
    certArn = str(out['certificateArn']);
    const pem = str(out['certificatePem']);
    assert.equal(certId, sha256OfDer(pem));
    assert.equal(certArn, `arn:aws:iot:${server.region}:${server.accountId}:cert/${certId}`);
    const keyPair = out['keyPair'] as Record<string, unknown> | undefined;
    assert.match(str(keyPair?.['PrivateKey']), /-----BEGIN (RSA )?PRIVATE KEY-----/);
    assert.match(str(keyPair?.['PublicKey']), /-----BEGIN PUBLIC KEY-----/);
  });

  it('describe-certificate shows it ACTIVE with a parseable creationDate', async () => {
    const out = ok(await awsCli(['describe-certificate', '--certificate-id', certId], server));
    const desc = out['certificateDescription'] as Record<string, unknown>;
    assert.equal(desc['certificateId'], certId);
    assert.equal(desc['status'], 'ACTIVE');
    assert.equal(desc['ownedBy'], server.accountId);
    // aws-cli v1 prints the wire value (epoch seconds); v2 prints ISO 8601
    const created = desc['creationDate'];
    const createdMs = typeof created === 'number' ? created * 1000 : new Date(str(created)).getTime();
    assert.ok(Math.abs(createdMs - Date.now()) < 10 * 60_000, `bad creationDate ${String(created)}`);
    assert.ok(!JSON.stringify(out).includes('PRIVATE KEY'));
  });

  it('list-certificates --page-size 1 + --marker walks every page (nextMarker)', async () => {
    // --page-size is the service's own pageSize here, which turns the CLI's auto-pagination off (aws-cli
    // paginate.py: a shadowed pagination argument disables it), so the pages are walked by hand.
    const second = ok(await awsCli(['create-keys-and-certificate'], server));
    const secondId = str(second['certificateId']);
    const ids: unknown[] = [];
    const statuses = new Map<unknown, unknown>();
    let marker: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const out = ok(await awsCli(['list-certificates', '--page-size', '1', ...(marker === undefined ? [] : ['--marker', marker])], server));
      const certs = out['certificates'] as Record<string, unknown>[];
      assert.ok(certs.length <= 1);
      for (const c of certs) {
        ids.push(c['certificateId']);
        statuses.set(c['certificateId'], c['status']);
      }
      marker = typeof out['nextMarker'] === 'string' && out['nextMarker'] !== '' ? out['nextMarker'] : undefined;
      if (marker === undefined) break;
    }
    assert.equal(marker, undefined, 'more pages than certificates');
    assert.deepEqual([...ids].sort(), [certId, secondId].sort());
    assert.equal(statuses.get(secondId), 'INACTIVE');
    const all = ok(await awsCli(['list-certificates'], server));
    assert.equal((all['certificates'] as unknown[]).length, 2);
    assert.equal(all['nextMarker'], undefined);
  });

  it('update-certificate --new-status INACTIVE prints nothing and takes effect', async () => {
    const res = await awsCli(['update-certificate', '--certificate-id', certId, '--new-status', 'INACTIVE'], server);
    ok(res);
    assert.equal(res.stdout.trim(), '');
    const out = ok(await awsCli(['describe-certificate', '--certificate-id', certId], server));
    assert.equal((out['certificateDescription'] as Record<string, unknown>)['status'], 'INACTIVE');
  });

  it('register-ca-certificate with a verification certificate file, then register-certificate under it', async () => {
    const code = str(ok(await awsCli(['get-registration-code'], server))['registrationCode']);
    assert.match(code, /^[0-9a-f]{64}$/);
    const ca = await pki.makeCa();
    const verification = await pki.makeVerificationCert(ca, code);
    const reg = ok(await awsCli([
      'register-ca-certificate',
      '--ca-certificate', `file://${ca.certPath}`,
      '--verification-certificate', `file://${verification.certPath}`,
      '--set-as-active', '--allow-auto-registration',
    ], server));
    const caId = str(reg['certificateId']);
    assert.equal(caId, sha256OfDer(ca.certPem));
    const described = ok(await awsCli(['describe-ca-certificate', '--certificate-id', caId], server));
    const desc = described['certificateDescription'] as Record<string, unknown>;
    assert.equal(desc['status'], 'ACTIVE');
    assert.equal(desc['autoRegistrationStatus'], 'ENABLE');

    const device = await pki.makeDeviceCert(ca);
    const dev = ok(await awsCli([
      'register-certificate', '--certificate-pem', `file://${device.certPath}`, '--ca-certificate-pem', `file://${ca.certPath}`, '--status', 'ACTIVE',
    ], server));
    assert.equal(dev['certificateId'], sha256OfDer(device.certPem));
    const byCa = ok(await awsCli(['list-certificates-by-ca', '--ca-certificate-id', caId], server));
    assert.deepEqual((byCa['certificates'] as Record<string, unknown>[]).map((c) => c['certificateId']), [dev['certificateId']]);
  });

  it('register-ca-certificate with a verification certificate of the wrong code → RegistrationCodeValidationException', async () => {
    const ca = await pki.makeCa();
    const verification = await pki.makeVerificationCert(ca, randomBytes(32).toString('hex'));
    assertCliError(await awsCli([
      'register-ca-certificate', '--ca-certificate', `file://${ca.certPath}`, '--verification-certificate', `file://${verification.certPath}`,
    ], server), 'RegistrationCodeValidationException');
  });

  it('create-thing and attach-thing-principal', async () => {
    const thingName = `cli-thing-${suffix}`;
    const thing = ok(await awsCli(['create-thing', '--thing-name', thingName, '--attribute-payload', '{"attributes":{"room":"42"}}'], server));
    assert.equal(thing['thingName'], thingName);
    assert.equal(thing['thingArn'], `arn:aws:iot:${server.region}:${server.accountId}:thing/${thingName}`);
    ok(await awsCli(['attach-thing-principal', '--thing-name', thingName, '--principal', certArn], server));
    const principals = ok(await awsCli(['list-thing-principals', '--thing-name', thingName], server));
    assert.deepEqual(principals['principals'], [certArn]);
    const described = ok(await awsCli(['describe-thing', '--thing-name', thingName], server));
    assert.deepEqual(described['attributes'], { room: '42' });
    assert.equal(described['version'], 1);
  });

  it('create-policy with file://, attach-policy, list-attached-policies', async () => {
    const policyName = `cli-policy-${suffix}`;
    const document = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['iot:Connect', 'iot:Publish'], Resource: '*' }],
    };
    const file = join(pki.dir, 'policy.json');
    await writeFile(file, JSON.stringify(document, null, 2));
    const created = ok(await awsCli(['create-policy', '--policy-name', policyName, '--policy-document', `file://${file}`], server));
    assert.equal(created['policyName'], policyName);
    assert.equal(created['policyVersionId'], '1');
    assert.deepEqual(JSON.parse(str(created['policyDocument'])), document);
    ok(await awsCli(['attach-policy', '--policy-name', policyName, '--target', certArn], server));
    const attached = ok(await awsCli(['list-attached-policies', '--target', certArn], server));
    assert.deepEqual((attached['policies'] as Record<string, unknown>[]).map((p) => p['policyName']), [policyName]);
  });

  it('create-policy with a malformed document → MalformedPolicyException', async () => {
    const file = join(pki.dir, 'bad-policy.json');
    await writeFile(file, '{"Version":"2012-10-17","Statement":[{"Action":"iot:Connect","Resource":"*"}]}');
    assertCliError(await awsCli(['create-policy', '--policy-name', `cli-bad-${suffix}`, '--policy-document', `file://${file}`], server), 'MalformedPolicyException');
  });

  it('describe-endpoint --endpoint-type iot:Data-ATS → the data endpoint', async () => {
    const out = ok(await awsCli(['describe-endpoint', '--endpoint-type', 'iot:Data-ATS'], server));
    assert.equal(out['endpointAddress'], server.dataEndpoint.replace(/^[a-z]+:\/\//, '').replace(/:\d+$/, ''));
  });

  it('errors: unknown certificate → ResourceNotFoundException; deleting an ACTIVE one → CertificateStateException', async () => {
    assertCliError(await awsCli(['describe-certificate', '--certificate-id', randomBytes(32).toString('hex')], server), 'ResourceNotFoundException');
    const active = ok(await awsCli(['create-keys-and-certificate', '--set-as-active'], server));
    assertCliError(await awsCli(['delete-certificate', '--certificate-id', str(active['certificateId'])], server), 'CertificateStateException');
  });

  it('a wrong secret → the CLI reports InvalidSignatureException', async () => {
    const res = await awsCli(['list-certificates'], { ...server, secretAccessKey: 'not-the-secret' });
    assertCliError(res, 'InvalidSignatureException');
  });
});
