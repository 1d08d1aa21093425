// A policy change that lands while a connection's first policy load is in flight (the load has read the
// old default version but has not yet recorded which policies it holds) must still reach that connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDeviceAccess } from '../../src/access/index.js';
import type { Scope } from '../../src/kernel/index.js';
import { attachPolicy, createPolicy, createPolicyVersion, createRegistryEvents } from '../../src/registry/index.js';
import { DOMAIN, REGION, gatedStore, newAccount, openFixture, peer, registeredCa, registeredDevice } from './access-fixture.js';
import type { Fixture } from './access-fixture.js';

describe('policy load race', () => {
  let f: Fixture;
  after(() => f.close());
  before(async () => {
    f = await openFixture();
  });

  it('a new default version set during the first load of a connection applies to it', async () => {
    const { scope, endpoint }: { scope: Scope; endpoint: string } = await newAccount(f, 'race');
    const { ca } = await registeredCa(f, scope, 'RaceOrg');
    const { device, record } = await registeredDevice(f, scope, ca, 'CN=racer');
    const certArn = `arn:aws:iot:${REGION}:${scope.accountId}:cert/${record.certificateId}`;
    const v1 = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/v1' }] });
    const v2 = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/v2' }] });
    await createPolicy(f.deps, scope, { policyName: 'p', policyDocument: v1 });
    await attachPolicy(f.deps, scope, { policyName: 'p', target: certArn });

    const gated = gatedStore(f.deps.store, 'getPolicyVersion');
    const access = createDeviceAccess({ store: gated.store, clock: f.clock, domain: DOMAIN, defaultRegion: REGION, requireSni: false });
    (f.deps.events as ReturnType<typeof createRegistryEvents>).subscribe((e) => access.onRegistryEvent(e));
    const admission = await access.admit(peer(device.der, endpoint));
    assert.ok(admission.admitted);

    gated.arm();
    const authorizing = access.authorize(admission.principal, { clientId: 'racer', cleanStart: true, hasWill: false, protocolVersion: 4 }, peer(device.der, endpoint));
    await gated.hasRead; // the first load holds version 1
    await createPolicyVersion(f.deps, scope, { policyName: 'p', policyDocument: v2, setAsDefault: true });
    gated.release();
    const auth = await authorizing;
    assert.equal(auth.publish('v2', false).effect, 'Allow', 'the version made default during the load must apply');
    assert.equal(auth.publish('v1', false).effect, 'ImplicitDeny');
  });
});
