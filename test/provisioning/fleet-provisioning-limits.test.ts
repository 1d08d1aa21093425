// Issue 10 #14 "limits per account": claim certificates could mint certificates without an account-wide limit
// (ten connections minted 57 certificates in 15 s). Fleet provisioning requests are limited per account by a
// rate (token bucket) and by a ceiling on certificates created but not yet provisioned; a device over either is
// answered on /rejected in AWS's shape ({statusCode, errorCode, errorMessage}), and `certgate why` says why.
// Real server, real accounts, real mqtt.js connections with a claim certificate.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DescribeCertificateCommand } from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { createAccount, primaryAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { createDevice, endClient } from '../helpers/device.js';
import type { Device } from '../helpers/device.js';
import { accepted, claimPolicy, createFleetTemplate, fleetRequest, rejected } from '../helpers/fleet-provisioning.js';
import type { FleetAnswer } from '../helpers/fleet-provisioning.js';
import { iotClient } from '../helpers/iot-clients.js';
import { whyRecords } from '../helpers/why-records.js';
import { resolveServeConfig } from '../../src/main/config.js';
import { StartupError } from '../../src/main/startup-error.js';

const CREATE_JSON = '$aws/certificates/create/json';
const provisionTopic = (template: string): string => `$aws/provisioning-templates/${template}/provision/json`;

interface Tenant {
  readonly account: TestAccount;
  readonly template: string;
  readonly claim: Device;
}

async function tenant(server: RunningCertgate, account: TestAccount): Promise<Tenant> {
  const template = `fleet-${randomBytes(3).toString('hex')}`;
  await createFleetTemplate(account, template);
  const claim = await createDevice(server, { account, policyDocument: claimPolicy({ region: server.region, accountId: account.accountId }, template) });
  return { account, template, claim };
}

describe('issue 10 #14: fleet provisioning requests are rate-limited per account (real server, --fleet-request-rate)', () => {
  let server: RunningCertgate;
  let a: Tenant;
  let b: Tenant;
  const clients: MqttClient[] = [];

  before(async () => {
    // One request per 1,000 s, bursts of one: within this test, each account gets exactly one request through.
    server = await startCertgate({ args: ['--fleet-request-rate', '0.001'] });
    a = await tenant(server, primaryAccount(server));
    b = await tenant(server, await createAccount(server, 'fleet-tenant-b'));
  });
  after(async () => {
    await Promise.all(clients.map((c) => endClient(c, true)));
    await server?.stop();
  });

  it('issue 10 #14: ten connections sharing a claim certificate get one certificate; the others are answered 429 Throttled, and `certgate why` says so', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `claim-rate-${i}-${randomBytes(3).toString('hex')}`);
    const conns = await Promise.all(ids.map((clientId) => a.claim.connect({ protocolVersion: 5, clientId })));
    clients.push(...conns);
    const answers: FleetAnswer[] = await Promise.all(conns.map((c) => fleetRequest(c, CREATE_JSON, {})));
    const ok = answers.filter((x) => x.outcome === 'accepted');
    const refused = answers.filter((x) => x.outcome === 'rejected');
    assert.equal(ok.length, 1, `one certificate minted: ${JSON.stringify(answers.map((x) => x.outcome))}`);
    assert.equal(refused.length, 9);
    for (const r of refused) assert.match(rejected(r, 429, 'Throttled'), /Rate exceeded/);

    const throttledClient = ids[answers.findIndex((x) => x.outcome === 'rejected')]!;
    const records = await whyRecords(server, throttledClient, a.account);
    assert.ok(
      records.some((r) => r.kind === 'publish' && r.outcome === 'denied' && r.resource === CREATE_JSON && r.reasons.some((x) => x.includes('429 Throttled'))),
      JSON.stringify(records),
    );
  });

  it('issue 10 #14: the rate is per account: another account\'s claim is not throttled by the first account\'s traffic', async () => {
    const c = await b.claim.connect({ protocolVersion: 5 });
    clients.push(c);
    const body = accepted(await fleetRequest(c, CREATE_JSON, {}));
    assert.match(String(body['certificateId']), /^[0-9a-f]{64}$/);
  });
});

