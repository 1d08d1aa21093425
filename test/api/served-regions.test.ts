// issue 10 #11: regions are the operator's. Only the served regions (--region plus --extra-regions) are
// answered; a request signed for any other region gets AWS's InvalidSignatureException, and a device whose
// SNI names an unserved region is refused with the reason in `certgate why`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateThingCommand, DescribeEndpointCommand, ListThingsCommand } from '@aws-sdk/client-iot';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { createDevice, deviceClientOptions, tryConnectWith } from '../helpers/device.js';
import { awsCli, expectIotError, iotClient } from '../helpers/iot-clients.js';
import { lastAdmissionRefusal } from '../helpers/why-records.js';

describe('issue 10 #11: regions are the operator\'s', () => {
  let server: RunningCertgate;
  before(async () => {
    server = await startCertgate({ args: ['--extra-regions', 'eu-west-1'] });
  });
  after(async () => {
    await server?.stop();
  });

  it('a request signed for an unserved region (zz-evil-1) is refused with InvalidSignatureException 403 and creates nothing', async () => {
    const e = await expectIotError(iotClient(server, { region: 'zz-evil-1' }).send(new CreateThingCommand({ thingName: 'evil' })), 'InvalidSignatureException', 403);
    assert.match(e.message, /Credential should be scoped to a valid region/);
    await expectIotError(iotClient(server, { region: 'zz-evil-1' }).send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' })), 'InvalidSignatureException', 403);
    // A real region that is not served is refused the same way.
    await expectIotError(iotClient(server, { region: 'ap-south-1' }).send(new ListThingsCommand({})), 'InvalidSignatureException', 403);
    const cli = await awsCli(['create-thing', '--thing-name', 'evil2'], server, { region: 'zz-evil-1' });
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /InvalidSignatureException/);
    const things = await iotClient(server).send(new ListThingsCommand({}));
    assert.deepEqual((things.things ?? []).map((t) => t.thingName), []);
  });

  it('issue 10 #11 (review): GET /certgate/access-records (certgate why) signed for an unserved region is refused like any operation', async () => {
    const res = await runCertgateCli(['why', 'some-client', '--data-dir', server.dataDir, '--endpoint-url', server.apiUrl, '--region', 'zz-evil-1', '--json']);
    assert.notEqual(res.code, 0, `certgate why answered for an unserved region: ${res.stdout}`);
    assert.match(res.stderr, /InvalidSignatureException|valid region/);
    const served = await runCertgateCli(['why', 'some-client', '--data-dir', server.dataDir, '--endpoint-url', server.apiUrl, '--region', 'eu-west-1', '--json']);
    assert.equal(served.code, 0, served.stderr);
  });

  it('--region and --extra-regions are served: DescribeEndpoint names a host the server certificate covers', async () => {
    const out = await iotClient(server, { region: 'eu-west-1' }).send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    assert.match(out.endpointAddress ?? '', /-ats\.iot\.eu-west-1\.localhost$/);
    await iotClient(server, { region: 'eu-west-1' }).send(new CreateThingCommand({ thingName: 'served' }));
    await iotClient(server).send(new ListThingsCommand({}));
  });

  it('a device whose SNI names an unserved region is refused, and `certgate why` says the region is not served', async () => {
    const device = await createDevice(server, { policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] } });
    const evilHost = device.endpoint.replace('.iot.us-east-1.', '.iot.zz-evil-1.');
    assert.notEqual(evilHost, device.endpoint);
    // The server certificate does not name that host: the device would not trust it; a careless one connects anyway.
    const outcome = await tryConnectWith({ ...deviceClientOptions(server, device, { servername: evilHost, clientId: 'evil-sni' }), rejectUnauthorized: false });
    assert.equal(outcome.outcome, 'refused');
    const refusal = await lastAdmissionRefusal(server, device.certificateId);
    assert.ok(refusal.reasons.some((r) => /zz-evil-1/.test(r) && /does not serve/.test(r)), JSON.stringify(refusal.reasons));
  });
});
