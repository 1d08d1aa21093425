// Issue 10 #13: SSRF through the pre-provisioning hook. A tenant writes a fleet template whose hook URL points
// inside (loopback, link-local metadata, private addresses); certgate must call only the hosts the operator
// lists (--provisioning-hook-allow / CERTGATE_PROVISIONING_HOOK_ALLOW), check the address it connects to
// after resolving (DNS rebinding), follow no redirect, bound time and size, and tell the device only that
// the hook failed — the detail goes to `certgate why`.
// Part 1 drives the real invoker (src/main/pre-provisioning-hook.ts) against real loopback HTTP servers;
// part 2 runs a real certgate with a real MQTT device.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DescribeThingCommand } from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import type { AccessRecord } from '../../src/access/index.js';
import { createHttpPreProvisioningHook, nonGlobalAddressKind, parseHookAllowList } from '../../src/main/pre-provisioning-hook.js';
import type { PreProvisioningHookInput } from '../../src/provisioning/index.js';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { createDevice, endClient } from '../helpers/device.js';
import type { Device } from '../helpers/device.js';
import { accepted, claimPolicy, createFleetTemplate, fleetRequest, rejected, startTestHook } from '../helpers/fleet-provisioning.js';
import type { TestHook } from '../helpers/fleet-provisioning.js';
import { iotClient } from '../helpers/iot-clients.js';
import type { ApiAccount } from '../helpers/iot-clients.js';
import { whyRecords } from '../helpers/why-records.js';

const INPUT: PreProvisioningHookInput = {
  claimCertificateId: 'c'.repeat(64),
  certificateId: 'd'.repeat(64),
  certificatePem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
  templateArn: 'arn:aws:iot:us-east-1:123456789012:provisioningtemplate/t',
  clientId: 'dev-1',
  parameters: {},
};
const SCOPE = { accountId: '123456789012', region: 'us-east-1' };
const SECRET = 'INTERNAL-SECRET-7f3a';
const ACCOUNT_A = '111111111111';
const ACCOUNT_B = '222222222222';
const inputOf = (accountId: string): PreProvisioningHookInput => ({ ...INPUT, templateArn: `arn:aws:iot:us-east-1:${accountId}:provisioningtemplate/t` });
const scopeOf = (accountId: string): { accountId: string; region: string } => ({ accountId, region: 'us-east-1' });

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    (v) => assert.fail(`expected the hook call to fail, got ${JSON.stringify(v)}`),
    (err: unknown) => err as Error,
  );
  return e.message;
}