describe('issue 10 #14: certificates created but not yet provisioned are limited per account (real server, --fleet-pending-certificates)', () => {
  let server: RunningCertgate;
  let a: Tenant;
  let b: Tenant;
  const clients: MqttClient[] = [];
  const connect = async (t: Tenant): Promise<MqttClient> => {
    const c = await t.claim.connect({ protocolVersion: 5 });
    clients.push(c);
    return c;
  };

  before(async () => {
    server = await startCertgate({ args: ['--fleet-pending-certificates', '3'] });
    a = await tenant(server, primaryAccount(server));
    b = await tenant(server, await createAccount(server, 'fleet-pending-b'));
  });
  after(async () => {
    await Promise.all(clients.map((c) => endClient(c, true)));
    await server?.stop();
  });

  it('issue 10 #14: past the ceiling CreateKeysAndCertificate is answered 400 LimitExceeded; provisioning one frees a slot; other accounts are unaffected', async () => {
    // Six concurrent requests on six connections: exactly three certificates, however they interleave.
    const conns = await Promise.all(Array.from({ length: 6 }, () => connect(a)));
    const answers = await Promise.all(conns.map((c) => fleetRequest(c, CREATE_JSON, {})));
    const ok = answers.filter((x) => x.outcome === 'accepted').map(accepted);
    assert.equal(ok.length, 3, JSON.stringify(answers.map((x) => x.outcome)));
    for (const r of answers.filter((x) => x.outcome === 'rejected')) assert.match(rejected(r, 400, 'LimitExceeded'), /not yet provisioned \(at most 3\)/);
    for (const body of ok) {
      const d = await iotClient(a.account).send(new DescribeCertificateCommand({ certificateId: String(body['certificateId']) }));
      assert.equal(d.certificateDescription?.status, 'PENDING_ACTIVATION');
    }

    // Another account has its own ceiling.
    accepted(await fleetRequest(await connect(b), CREATE_JSON, {}));

    // RegisterThing provisions one: the account may create one more, and no more than that.
    const provisioned = await fleetRequest(conns[0]!, provisionTopic(a.template), {
      certificateOwnershipToken: ok[0]!['certificateOwnershipToken'],
      parameters: { SerialNumber: randomBytes(3).toString('hex') },
    });
    accepted(provisioned);
    accepted(await fleetRequest(conns[1]!, CREATE_JSON, {}));
    const over = await fleetRequest(conns[2]!, CREATE_JSON, {});
    rejected(over, 400, 'LimitExceeded');
    const records = await whyRecords(server, a.claim.certificateId, a.account);
    assert.ok(records.some((r) => r.kind === 'publish' && r.outcome === 'denied' && r.reasons.some((x) => x.includes('400 LimitExceeded'))), JSON.stringify(records));
  });
});

describe('issue 10 #14: --fleet-request-rate and --fleet-pending-certificates (settings)', () => {
  it('defaults are left out of the config (10 per second, 1000 pending); flags win over CERTGATE_* twins; bad values name the flag', () => {
    const d = resolveServeConfig({}, {}, '/');
    assert.equal(d.fleetRequestRate, undefined);
    assert.equal(d.fleetPendingCertificates, undefined);
    const c = resolveServeConfig({ fleetRequestRate: '0.5' }, { CERTGATE_FLEET_REQUEST_RATE: '7', CERTGATE_FLEET_PENDING_CERTIFICATES: '25' }, '/');
    assert.equal(c.fleetRequestRate, 0.5);
    assert.equal(c.fleetPendingCertificates, 25);
    for (const bad of ['0', '-1', 'fast', '1e3']) {
      assert.throws(() => resolveServeConfig({ fleetRequestRate: bad }, {}, '/'), (e: unknown) => e instanceof StartupError && e.message.startsWith(`--fleet-request-rate: '${bad}'`));
    }
    assert.throws(() => resolveServeConfig({}, { CERTGATE_FLEET_PENDING_CERTIFICATES: '0' }, '/'), (e: unknown) => e instanceof StartupError && /CERTGATE_FLEET_PENDING_CERTIFICATES/.test(e.message));
  });
});
