// Issue 10 #10: SigV4 binds exactly what is executed.
// - UNSIGNED-PAYLOAD (x-amz-content-sha256) is refused as AWS IoT refuses it: only Amazon S3 takes an
//   unsigned payload, every other service signs the SHA-256 of the body, so a body cannot be swapped
//   after signing. Presigned URLs sign the body's hash too (the empty string's for a GET).
// - The signature is verified over the path exactly as received and routed, and a path that is not in
//   the one spelling the AWS SDKs and the aws CLI send (no empty, '.' or '..' segments; every byte
//   outside A-Z a-z 0-9 - _ . ~ percent-encoded once, upper-case hex) is refused with
//   InvalidRequestException before anything runs.
// - The SDK and the CLI keep working with names that use ':', '_', '-', '.', '+', '=', ',', '@' and with
//   ARNs (%3A, %2F) in the path, against a real certgate.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  AttachPolicyCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DescribeThingCommand,
  GetPolicyCommand,
  ListAttachedPoliciesCommand,
  ListTargetsForPolicyCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { verifySigV4 } from '../../src/api/index.js';
import { IotError } from '../../src/kernel/errors.js';
import { primaryAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { awsCli, expectIotError, iotClient } from '../helpers/iot-clients.js';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, errorType, sendRaw, signRequest, startHarness } from './api-server-harness.js';
import type { Harness, RawResponse } from './api-server-harness.js';

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

function message(res: RawResponse): string {
  return String((JSON.parse(res.body) as { message?: unknown }).message);
}