describe('issue 10 #13: the pre-provisioning hook invoker (real loopback servers)', () => {
  let internal: TestHook;
  let allowed: TestHook;
  before(async () => {
    internal = await startTestHook();
    internal.answer = () => ({ status: 200, body: { allowProvisioning: true, parameterOverrides: { SerialNumber: SECRET } } });
    allowed = await startTestHook();
  });
  after(async () => {
    await internal?.close();
    await allowed?.close();
  });

  it('issue 10 #13: a loopback hook that is not listed is not called (nothing listed, or another host listed)', async () => {
    internal.calls.length = 0;
    const records: AccessRecord[] = [];
    for (const allow of ['', 'hooks.example.com', `127.0.0.1:${internal.port + 1}`, '127.0.0.1']) {
      const hook = createHttpPreProvisioningHook({ allow: parseHookAllowList(allow), record: (r) => records.push(r) });
      const why = await refusal(hook.invoke(internal.url, INPUT, SCOPE));
      assert.match(why, allow === '' ? /not in --provisioning-hook-allow \(empty/ : /not allowed for account 123456789012: no entry of --provisioning-hook-allow/, allow);
    }
    assert.equal(internal.calls.length, 0, 'the internal endpoint was never called');
    assert.equal(records.length, 4);
    assert.deepEqual(
      { kind: records[0]?.kind, outcome: records[0]?.outcome, accountId: records[0]?.accountId, clientId: records[0]?.clientId, certificateId: records[0]?.certificateId },
      { kind: 'publish', outcome: 'denied', accountId: '123456789012', clientId: 'dev-1', certificateId: 'c'.repeat(64) },
    );
  });

  it('issue 10 #13: a listed name resolving to loopback, private, link-local or metadata addresses is not called (DNS rebinding)', async () => {
    internal.calls.length = 0;
    // Real DNS: "localhost" resolves to loopback; listing the name does not list the address.
    const byName = createHttpPreProvisioningHook({ allow: parseHookAllowList(`localhost:${internal.port}`) });
    assert.match(await refusal(byName.invoke(`http://localhost:${internal.port}/hook`, INPUT, SCOPE)), /loopback address.*listed itself/);
    // A resolver answering what a rebinding DNS would: every answer is checked, the connection goes only to a checked one.
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '10.1.2.3', '192.168.1.1', '::ffff:127.0.0.1', '::1', '0.0.0.0', '100.100.100.200']) {
      const hook = createHttpPreProvisioningHook({
        allow: parseHookAllowList('rebind.example'),
        resolve: async () => [{ address, family: address.includes(':') ? 6 : 4 }],
      });
      assert.match(await refusal(hook.invoke('http://rebind.example/latest/meta-data/', INPUT, SCOPE)), /such an address is used only when listed itself/, address);
    }
    // IP literals in the URL: checked the same way, whatever spelling.
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/latest/meta-data/', `http://[::ffff:127.0.0.1]:${internal.port}/hook`, `http://0x7f.1:${internal.port}/hook`]) {
      const hook = createHttpPreProvisioningHook({ allow: parseHookAllowList('hooks.example.com,[::ffff:7f00:1]:1,localhost') });
      assert.match(await refusal(hook.invoke(url, INPUT, SCOPE)), /not allowed for account 123456789012/, url);
    }
    assert.equal(internal.calls.length, 0, 'the internal endpoint was never called');
  });

  it('a loopback hook listed by its address is called, at that address', async () => {
    allowed.calls.length = 0;
    allowed.answer = () => ({ status: 200, body: { allowProvisioning: true, parameterOverrides: { A: 'b' } } });
    const hook = createHttpPreProvisioningHook({ allow: parseHookAllowList(`hooks.example.com, ${allowed.allowEntry}`) });
    const answer = await hook.invoke(allowed.url, INPUT, SCOPE);
    assert.deepEqual(answer, { allowProvisioning: true, parameterOverrides: { A: 'b' } });
    assert.equal(allowed.calls.length, 1);
    assert.equal(allowed.calls[0]?.body['clientId'], 'dev-1');
  });

  it('issue 10 #13: a redirect is not followed, an oversized answer and a silent hook fail', async () => {
    internal.calls.length = 0;
    const hook = createHttpPreProvisioningHook({ allow: parseHookAllowList(`${allowed.allowEntry},${internal.allowEntry}`), timeoutMs: 300, maxAnswerBytes: 1024 });
    allowed.answer = () => ({ status: 307, headers: { location: internal.url }, raw: '' });
    assert.match(await refusal(hook.invoke(allowed.url, INPUT, SCOPE)), /HTTP 307.*redirects are not followed/);
    assert.equal(internal.calls.length, 0, 'the redirect target was not called');
    allowed.answer = () => ({ status: 200, raw: `{"allowProvisioning":true,"x":"${'a'.repeat(4096)}"}` });
    assert.match(await refusal(hook.invoke(allowed.url, INPUT, SCOPE)), /larger than 1024 bytes/);
    allowed.answer = () => ({ status: 200, hang: true });
    assert.match(await refusal(hook.invoke(allowed.url, INPUT, SCOPE)), /did not answer within 300 ms/);
    allowed.answer = () => ({ status: 200, body: { allowProvisioning: true } });
  });

  it('issue 10 #13 (review): a hook listed for one account is not called for another account\'s template', async () => {
    allowed.calls.length = 0;
    allowed.answer = () => ({ status: 200, body: { allowProvisioning: true, parameterOverrides: { SerialNumber: 'from-b' } } });
    const records: AccessRecord[] = [];
    const hook = createHttpPreProvisioningHook({ allow: parseHookAllowList(`${ACCOUNT_B}=${allowed.allowEntry}`), record: (r) => records.push(r) });
    const why = await refusal(hook.invoke(allowed.url, inputOf(ACCOUNT_A), scopeOf(ACCOUNT_A)));
    assert.match(why, new RegExp(`not allowed for account ${ACCOUNT_A}`));
    assert.doesNotMatch(why, new RegExp(ACCOUNT_B), 'the refusal does not name the account the hook is listed for');
    assert.equal(allowed.calls.length, 0, "account A's template reached B's hook");
    assert.equal(records[0]?.accountId, ACCOUNT_A);
    assert.deepEqual(await hook.invoke(allowed.url, inputOf(ACCOUNT_B), scopeOf(ACCOUNT_B)), { allowProvisioning: true, parameterOverrides: { SerialNumber: 'from-b' } });
    assert.equal(allowed.calls.length, 1);
    allowed.answer = () => ({ status: 200, body: { allowProvisioning: true } });
  });

  it("issue 10 #13 (review): a name resolving to a private address listed for another account is not called", async () => {
    const hook = createHttpPreProvisioningHook({
      allow: parseHookAllowList(`${ACCOUNT_A}=a-hooks.example:8080, ${ACCOUNT_B}=10.1.2.3:8080`),
      resolve: async () => [{ address: '10.1.2.3', family: 4 }],
    });
    const why = await refusal(hook.invoke('http://a-hooks.example:8080/hook', inputOf(ACCOUNT_A), scopeOf(ACCOUNT_A)));
    assert.match(why, /10\.1\.2\.3 is a private address; such an address is used only when listed itself/);
  });

  it('issue 10 #13 (review): a path prefix matches whole segments; dot segments, backslashes and encoded slashes are refused', async () => {
    allowed.calls.length = 0;
    const base = `http://${allowed.allowEntry}`;
    const hook = createHttpPreProvisioningHook({ allow: parseHookAllowList(`${ACCOUNT_B}=${base}/tenants/b/`) });
    const b = inputOf(ACCOUNT_B);
    for (const ok of [`${base}/tenants/b`, `${base}/tenants/b/`, `${base}/tenants/b/hook?x=1`]) {
      assert.equal((await hook.invoke(ok, b, scopeOf(ACCOUNT_B))).allowProvisioning, true, ok);
    }
    for (const url of [`${base}/tenants/bb`, `${base}/tenants`, `${base}/tenants/B`, `${base}/`, `https://${allowed.allowEntry}/tenants/b`]) {
      assert.match(await refusal(hook.invoke(url, b, scopeOf(ACCOUNT_B))), /not allowed for account/, url);
    }
    for (const url of [
      `${base}/tenants/b/../a`,
      `${base}/tenants/b/%2e%2E/a`,
      `${base}/tenants/b/.%2e/a`,
      `${base}/tenants/b/./hook`,
      `${base}/tenants/b/..;x/a`,
      `${base}/tenants/b/x%2F..%2F..%2Fa`,
      `${base}/tenants/b/x%2f%2e%2e`,
      `${base}/tenants/b/x%5C..%5Ca`,
      `${base}/tenants/b\\..\\a`,
      `${base}/tenants/b/%252e%252e/a`,
    ]) {
      assert.match(await refusal(hook.invoke(url, b, scopeOf(ACCOUNT_B))), /dot segment|encoded/, url);
    }
    assert.equal(allowed.calls.length, 3, 'only the three URLs under the prefix were called');
  });

  it('the allow list: [account=][scheme://]host[:port][/path-prefix], IPv6 in brackets; bad entries are refused', () => {
    assert.deepEqual(parseHookAllowList(' Hooks.Example.com ,10.0.0.5:8443,[fd00::5]:443,::1 '), [
      { hostname: 'hooks.example.com', isAddress: false },
      { hostname: '10.0.0.5', port: 8443, isAddress: true },
      { hostname: '[fd00::5]', port: 443, isAddress: true },
      { hostname: '[::1]', isAddress: true },
    ]);
    assert.deepEqual(parseHookAllowList(`${ACCOUNT_B}=https://Hooks.Example.com/tenants/b/, ${ACCOUNT_A}=10.0.0.5:8080/a,${ACCOUNT_A}=::1,http://h/`), [
      { accountId: ACCOUNT_B, scheme: 'https', hostname: 'hooks.example.com', pathPrefix: '/tenants/b', isAddress: false },
      { accountId: ACCOUNT_A, hostname: '10.0.0.5', port: 8080, pathPrefix: '/a', isAddress: true },
      { accountId: ACCOUNT_A, hostname: '[::1]', isAddress: true },
      { scheme: 'http', hostname: 'h', isAddress: false },
    ]);
    for (const bad of [
      'ftp://x', 'x:0', 'x:99999', 'u@h', '[zz]', '12345=h', 'abc=h', '=h', 'h/a/../b', 'h/a/./b', 'h/a%2Fb', 'h/a%2e%2e', 'h/a\\b', 'h/a?x', 'h/a#x', 'h//a', 'h/a b',
    ]) {
      assert.throws(() => parseHookAllowList(bad), /\[<account-id>=\]\[http\(s\):\/\/\]host\[:port\]\[\/path-prefix\]/, bad);
    }
    assert.equal(nonGlobalAddressKind('8.8.8.8'), undefined);
    assert.equal(nonGlobalAddressKind('2606:4700::1111'), undefined);
    assert.match(nonGlobalAddressKind('169.254.169.254') ?? '', /metadata/);
    assert.match(nonGlobalAddressKind('fd00:ec2::254') ?? '', /unique-local/);
  });
});

