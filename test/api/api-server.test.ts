import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  CreateThingCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  UpdateCertificateCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { INTERNAL_FAILURE_MESSAGE } from '../../src/api/index.js';
import { resourceAlreadyExists } from '../../src/kernel/errors.js';
import {
  ACCESS_KEY_ID,
  ACCOUNT_ID,
  REGION,
  SECRET_ACCESS_KEY,
  errorType,
  sendRaw,
  signRequest,
  startHarness,
} from './api-server-harness.js';
import type { Harness } from './api-server-harness.js';

const CERT_ID = 'a'.repeat(64);

function client(h: Harness, creds = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }): IoTClient {
  return new IoTClient({ endpoint: h.endpoint, region: REGION, credentials: creds, maxAttempts: 1 });
}

async function rejectsWith(p: Promise<unknown>, name: string, status: number, message?: RegExp): Promise<Error> {
  const err = await p.then(
    () => assert.fail(`expected ${name}`),
    (e: unknown) => e as Error & { $metadata?: { httpStatusCode?: number } },
  );
  assert.equal(err.name, name);
  assert.equal((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, status);
  if (message) assert.match(err.message, message);
  return err;
}

describe('createApiServer with @aws-sdk/client-iot', () => {
  let h: Harness;
  let iot: IoTClient;
  before(async () => {
    h = await startHarness({
      UpdateThing: async () => {
        throw resourceAlreadyExists('Thing exists', 't-id', 'arn:aws:iot:eu-west-1:123456789012:thing/t');
      },
    });
    iot = client(h);
  });
  after(async () => {
    iot.destroy();
    await h.close();
  });

  it('accepts a correct signature and binds the caller account and region', async () => {
    const out = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    assert.equal(out.endpointAddress, 'prefix-ats.iot.iot:Data-ATS');
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.match(out.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    const call = h.calls.at(-1);
    assert.deepEqual(call, { operation: 'DescribeEndpoint', input: { endpointType: 'iot:Data-ATS' }, accountId: ACCOUNT_ID, region: REGION });
  });

  it('binds uri labels and the JSON body (CreateThing)', async () => {
    const out = await iot.send(
      new CreateThingCommand({ thingName: 'dev-1:a_b', attributePayload: { attributes: { color: 'red' }, merge: true } }),
    );
    assert.equal(out.thingName, 'dev-1:a_b');
    assert.equal(out.thingArn, `arn:aws:iot:${REGION}:${ACCOUNT_ID}:thing/dev-1:a_b`);
    assert.deepEqual(JSON.parse(out.thingId ?? 'null'), { attributes: { color: 'red' }, merge: true });
  });

  it('wrong secret → InvalidSignatureException 403', async () => {
    const bad = client(h, { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'not-the-secret' });
    await rejectsWith(bad.send(new DescribeThingCommand({ thingName: 't' })), 'InvalidSignatureException', 403, /does not match/);
    bad.destroy();
  });

  it('unknown access key → UnrecognizedClientException 403', async () => {
    const bad = client(h, { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: SECRET_ACCESS_KEY });
    await rejectsWith(
      bad.send(new DescribeThingCommand({ thingName: 't' })),
      'UnrecognizedClientException',
      403,
      /^The security token included in the request is invalid\.$/,
    );
    bad.destroy();
  });

  it('server clock 20 minutes ahead → InvalidSignatureException "Signature expired"', async () => {
    h.skewMs.value = 20 * 60 * 1000;
    try {
      await rejectsWith(iot.send(new DescribeThingCommand({ thingName: 't' })), 'InvalidSignatureException', 403, /^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    } finally {
      h.skewMs.value = 0;
    }
  });

  it('invalid thing name → InvalidRequestException with the AWS validation message', async () => {
    const err = await rejectsWith(iot.send(new CreateThingCommand({ thingName: 'bad name!' })), 'InvalidRequestException', 400);
    assert.equal(
      err.message,
      "1 validation error detected: Value 'bad name!' at 'thingName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+",
    );
  });

  it('timestamps arrive in the SDK as Date; undeclared members are not sent', async () => {
    const out = await iot.send(new DescribeCertificateCommand({ certificateId: CERT_ID }));
    const d = out.certificateDescription;
    assert.ok(d?.creationDate instanceof Date);
    assert.equal(d.creationDate.getTime(), 1541022751983);
    assert.equal(d.validity?.notAfter?.toISOString(), '2049-12-31T23:59:59.000Z');
    assert.equal((d as Record<string, unknown>)['internalOnly'], undefined);
  });

  it('an ARN with %3A and %2F in the path is decoded (ListAttachedPolicies)', async () => {
    const arn = `arn:aws:iot:${REGION}:${ACCOUNT_ID}:cert/${CERT_ID}`;
    const out = await iot.send(new ListAttachedPoliciesCommand({ target: arn, pageSize: 5, recursive: true }));
    assert.equal(out.policies?.[0]?.policyArn, arn);
    assert.deepEqual(h.calls.at(-1)?.input, { target: arn, pageSize: 5, recursive: true });
  });

  it('empty-output operation answers 200 with an empty body; query enum validated', async () => {
    const out = await iot.send(new UpdateCertificateCommand({ certificateId: CERT_ID, newStatus: 'INACTIVE' }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(h.calls.at(-1)?.input, { certificateId: CERT_ID, newStatus: 'INACTIVE' });
    const err = await rejectsWith(
      iot.send(new UpdateCertificateCommand({ certificateId: 'xyz', newStatus: 'BOGUS' as 'ACTIVE' })),
      'InvalidRequestException',
      400,
    );
    assert.match(err.message, /^3 validation errors detected: /);
    assert.match(err.message, /Value 'BOGUS' at 'newStatus' failed to satisfy constraint: Member must satisfy enum value set: \[ACTIVE, INACTIVE, REVOKED/);
  });

  it('an IotError renders as its named exception with its status and shape members', async () => {
    const err = await rejectsWith(iot.send(new UpdateThingCommand({ thingName: 't' })), 'ResourceAlreadyExistsException', 409, /^Thing exists$/);
    assert.equal((err as Error & { resourceId?: string }).resourceId, 't-id');
    assert.equal((err as Error & { resourceArn?: string }).resourceArn, 'arn:aws:iot:eu-west-1:123456789012:thing/t');
  });

  it('a handler throwing a plain Error → InternalFailureException 500, message not leaked, error logged', async () => {
    const err = await rejectsWith(iot.send(new DeleteThingCommand({ thingName: 't1' })), 'InternalFailureException', 500);
    assert.equal(err.message, INTERNAL_FAILURE_MESSAGE);
    assert.doesNotMatch(err.message, /hunter2/);
    const logged = h.logged.find((l) => l.level === 'error');
    assert.ok(logged);
    assert.match(String((logged.obj as { err?: Error }).err?.message), /hunter2/);
  });
});

describe('createApiServer with raw HTTP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('a tampered body under a valid signature → InvalidSignatureException (no content-sha256 header)', async () => {
    const path = '/things/dev1';
    const headers = await signRequest({ port: h.port, method: 'POST', path, body: '{"thingTypeName":"a"}', applyChecksum: false });
    assert.equal(headers['x-amz-content-sha256'], undefined);
    const ok = await sendRaw(h.port, 'POST', path, headers, '{"thingTypeName":"a"}');
    assert.equal(ok.status, 200, ok.body);
    const res = await sendRaw(h.port, 'POST', path, headers, '{"thingTypeName":"b"}');
    assert.equal(res.status, 403);
    assert.equal(errorType(res), 'InvalidSignatureException');
    assert.match(JSON.parse(res.body).message, /does not match the signature you provided/);
  });

  it('a tampered body with x-amz-content-sha256 of the signed body → InvalidSignatureException', async () => {
    const path = '/things/dev2';
    const headers = await signRequest({ port: h.port, method: 'POST', path, body: '{}' });
    assert.ok(headers['x-amz-content-sha256']);
    const res = await sendRaw(h.port, 'POST', path, headers, '{"thingTypeName":"evil"}');
    assert.equal(res.status, 403);
    assert.equal(errorType(res), 'InvalidSignatureException');
    assert.equal(h.calls.filter((c) => c.input['thingName'] === 'dev2').length, 0);
  });

  it('a stale x-amz-date (20 minutes old) is refused', async () => {
    const headers = await signRequest({ port: h.port, method: 'GET', path: '/endpoint', signingDate: new Date(Date.now() - 20 * 60_000) });
    const res = await sendRaw(h.port, 'GET', '/endpoint', headers);
    assert.equal(res.status, 403);
    assert.equal(errorType(res), 'InvalidSignatureException');
    assert.match(JSON.parse(res.body).message, /^Signature expired/);
  });

  it('a signature scoped to another service is refused', async () => {
    const headers = await signRequest({ port: h.port, method: 'GET', path: '/endpoint', service: 's3' });
    const res = await sendRaw(h.port, 'GET', '/endpoint', headers);
    assert.equal(res.status, 403);
    assert.equal(errorType(res), 'InvalidSignatureException');
  });

  it('no Authorization → MissingAuthenticationTokenException; garbage → IncompleteSignatureException', async () => {
    const none = await sendRaw(h.port, 'GET', '/endpoint', {});
    assert.equal(none.status, 403);
    assert.equal(errorType(none), 'MissingAuthenticationTokenException');
    assert.match(String(none.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/);
    const garbage = await sendRaw(h.port, 'GET', '/endpoint', { authorization: 'AWS4-HMAC-SHA256 Credential=x', 'x-amz-date': '20240101T000000Z' });
    assert.equal(garbage.status, 403);
    assert.equal(errorType(garbage), 'IncompleteSignatureException');
  });

  it('the session-token header is signed over and accepted', async () => {
    const headers = await signRequest({ port: h.port, method: 'GET', path: '/endpoint', headers: { 'x-amz-security-token': 'tok' } });
    const res = await sendRaw(h.port, 'GET', '/endpoint', headers);
    assert.equal(res.status, 200, res.body);
  });

  it('presigned query authentication is accepted; a changed query is not', async () => {
    const signer = new SignatureV4({
      service: 'iot',
      region: REGION,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
      sha256: Sha256,
    });
    const presigned = await signer.presign(
      new HttpRequest({ method: 'GET', hostname: '127.0.0.1', port: h.port, path: '/endpoint', query: { endpointType: 'iot:Data' }, headers: { host: `127.0.0.1:${h.port}` } }),
      { expiresIn: 300 },
    );
    const qs = Object.entries(presigned.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    const ok = await sendRaw(h.port, 'GET', `/endpoint?${qs}`, { host: `127.0.0.1:${h.port}` });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(JSON.parse(ok.body).endpointAddress, 'prefix-ats.iot.iot:Data');
    const tampered = await sendRaw(h.port, 'GET', `/endpoint?${qs.replace('iot%3AData', 'iot%3AJobs')}`, { host: `127.0.0.1:${h.port}` });
    assert.equal(tampered.status, 403);
    assert.equal(errorType(tampered), 'InvalidSignatureException');
  });

  it('invalid JSON body → InvalidRequestException', async () => {
    const body = '{"thingTypeName":';
    const headers = await signRequest({ port: h.port, method: 'POST', path: '/things/dev3', body });
    const res = await sendRaw(h.port, 'POST', '/things/dev3', headers, body);
    assert.equal(res.status, 400);
    assert.equal(errorType(res), 'InvalidRequestException');
    assert.equal(res.headers['content-type'], 'application/json');
  });

  it('unknown route → 404 UnknownOperationException; too large body → 413 AWS error', async () => {
    const res = await sendRaw(h.port, 'GET', '/no-such-thing', {});
    assert.equal(res.status, 404);
    assert.equal(errorType(res), 'UnknownOperationException');
    const big = await sendRaw(h.port, 'POST', '/things/x', { 'content-type': 'application/json' }, Buffer.alloc(70 * 1024, 0x20));
    assert.equal(big.status, 413);
    assert.equal(errorType(big), 'RequestEntityTooLargeException');
    assert.ok(JSON.parse(big.body).message);
  });
});