describe('issue 10 #10: SigV4 binds exactly what is executed (raw HTTP)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      ListPolicies: async () => ({ policies: [] }),
      GetPolicy: async (_caller, input) => {
        h.calls.push({ operation: 'GetPolicy', input, accountId: '', region: '' });
        return { policyName: input['policyName'] };
      },
      ListPolicyVersions: async () => ({ policyVersions: [] }),
      ListPrincipalThings: async (_caller, input) => {
        h.calls.push({ operation: 'ListPrincipalThings', input, accountId: '', region: '' });
        return { things: [] };
      },
    });
  });
  after(() => h.close());

  it('issue 10 #10: a body swapped under UNSIGNED-PAYLOAD is refused (InvalidSignatureException)', async () => {
    const path = '/things/unsigned1';
    const headers = await signRequest({
      port: h.port,
      method: 'POST',
      path,
      body: '{"thingTypeName":"signed"}',
      headers: { 'x-amz-content-sha256': UNSIGNED_PAYLOAD },
    });
    assert.equal(headers['x-amz-content-sha256'], UNSIGNED_PAYLOAD);
    const swapped = await sendRaw(h.port, 'POST', path, headers, '{"thingTypeName":"swapped"}');
    assert.equal(swapped.status, 403, swapped.body);
    assert.equal(errorType(swapped), 'InvalidSignatureException');
    assert.match(message(swapped), /UNSIGNED-PAYLOAD/);
    // Not even the body that was meant: an unsigned payload is never accepted.
    const same = await sendRaw(h.port, 'POST', path, headers, '{"thingTypeName":"signed"}');
    assert.equal(same.status, 403, same.body);
    assert.equal(errorType(same), 'InvalidSignatureException');
    assert.equal(h.calls.filter((c) => c.input['thingName'] === 'unsigned1').length, 0);
  });

  it('issue 10 #10: a presigned URL carrying X-Amz-Content-Sha256=UNSIGNED-PAYLOAD is refused; a plain presigned GET works', async () => {
    const signer = new SignatureV4({
      service: 'iot',
      region: REGION,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
      sha256: Sha256,
    });
    const presign = async (headers: Record<string, string>): Promise<string> => {
      const p = await signer.presign(
        new HttpRequest({ method: 'GET', hostname: '127.0.0.1', port: h.port, path: '/endpoint', query: { endpointType: 'iot:Data' }, headers: { host: `127.0.0.1:${h.port}`, ...headers } }),
        { expiresIn: 300 },
      );
      return Object.entries(p.query ?? {})
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&');
    };
    const plain = await sendRaw(h.port, 'GET', `/endpoint?${await presign({})}`, { host: `127.0.0.1:${h.port}` });
    assert.equal(plain.status, 200, plain.body);
    const qs = await presign({ 'x-amz-content-sha256': UNSIGNED_PAYLOAD });
    assert.match(qs, /UNSIGNED-PAYLOAD/i);
    const unsigned = await sendRaw(h.port, 'GET', `/endpoint?${qs}`, { host: `127.0.0.1:${h.port}` });
    assert.equal(unsigned.status, 403, unsigned.body);
    assert.equal(errorType(unsigned), 'InvalidSignatureException');
    assert.match(message(unsigned), /UNSIGNED-PAYLOAD/);
  });

  it('issue 10 #10: a signature for GET /policies is not accepted for GET /policies/. (nor any other spelling)', async () => {
    const headers = await signRequest({ port: h.port, method: 'GET', path: '/policies' });
    const ok = await sendRaw(h.port, 'GET', '/policies', headers);
    assert.equal(ok.status, 200, ok.body);
    for (const path of ['/policies/.', '/policies/./', '/policies/x/..', '//policies', '/policies/p/version/.']) {
      const res = await sendRaw(h.port, 'GET', path, headers);
      assert.equal(res.status, 400, `${path}: ${res.status} ${res.body}`);
      assert.equal(errorType(res), 'InvalidRequestException', path);
      assert.match(message(res), /not in canonical form/, path);
    }
    assert.equal(h.calls.filter((c) => c.operation === 'GetPolicy').length, 0);
  });

  it('issue 10 #10: non-canonical paths are refused even when signed as sent (dot segments, //, odd percent-encoding)', async () => {
    const cases: [string, RegExp][] = [
      ['/policies/.', /'\.' or '\.\.'/],
      ['/policies/..', /'\.' or '\.\.'/],
      ['/policies/%2E', /'\.' or '\.\.'|percent-encoded/],
      ['/policies//version', /empty segment/],
      ['/policies/', /empty segment/],
      ['/policies/a%2eb', /percent-encoded/], // lower-case hex
      ['/policies/%61bc', /percent-encoded/], // over-encoding of an unreserved letter
      ['/policies/a+b', /percent-encoded/], // '+' must be sent as %2B
      ['/things/a:b', /percent-encoded/], // ':' must be sent as %3A
      ['/attached-policies/arn%3aaws%3aiot', /percent-encoded/],
    ];
    for (const [path, why] of cases) {
      const method = path.startsWith('/attached-policies') ? 'POST' : path.startsWith('/things') ? 'GET' : 'GET';
      // Signed over exactly this path, without the signer's normalisation (a hand-rolled client).
      const signer = new SignatureV4({
        service: 'iot',
        region: REGION,
        credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
        sha256: Sha256,
        uriEscapePath: false,
      });
      const signed = await signer.sign(
        new HttpRequest({ method, hostname: '127.0.0.1', port: h.port, path, headers: { host: `127.0.0.1:${h.port}` } }),
      );
      const res = await sendRaw(h.port, method, path, signed.headers as Record<string, string>);
      assert.equal(res.status, 400, `${path}: ${res.status} ${res.body}`);
      assert.equal(errorType(res), 'InvalidRequestException', path);
      assert.match(message(res), /not in canonical form/, path);
      assert.match(message(res), why, path);
    }
    assert.equal(h.calls.filter((c) => c.operation === 'GetPolicy').length, 0);
  });

  it('issue 10 #10: the verifier itself checks the path as received: /policies/. does not verify against a /policies signature', async () => {
    const headers = await signRequest({ port: h.port, method: 'GET', path: '/policies' });
    const lookup = async (id: string) => (id === ACCESS_KEY_ID ? { secretAccessKey: SECRET_ACCESS_KEY } : undefined);
    const req = (rawPath: string) => ({
      method: 'GET',
      rawPath,
      query: {},
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
      body: Buffer.alloc(0),
    });
    await verifySigV4(req('/policies'), { lookup, clock: { now: () => new Date() } });
    for (const rawPath of ['/policies/.', '/policies/', '//policies', '/x/../policies']) {
      await assert.rejects(
        verifySigV4(req(rawPath), { lookup, clock: { now: () => new Date() } }),
        (e: unknown) => e instanceof IotError && e.code === 'InvalidSignatureException',
        rawPath,
      );
    }
  });

  it('issue 10 #10: an input bound from a header is taken only from a signed header (x-amzn-principal)', async () => {
    const signer = new SignatureV4({
      service: 'iot',
      region: REGION,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
      sha256: Sha256,
    });
    const request = (principal: string) =>
      new HttpRequest({ method: 'GET', hostname: '127.0.0.1', port: h.port, path: '/principals/things', headers: { host: `127.0.0.1:${h.port}`, 'x-amzn-principal': principal } });
    // As the SDK signs it: the header is signed, and bound.
    const signed = (await signer.sign(request('arn:aws:iot:eu-west-1:123456789012:cert/aaaa'))).headers as Record<string, string>;
    const ok = await sendRaw(h.port, 'GET', '/principals/things', signed);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(h.calls.at(-1)?.input['principal'], 'arn:aws:iot:eu-west-1:123456789012:cert/aaaa');
    // Signed without it, then the header added: not bound (the operation sees no principal).
    const before = h.calls.length;
    const bare = (await signer.sign(request('ignored'), { unsignableHeaders: new Set(['x-amzn-principal']) })).headers as Record<string, string>;
    assert.doesNotMatch(bare['authorization'] ?? '', /x-amzn-principal/);
    const swapped = await sendRaw(h.port, 'GET', '/principals/things', { ...bare, 'x-amzn-principal': 'arn:aws:iot:eu-west-1:123456789012:cert/bbbb' });
    assert.equal(swapped.status, 400, swapped.body);
    assert.equal(errorType(swapped), 'InvalidRequestException');
    assert.match(message(swapped), /principal/);
    assert.equal(h.calls.length, before, 'the operation did not run with an unsigned principal');
  });

  it('canonical paths with encoded reserved characters still route and decode', async () => {
    const name = 'p.o_l-i+c=y,@x';
    const path = `/policies/${encodeURIComponent(name).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
    assert.equal(path, '/policies/p.o_l-i%2Bc%3Dy%2C%40x');
    const headers = await signRequest({ port: h.port, method: 'GET', path });
    const res = await sendRaw(h.port, 'GET', path, headers);
    assert.equal(res.status, 200, res.body);
    assert.equal(JSON.parse(res.body).policyName, name);
  });
});

describe('issue 10 #10: the AWS SDK and the aws CLI keep working with special characters (real certgate)', { timeout: 300_000 }, () => {
  let server: RunningCertgate;
  let iot: IoTClient;
  const suffix = randomBytes(3).toString('hex');
  const ALLOW = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] });
  before(async () => {
    server = await startCertgate();
    iot = iotClient(primaryAccount(server));
  });
  after(async () => {
    iot?.destroy();
    await server?.stop();
  });

  it('@aws-sdk/client-iot: things and policies named with : _ - . + = , @ and ARN targets in the path', async () => {
    const thingName = `dev:${suffix}_a-b:c`;
    const created = await iot.send(new CreateThingCommand({ thingName }));
    assert.equal(created.thingName, thingName);
    const described = await iot.send(new DescribeThingCommand({ thingName }));
    assert.equal(described.thingName, thingName);

    const policyName = `p.o_l-i+c=y,@${suffix}..x`;
    await iot.send(new CreatePolicyCommand({ policyName, policyDocument: ALLOW }));
    const got = await iot.send(new GetPolicyCommand({ policyName }));
    assert.equal(got.policyName, policyName);

    const cert = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
    const certArn = String(cert.certificateArn);
    await iot.send(new AttachPolicyCommand({ policyName, target: certArn }));
    const attached = await iot.send(new ListAttachedPoliciesCommand({ target: certArn }));
    assert.deepEqual(attached.policies?.map((p) => p.policyName), [policyName]);
    const targets = await iot.send(new ListTargetsForPolicyCommand({ policyName }));
    assert.deepEqual(targets.targets, [certArn]);
  });

  it('@aws-sdk/client-iot: a policy named "." cannot be addressed (its path is a dot segment) → InvalidRequestException', async () => {
    const err = await expectIotError(iot.send(new CreatePolicyCommand({ policyName: '.', policyDocument: ALLOW })), 'InvalidRequestException', 400);
    assert.match(err.message, /not in canonical form/);
  });

  it('aws CLI: the same names through botocore', async () => {
    const account = primaryAccount(server);
    const thingName = `cli:${suffix}_a-b`;
    const made = await awsCli(['create-thing', '--thing-name', thingName], account);
    assert.equal(made.code, 0, made.stderr);
    const described = await awsCli(['describe-thing', '--thing-name', thingName], account);
    assert.equal(described.code, 0, described.stderr);
    assert.equal((described.json as { thingName?: string }).thingName, thingName);

    const policyName = `cli.p_o-l+i=c,y@${suffix}`;
    const policy = await awsCli(['create-policy', '--policy-name', policyName, '--policy-document', ALLOW], account);
    assert.equal(policy.code, 0, policy.stderr);
    const got = await awsCli(['get-policy', '--policy-name', policyName], account);
    assert.equal(got.code, 0, got.stderr);
    assert.equal((got.json as { policyName?: string }).policyName, policyName);

    const cert = await awsCli(['create-keys-and-certificate'], account);
    assert.equal(cert.code, 0, cert.stderr);
    const certArn = String((cert.json as { certificateArn?: string }).certificateArn);
    const attach = await awsCli(['attach-policy', '--policy-name', policyName, '--target', certArn], account);
    assert.equal(attach.code, 0, attach.stderr);
    const listed = await awsCli(['list-attached-policies', '--target', certArn], account);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((listed.json as { policies?: { policyName: string }[] }).policies?.map((p) => p.policyName), [policyName]);
  });
});