describe('issue 10 #13: SSRF through the pre-provisioning hook (real certgate, real device)', { timeout: 300_000 }, () => {
  let server: RunningCertgate;
  let internal: TestHook;
  let allowed: TestHook;
  let claim: Device;
  const clients: MqttClient[] = [];
  const suffix = randomBytes(3).toString('hex');
  const provision = (t: string): string => `$aws/provisioning-templates/${t}/provision/json`;

  before(async () => {
    internal = await startTestHook();
    internal.answer = () => ({ status: 200, body: { allowProvisioning: true, parameterOverrides: { SerialNumber: SECRET } } });
    allowed = await startTestHook();
    // The environment twin, so that the server also starts where the flag does not exist yet.
    server = await startCertgate({ env: { CERTGATE_PROVISIONING_HOOK_ALLOW: `${allowed.allowEntry},localhost:${internal.port}` } });
    claim = await createDevice(server, { policyDocument: claimPolicy(server, '*') });
  });
  after(async () => {
    await Promise.all(clients.map((c) => endClient(c, true)));
    await internal?.close();
    await allowed?.close();
    await server?.stop();
  });

  async function register(template: string, hookUrl: string, clientId: string): Promise<{ answer: Awaited<ReturnType<typeof fleetRequest>>; certificateId: string }> {
    await createFleetTemplate(server, template, { hookUrl });
    const c = await claim.connect({ clientId });
    clients.push(c);
    const keys = accepted(await fleetRequest(c, '$aws/certificates/create/json', {}));
    const answer = await fleetRequest(c, provision(template), { certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: 'device' } });
    return { answer, certificateId: String(keys['certificateId']) };
  }

  it('issue 10 #13: a template whose hook points at an unlisted loopback service is refused; the service is never called and nothing leaks', async () => {
    internal.calls.length = 0;
    const template = `ssrf-${suffix}`;
    const clientId = `ssrf-dev-${suffix}`;
    const { answer } = await register(template, internal.url, clientId);
    const message = rejected(answer, 403, 'AccessDenied');
    assert.doesNotMatch(message, new RegExp(`${SECRET}|127\\.0\\.0\\.1|${internal.port}`));
    assert.equal(internal.calls.length, 0, 'the internal service was called');
    await assert.rejects(iotClient(server).send(new DescribeThingCommand({ thingName: `${template}-${SECRET}` })), { name: 'ResourceNotFoundException' });
    const records = await whyRecords(server, clientId);
    // The hook's own record is filed under the template's ARN (the device's /rejected answer is recorded too, on its topic).
    const refused = records.find((r) => r.kind === 'publish' && r.outcome === 'denied' && r.resource?.endsWith(`provisioningtemplate/${template}`) === true);
    assert.ok(refused, `no hook refusal in certgate why: ${JSON.stringify(records)}`);
    assert.match(refused.reasons.join(' '), new RegExp(`not allowed for account ${server.accountId}: no entry of --provisioning-hook-allow`));
  });

  it('issue 10 #13: the metadata address and a listed name that resolves to loopback are refused (checked at connect time)', async () => {
    internal.calls.length = 0;
    const meta = await register(`ssrf-meta-${suffix}`, 'http://169.254.169.254/latest/meta-data/iam/security-credentials/', `ssrf-meta-${suffix}`);
    rejected(meta.answer, 403, 'AccessDenied');
    const clientId = `ssrf-rebind-${suffix}`;
    const rebind = await register(`ssrf-rebind-${suffix}`, `http://localhost:${internal.port}/hook`, clientId);
    const message = rejected(rebind.answer, 403, 'AccessDenied');
    assert.doesNotMatch(message, /loopback|localhost/);
    assert.equal(internal.calls.length, 0, 'the internal service was called');
    const records = await whyRecords(server, clientId);
    assert.ok(records.some((r) => r.reasons.some((x) => /loopback address/.test(x))), JSON.stringify(records));
  });

  it("issue 10 #13: a listed hook's failure reaches the device only as a generic reason; certgate why has the detail", async () => {
    allowed.answer = () => ({ status: 500, raw: `{"error":"${SECRET}"}` });
    const clientId = `ssrf-500-${suffix}`;
    const { answer } = await register(`ssrf-500-${suffix}`, allowed.url, clientId);
    const message = rejected(answer, 403, 'AccessDenied');
    assert.doesNotMatch(message, new RegExp(`${SECRET}|500`));
    const records = await whyRecords(server, clientId);
    assert.ok(records.some((r) => r.reasons.some((x) => /answered HTTP 500/.test(x) && !x.includes(SECRET))), JSON.stringify(records));
    allowed.answer = () => ({ status: 200, body: { allowProvisioning: true } });
  });

  it('a listed loopback hook (by address) is called and provisioning proceeds', async () => {
    allowed.calls.length = 0;
    allowed.answer = () => ({ status: 200, body: { allowProvisioning: true } });
    const { answer } = await register(`ssrf-ok-${suffix}`, allowed.url, `ssrf-ok-${suffix}`);
    accepted(answer);
    assert.equal(allowed.calls.length, 1);
  });

  it('issue 10 #13 (review): entries without an account are announced at startup as shared by every account', () => {
    assert.match(server.output(), /--provisioning-hook-allow.*without an account.*every account/);
  });
});

