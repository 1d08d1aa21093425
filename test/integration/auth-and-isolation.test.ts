// Integration: SigV4 authentication and tenant isolation against a real server.
// Covers a wrong secret (InvalidSignatureException 403), an unknown access key (UnrecognizedClientException 403),
// raw SigV4 requests (a correctly signed one passes; a body changed after signing, and a request signed
// 20 minutes in the past, are refused with 403), account isolation (account B, created with the certgate CLI
// while the server runs, cannot list/describe/update/delete account A's certificate or use A's policy) and
// region isolation (resources created in one region are invisible from another with the same credentials).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  GetPolicyCommand,
  ListAttachedPoliciesCommand,
  ListCertificatesCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createAccount, primaryAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';

const suffix = randomBytes(4).toString('hex');
const CONNECT_ALL = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] });

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Sends one request exactly as given (no SDK), bounded by a timeout. */
function sendRaw(url: URL, method: string, path: string, headers: Record<string, string>, body: string): Promise<RawResponse> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send({
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      method,
      path,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      timeout: 10_000,
      rejectUnauthorized: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('raw request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function signedCreatePolicy(account: TestAccount, policyName: string, body: string, signingDate = new Date()): Promise<{ url: URL; path: string; headers: Record<string, string> }> {
  const url = new URL(account.apiUrl);
  const path = `/policies/${encodeURIComponent(policyName)}`;
  const req = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    path,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  const signer = new SignatureV4({
    service: 'iot',
    region: account.region,
    credentials: { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey },
    sha256: Sha256,
  });
  const signed = await signer.sign(req, { signingDate });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k] = String(v);
  return { url, path, headers };
}

describe('authentication and isolation', { timeout: 180_000 }, () => {
  let server: RunningCertgate;
  let accountA: TestAccount;
  let accountB: TestAccount;
  let iotA: IoTClient;
  let iotB: IoTClient;

  before(async () => {
    // eu-west-1 served too: region isolation is between served regions (issue 10 #11 refuses the others).
    server = await startCertgate({ args: ['--extra-regions', 'eu-west-1'] });
    accountA = primaryAccount(server);
    accountB = await createAccount(server, `iso-b-${suffix}`);
    iotA = iotClient(accountA);
    iotB = iotClient(accountB);
  });

  after(async () => {
    iotA?.destroy();
    iotB?.destroy();
    await server?.stop();
  });

  describe('SigV4', () => {
    it('a wrong secret → InvalidSignatureException (403)', async () => {
      const bad = iotClient(accountA, { secretAccessKey: `${accountA.secretAccessKey}x` });
      try {
        await expectIotError(bad.send(new ListCertificatesCommand({})), 'InvalidSignatureException', 403);
      } finally {
        bad.destroy();
      }
    });

    it('an unknown access key → UnrecognizedClientException (403)', async () => {
      const unknown = iotClient(accountA, { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}` });
      try {
        await expectIotError(unknown.send(new ListCertificatesCommand({})), 'UnrecognizedClientException', 403);
      } finally {
        unknown.destroy();
      }
    });

    it('a raw request signed correctly is accepted (control for the next cases)', async () => {
      const policyName = `raw-ok-${suffix}`;
      const body = JSON.stringify({ policyDocument: CONNECT_ALL });
      const { url, path, headers } = await signedCreatePolicy(accountA, policyName, body);
      const res = await sendRaw(url, 'POST', path, headers, body);
      assert.equal(res.status, 200, res.body);
      assert.equal((JSON.parse(res.body) as { policyName?: string }).policyName, policyName);
    });

    it('a body changed after signing → 403, nothing created', async () => {
      const policyName = `raw-tampered-${suffix}`;
      const signedBody = JSON.stringify({ policyDocument: CONNECT_ALL });
      const tampered = JSON.stringify({ policyDocument: CONNECT_ALL.replace('iot:Connect', 'iot:*') });
      const { url, path, headers } = await signedCreatePolicy(accountA, policyName, signedBody);
      const res = await sendRaw(url, 'POST', path, headers, tampered);
      assert.equal(res.status, 403, res.body);
      const errorType = String(res.headers['x-amzn-errortype'] ?? '');
      assert.match(errorType, /^InvalidSignatureException/);
      await expectIotError(iotA.send(new GetPolicyCommand({ policyName })), 'ResourceNotFoundException', 404);
    });

    it('a request signed 20 minutes ago → 403', async () => {
      const policyName = `raw-stale-${suffix}`;
      const body = JSON.stringify({ policyDocument: CONNECT_ALL });
      const { url, path, headers } = await signedCreatePolicy(accountA, policyName, body, new Date(Date.now() - 20 * 60_000));
      const res = await sendRaw(url, 'POST', path, headers, body);
      assert.equal(res.status, 403, res.body);
      await expectIotError(iotA.send(new GetPolicyCommand({ policyName })), 'ResourceNotFoundException', 404);
    });
  });

  describe('accounts', () => {
    it('account B gets its own account id', () => {
      assert.match(accountB.accountId, /^\d{12}$/);
      assert.notEqual(accountB.accountId, accountA.accountId);
      assert.notEqual(accountB.accessKeyId, accountA.accessKeyId);
    });

    it("account B cannot list, describe, update or delete account A's certificate", async () => {
      const out = await iotA.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
      const certificateId = out.certificateId;
      assert.ok(certificateId && out.certificateArn);
      const listB = await iotB.send(new ListCertificatesCommand({ pageSize: 250 }));
      assert.ok(!(listB.certificates ?? []).some((c) => c.certificateId === certificateId));
      await expectIotError(iotB.send(new DescribeCertificateCommand({ certificateId })), 'ResourceNotFoundException', 404);
      await expectIotError(iotB.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' })), 'ResourceNotFoundException', 404);
      await expectIotError(iotB.send(new DeleteCertificateCommand({ certificateId })), 'ResourceNotFoundException', 404);
      const stillA = await iotA.send(new DescribeCertificateCommand({ certificateId }));
      assert.equal(stillA.certificateDescription?.status, 'INACTIVE');
    });

    it("account B cannot attach account A's policy, nor attach its own policy or thing to A's certificate", async () => {
      const policyA = `a-only-${suffix}`;
      await iotA.send(new CreatePolicyCommand({ policyName: policyA, policyDocument: CONNECT_ALL }));
      const certB = await iotB.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      assert.ok(certB.certificateArn);
      await expectIotError(iotB.send(new AttachPolicyCommand({ policyName: policyA, target: certB.certificateArn })), 'ResourceNotFoundException', 404);
      await expectIotError(iotB.send(new GetPolicyCommand({ policyName: policyA })), 'ResourceNotFoundException', 404);

      const certA = await iotA.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      assert.ok(certA.certificateArn);
      const policyB = `b-only-${suffix}`;
      await iotB.send(new CreatePolicyCommand({ policyName: policyB, policyDocument: CONNECT_ALL }));
      await expectIotError(
        iotB.send(new AttachPolicyCommand({ policyName: policyB, target: certA.certificateArn })),
        ['ResourceNotFoundException', 'InvalidRequestException', 'UnauthorizedException'],
      );
      const thingB = `thing-b-${suffix}`;
      await iotB.send(new CreateThingCommand({ thingName: thingB }));
      await expectIotError(
        iotB.send(new AttachThingPrincipalCommand({ thingName: thingB, principal: certA.certificateArn })),
        ['ResourceNotFoundException', 'InvalidRequestException', 'UnauthorizedException'],
      );
      const attachedToA = await iotA.send(new ListAttachedPoliciesCommand({ target: certA.certificateArn }));
      assert.deepEqual(attachedToA.policies ?? [], []);
      await expectIotError(iotA.send(new DescribeThingCommand({ thingName: thingB })), 'ResourceNotFoundException', 404);
    });
  });

  describe('regions', () => {
    it('a certificate created in one region is invisible from another', async () => {
      const otherRegion = server.region === 'eu-west-1' ? 'us-east-1' : 'eu-west-1';
      const elsewhere = iotClient(accountA, { region: otherRegion });
      try {
        const home = await iotA.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
        assert.ok(home.certificateId);
        assert.match(home.certificateArn ?? '', new RegExp(`^arn:aws:iot:${server.region}:`));
        await expectIotError(elsewhere.send(new DescribeCertificateCommand({ certificateId: home.certificateId })), 'ResourceNotFoundException', 404);
        const listed = await elsewhere.send(new ListCertificatesCommand({ pageSize: 250 }));
        assert.ok(!(listed.certificates ?? []).some((c) => c.certificateId === home.certificateId));

        const away = await elsewhere.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
        assert.ok(away.certificateId);
        assert.match(away.certificateArn ?? '', new RegExp(`^arn:aws:iot:${otherRegion}:${accountA.accountId}:cert/`));
        await expectIotError(iotA.send(new DescribeCertificateCommand({ certificateId: away.certificateId })), 'ResourceNotFoundException', 404);
        const seenAway = await elsewhere.send(new DescribeCertificateCommand({ certificateId: away.certificateId }));
        assert.equal(seenAway.certificateDescription?.certificateId, away.certificateId);
      } finally {
        elsewhere.destroy();
      }
    });
  });
});
