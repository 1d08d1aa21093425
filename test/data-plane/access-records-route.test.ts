// `certgate why`'s server side and client side in one process: GET /certgate/access-records on the real API
// server (SigV4, scoped to the caller's account and region) and fetchAccessRecords signing with DATA/credentials.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createAccessLog } from '../../src/access/index.js';
import type { AccessLog } from '../../src/access/index.js';
import { createApiServer } from '../../src/api/index.js';
import { silentLogger, systemClock } from '../../src/kernel/index.js';
import { fetchAccessRecords } from '../../src/main/access-records-client.js';
import { AccessRecordsRequestError } from '../../src/main/access-records-request-error.js';
import { registerAccessRecordsRoute } from '../../src/main/access-records-route.js';
import { formatAccessRecords } from '../../src/cli/commands/why.js';

const A = { accountId: '111111111111', accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'secret-a-0123456789012345678901234567890' };
const B = { accountId: '222222222222', accessKeyId: 'AKIABBBBBBBBBBBBBBBB', secretAccessKey: 'secret-b-0123456789012345678901234567890' };
const CERT_A = 'a'.repeat(64);
const CERT_B = 'b'.repeat(64);
const CERT_UNKNOWN = 'c'.repeat(64);

async function dataDirFor(account: typeof A, region: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certgate-why-'));
  await writeFile(join(dir, 'credentials'), `[default]\naws_access_key_id = ${account.accessKeyId}\naws_secret_access_key = ${account.secretAccessKey}\n`);
  await writeFile(join(dir, 'config'), `[default]\nregion = ${region}\n`);
  return dir;
}

describe('GET /certgate/access-records (certgate why)', () => {
  let app: FastifyInstance;
  let url: string;
  let log: AccessLog;
  let dirA: string;
  let dirB: string;

  before(async () => {
    log = createAccessLog({ capacity: 100 });
    app = createApiServer({
      operations: {},
      authenticate: async (id) => [A, B].find((a) => a.accessKeyId === id),
      clock: systemClock,
      logger: silentLogger,
    });
    registerAccessRecordsRoute(app, { accessLog: log, authenticate: async (id) => [A, B].find((a) => a.accessKeyId === id), clock: systemClock, logger: silentLogger, operatorAccountId: B.accountId });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    dirA = await dataDirFor(A, 'us-east-1');
    dirB = await dataDirFor(B, 'us-east-1');
    const t = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    log.record({ at: t(1), kind: 'admission', outcome: 'denied', certificateId: CERT_UNKNOWN, reasons: ['certificate cccc… is not registered in us-east-1'] });
    log.record({ at: t(2), kind: 'admission', outcome: 'denied', accountId: A.accountId, region: 'us-east-1', certificateId: CERT_A, reasons: [`certificate ${CERT_A} is INACTIVE in account ${A.accountId} (us-east-1)`] });
    log.record({ at: t(3), kind: 'connect', outcome: 'allowed', accountId: A.accountId, region: 'us-east-1', certificateId: CERT_A, clientId: 'thing-1', resource: 'client/thing-1', reasons: ['allowed by statement 0'] });
    log.record({ at: t(4), kind: 'publish', outcome: 'denied', accountId: B.accountId, region: 'us-east-1', certificateId: CERT_B, clientId: 'thing-1', resource: 'topic/x', reasons: ['no statement allowed it'] });
    log.record({ at: t(5), kind: 'publish', outcome: 'denied', accountId: A.accountId, region: 'eu-west-1', certificateId: CERT_A, clientId: 'thing-1', reasons: ['other region'] });
  });
  after(async () => {
    await app?.close();
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  });

  it('by certificate id: newest first, only the caller\'s account and region', async () => {
    const records = await fetchAccessRecords({ dataDir: dirA, endpointUrl: url, certificateId: CERT_A });
    assert.deepEqual(records.map((r) => r.kind), ['connect', 'admission']);
    assert.equal(records[1]!.reasons[0], `certificate ${CERT_A} is INACTIVE in account ${A.accountId} (us-east-1)`);
    assert.equal(records[0]!.at, '2026-01-01T00:00:03.000Z');
  });

  it('by client id: another account using the same client id sees only its own records (isolation)', async () => {
    const a = await fetchAccessRecords({ dataDir: dirA, endpointUrl: url, clientId: 'thing-1' });
    assert.deepEqual(a.map((r) => r.certificateId), [CERT_A]);
    const b = await fetchAccessRecords({ dataDir: dirB, endpointUrl: url, clientId: 'thing-1' });
    assert.deepEqual(b.map((r) => r.certificateId), [CERT_B]);
    const aEu = await fetchAccessRecords({ dataDir: dirA, endpointUrl: url, clientId: 'thing-1', region: 'eu-west-1' });
    assert.deepEqual(aEu.map((r) => r.reasons[0]), ['other region']);
  });

  it('issue 10 #14: a refusal placed in no account is shown only to the operator\'s account, and only by its certificate id', async () => {
    // B is the operator here (operatorAccountId); A is a tenant that knows the fingerprint.
    assert.deepEqual(await fetchAccessRecords({ dataDir: dirA, endpointUrl: url, certificateId: CERT_UNKNOWN }), []);
    const byCert = await fetchAccessRecords({ dataDir: dirB, endpointUrl: url, certificateId: CERT_UNKNOWN });
    assert.equal(byCert.length, 1);
    assert.match(byCert[0]!.reasons[0]!, /not registered/);
  });

  it('limit bounds the answer; bad input and bad signatures are AWS-shaped errors', async () => {
    assert.equal((await fetchAccessRecords({ dataDir: dirA, endpointUrl: url, certificateId: CERT_A, limit: 1 })).length, 1);
    await assert.rejects(fetchAccessRecords({ dataDir: dirA, endpointUrl: url, certificateId: CERT_A, limit: 0 }), (e: unknown) => e instanceof AccessRecordsRequestError && e.code === 'InvalidRequestException');
    await assert.rejects(fetchAccessRecords({ dataDir: dirA, endpointUrl: url }), (e: unknown) => e instanceof AccessRecordsRequestError && e.code === 'InvalidRequestException');
    const wrong = await dataDirFor({ ...A, secretAccessKey: 'not-the-secret-0123456789012345678901234' }, 'us-east-1');
    try {
      await assert.rejects(fetchAccessRecords({ dataDir: wrong, endpointUrl: url, clientId: 'thing-1' }), (e: unknown) => e instanceof AccessRecordsRequestError && e.code === 'InvalidSignatureException');
    } finally {
      await rm(wrong, { recursive: true, force: true });
    }
    const res = await fetch(`${url}/certgate/access-records?clientId=thing-1`);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  });

  it('formatAccessRecords prints time, kind, outcome, client id, certificate id and every reason', async () => {
    const text = formatAccessRecords(await fetchAccessRecords({ dataDir: dirA, endpointUrl: url, certificateId: CERT_A }));
    assert.match(text, /2026-01-01T00:00:02.000Z {2}admission {2}DENIED/);
    assert.match(text, new RegExp(`certificate id {2}${CERT_A}`));
    assert.match(text, /client id {7}thing-1/);
    assert.match(text, /because {9}certificate a+ is INACTIVE/);
    assert.match(formatAccessRecords([]), /no access records/);
  });
});