describe('issue 10 #13 (review): a hook listed for one account is not called for another account (real certgate, two accounts)', { timeout: 300_000 }, () => {
  let server: RunningCertgate;
  let hook: TestHook;
  let accountB: ApiAccount & { accountId: string; region: string };
  const clients: MqttClient[] = [];
  const suffix = randomBytes(3).toString('hex');
  // Account B's id is chosen before the server starts, so that the operator can list it; the account is made afterwards.
  const accountIdB = `9${randomBytes(6).readUIntBE(0, 6).toString().padStart(11, '0').slice(-11)}`;

  before(async () => {
    hook = await startTestHook();
    hook.answer = () => ({ status: 200, body: { allowProvisioning: true, parameterOverrides: { SerialNumber: 'from-b-hook' } } });
    server = await startCertgate({ args: ['--provisioning-hook-allow', `${accountIdB}=http://${hook.allowEntry}/b-hooks`] });
    assert.notEqual(server.accountId, accountIdB);
    const made = await runCertgateCli(['accounts', 'create', '--name', `b-${suffix}`, '--account-id', accountIdB, '--data-dir', server.dataDir, '--json']);
    assert.equal(made.code, 0, made.stderr);
    const line = made.stdout.trim().split('\n').filter((l) => l.trim().startsWith('{')).at(-1) ?? '{}';
    const keys = JSON.parse(line) as { accessKeyId: string; secretAccessKey: string };
    accountB = { apiUrl: server.apiUrl, region: server.region, accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, accountId: accountIdB };
  });
  after(async () => {
    await Promise.all(clients.map((c) => endClient(c, true)));
    await hook?.close();
    await server?.stop();
  });

  /** In `account`: a fleet template hooked at `hookUrl`, a claim device, CreateKeysAndCertificate, RegisterThing. */
  async function register(account: ApiAccount & { accountId: string; region: string }, template: string, hookUrl: string, clientId: string): Promise<Awaited<ReturnType<typeof fleetRequest>>> {
    await createFleetTemplate(account, template, { hookUrl });
    const claim = await createDevice(server, { account, policyDocument: claimPolicy(account, template) });
    const c = await claim.connect({ clientId });
    clients.push(c);
    const keys = accepted(await fleetRequest(c, '$aws/certificates/create/json', {}));
    return fleetRequest(c, `$aws/provisioning-templates/${template}/provision/json`, { certificateOwnershipToken: keys['certificateOwnershipToken'], parameters: { SerialNumber: 'device' } });
  }

  it("issue 10 #13 (review): account A's template pointing at B's listed hook is refused, certgate why says why; B's own template works", async () => {
    hook.calls.length = 0;
    const accountA = { ...server, accountId: server.accountId, region: server.region };
    const clientA = `cross-a-${suffix}`;
    const a = await register(accountA, `cross-a-${suffix}`, `${hook.url.replace('/hook', '/b-hooks/provision')}`, clientA);
    rejected(a, 403, 'AccessDenied');
    assert.equal(hook.calls.length, 0, "account A's template reached account B's hook");
    await assert.rejects(iotClient(server).send(new DescribeThingCommand({ thingName: `cross-a-${suffix}-from-b-hook` })), { name: 'ResourceNotFoundException' });
    const records = await whyRecords(server, clientA);
    const refused = records.find((r) => r.outcome === 'denied' && r.reasons.some((x) => x.includes('not called')));
    assert.ok(refused, `no hook refusal in certgate why: ${JSON.stringify(records)}`);
    assert.match(refused.reasons.join(' '), new RegExp(`not allowed for account ${server.accountId}`));

    const b = accepted(await register(accountB, `cross-b-${suffix}`, `${hook.url.replace('/hook', '/b-hooks/provision')}`, `cross-b-${suffix}`));
    assert.equal(b['thingName'], `cross-b-${suffix}-from-b-hook`);
    assert.equal(hook.calls.length, 1);
    assert.equal(hook.calls[0]?.body['templateArn'], `arn:aws:iot:${server.region}:${accountIdB}:provisioningtemplate/cross-b-${suffix}`);
  });

  it("issue 10 #13 (review): account B's hook outside its path prefix, or with a dot segment, is refused", async () => {
    hook.calls.length = 0;
    const outside = `cross-outside-${suffix}`;
    rejected(await register(accountB, outside, hook.url.replace('/hook', '/b-hooks-other/provision'), outside), 403, 'AccessDenied');
    const dotted = `cross-dotted-${suffix}`;
    rejected(await register(accountB, dotted, hook.url.replace('/hook', '/b-hooks/%2e%2e/admin'), dotted), 403, 'AccessDenied');
    assert.equal(hook.calls.length, 0, 'a hook outside the prefix was called');
    assert.match((await whyRecords(server, outside, accountB)).flatMap((r) => r.reasons).join(' '), new RegExp(`not allowed for account ${accountIdB}`));
    assert.match((await whyRecords(server, dotted, accountB)).flatMap((r) => r.reasons).join(' '), /dot segment/);
  });

  it('issue 10 #13 (review): no startup warning when every entry names its account', () => {
    assert.doesNotMatch(server.output(), /without an account/);
  });
});
