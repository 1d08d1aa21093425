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
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { createDevice, endClient } from '../helpers/device.js';
import type { Device } from '../helpers/device.js';
import { accepted, claimPolicy, createFleetTemplate, fleetRequest, rejected, startTestHook } from '../helpers/fleet-provisioning.js';
import type { TestHook } from '../helpers/fleet-provisioning.js';
import { iotClient } from '../helpers/iot-clients.js';
import { whyRecords } from '../helpers/why-records.js';

const INPUT: PreProvisioningHookInput = {
  claimCertificateId: 'c'.repeat(64),
  certificateId: 'd'.repeat(64),
  certificatePem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
  templateArn: 'arn:aws:iot:us-east-1:123456789012:provisioningtemplate/t',
  clientId: 'dev-1',
  parameters: {},
};
const SECRET = 'INTERNAL-SECRET-7f3a';

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
      const why = await refusal(hook.invoke(internal.url, INPUT));
      assert.match(why, /not in --provisioning-hook-allow/, allow);
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
    assert.match(await refusal(byName.invoke(`http://localhost:${internal.port}/hook`, INPUT)), /loopback address.*listed itself/);
    // A resolver answering what a rebinding DNS would: every answer is checked, the connection goes only to a checked one.
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '10.1.2.3', '192.168.1.1', '::ffff:127.0.0.1', '::1', '0.0.0.0', '100.100.100.200']) {
      const hook = createHttpPreProvisioningHook({
        allow: parseHookAllowList('rebind.example'),
        resolve: async () => [{ address, family: address.includes(':') ? 6 : 4 }],
      });
      assert.match(await refusal(hook.invoke('http://rebind.example/latest/meta-data/', INPUT)), /such an address is used only when listed itself/, address);
    }
    // IP literals in the URL: checked the same way, whatever spelling.
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/latest/meta-data/', `http://[::ffff:127.0.0.1]:${internal.port}/hook`, `http://0x7f.1:${internal.port}/hook`]) {
      const hook = createHttpPreProvisioningHook({ allow: parseHookAllowList('hooks.example.com,[::ffff:7f00:1]:1,localhost') });
      assert.match(await refusal(hook.invoke(url, INPUT)), /not in --provisioning-hook-allow/, url);
    }
    assert.equal(internal.calls.length, 0, 'the internal endpoint was never called');
  });

  it('a loopback hook listed by its address is called, at that address', async () => {
    allowed.calls.length = 0;
    allowed.answer = () => ({ status: 200, body: { allowProvisioning: true, parameterOverrides: { A: 'b' } } });
    const hook = createHttpPreProvisioningHook({ allow: parseHookAllowList(`hooks.example.com, ${allowed.allowEntry}`) });
    const answer = await hook.invoke(allowed.url, INPUT);
    assert.deepEqual(answer, { allowProvisioning: true, parameterOverrides: { A: 'b' } });
    assert.equal(allowed.calls.length, 1);
    assert.equal(allowed.calls[0]?.body['clientId'], 'dev-1');
  });

  it('issue 10 #13: a redirect is not followed, an oversized answer and a silent hook fail', async () => {
    internal.calls.length = 0;
    const hook = createHttpPreProvisioningHook({ allow: parseHookAllowList(`${allowed.allowEntry},${internal.allowEntry}`), timeoutMs: 300, maxAnswerBytes: 1024 });
    allowed.answer = () => ({ status: 307, headers: { location: internal.url }, raw: '' });
    assert.match(await refusal(hook.invoke(allowed.url, INPUT)), /HTTP 307.*redirects are not followed/);
    assert.equal(internal.calls.length, 0, 'the redirect target was not called');
    allowed.answer = () => ({ status: 200, raw: `{"allowProvisioning":true,"x":"${'a'.repeat(4096)}"}` });
    assert.match(await refusal(hook.invoke(allowed.url, INPUT)), /larger than 1024 bytes/);
    allowed.answer = () => ({ status: 200, hang: true });
    assert.match(await refusal(hook.invoke(allowed.url, INPUT)), /did not answer within 300 ms/);
    allowed.answer = () => ({ status: 200, body: { allowProvisioning: true } });
  });

  it('the allow list: host[:port], IPv6 in brackets; bad entries are refused', () => {
    assert.deepEqual(parseHookAllowList(' Hooks.Example.com ,10.0.0.5:8443,[fd00::5]:443,::1 '), [
      { hostname: 'hooks.example.com', isAddress: false },
      { hostname: '10.0.0.5', port: 8443, isAddress: true },
      { hostname: '[fd00::5]', port: 443, isAddress: true },
      { hostname: '[::1]', isAddress: true },
    ]);
    for (const bad of ['http://x', 'x:0', 'x:99999', 'a/b', 'u@h', '[zz]']) assert.throws(() => parseHookAllowList(bad), /host\[:port\]/, bad);
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
    assert.match(refused.reasons.join(' '), /not in --provisioning-hook-allow/);
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
});
