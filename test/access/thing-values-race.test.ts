// Thing policy variables (iot:Connection.Thing.*) read while the registry changes them: a CONNECT whose
// read raced an UpdateThing, and two refreshes of one connection finishing out of order, end with the
// registry's current values (issue 10 review #2 and #5).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDeviceAccess } from '../../src/access/index.js';
import { connectionAuthorization } from '../../src/access/connection-authorization.js';
import { ConnectionClock } from '../../src/access/connection-context.js';
import type { ContextValue } from '../../src/access/connection-context.js';
import type { PolicySet } from '../../src/access/policy-sets.js';
import type { DevicePrincipal } from '../../src/access/index.js';
import { attachPolicy, attachThingPrincipal, createPolicy, createRegistryEvents, createThing, updateThing } from '../../src/registry/index.js';
import { DOMAIN, REGION, gatedStore, newAccount, openFixture, peer, registeredCa, registeredDevice } from './access-fixture.js';
import type { Fixture } from './access-fixture.js';

describe('thing values read while the registry changes them', () => {
  let f: Fixture;
  after(() => f.close());
  before(async () => {
    f = await openFixture();
  });

  it('issue 10 review #2: a CONNECT whose thing read raced an UpdateThing gets the updated thing values', async () => {
    const { scope, endpoint } = await newAccount(f, 'thingrace');
    const { ca } = await registeredCa(f, scope, 'ThingRaceOrg');
    const { device, record } = await registeredDevice(f, scope, ca, 'CN=thing-racer');
    const certArn = `arn:aws:iot:${REGION}:${scope.accountId}:cert/${record.certificateId}`;
    const doc = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/fleet/${iot:Connection.Thing.Attributes[fleet]}' }],
    });
    await createPolicy(f.deps, scope, { policyName: 'fleet', policyDocument: doc });
    await attachPolicy(f.deps, scope, { policyName: 'fleet', target: certArn });
    await createThing(f.deps, scope, { thingName: 'racer', attributePayload: { attributes: { fleet: 'old' } } });
    await attachThingPrincipal(f.deps, scope, { thingName: 'racer', principal: certArn });

    const gated = gatedStore(f.deps.store, 'getThing');
    const access = createDeviceAccess({ store: gated.store, clock: f.clock, domain: DOMAIN, defaultRegion: REGION, requireSni: false });
    (f.deps.events as ReturnType<typeof createRegistryEvents>).subscribe((e) => access.onRegistryEvent(e));
    const admission = await access.admit(peer(device.der, endpoint));
    assert.ok(admission.admitted);

    gated.arm();
    const authorizing = access.authorize(admission.principal, { clientId: 'racer', cleanStart: true, hasWill: false, protocolVersion: 4 }, peer(device.der, endpoint));
    await gated.hasRead; // the CONNECT holds the thing as it was
    await updateThing(f.deps, scope, { thingName: 'racer', attributePayload: { attributes: { fleet: 'new' } } });
    gated.release();
    const auth = await authorizing;
    assert.equal(auth.publish('fleet/new', false).effect, 'Allow', 'the attribute as UpdateThing left it applies');
    assert.equal(auth.publish('fleet/old', false).effect, 'ImplicitDeny');
  });

  it('issue 10 review #5: of two overlapping refreshes, the newer read wins even when the older finishes last', async () => {
    const principal: DevicePrincipal = {
      scope: { accountId: '123456789012', region: REGION },
      certificateId: 'c'.repeat(64),
      certificateArn: `arn:aws:iot:${REGION}:123456789012:cert/${'c'.repeat(64)}`,
      certificateValues: {},
    };
    const set: PolicySet = {
      scope: principal.scope,
      target: principal.certificateArn,
      policies: [],
      policyNames: new Set(),
      loadError: undefined,
      requested: 0,
      applied: 0,
      ready: Promise.resolve(),
    };
    const values: Record<string, ContextValue> = { 'iot:Connection.Thing.ThingName': 'first' };
    const reads: ((v: Record<string, ContextValue>) => void)[] = [];
    const read = (): Promise<Record<string, ContextValue>> => new Promise((resolve) => reads.push(resolve));
    const auth = connectionAuthorization(principal, 'client', set, values, new ConnectionClock(f.clock, values), read);
    const older = auth.refresh!();
    const newer = auth.refresh!();
    assert.equal(reads.length, 2);
    reads[1]!({ 'iot:Connection.Thing.ThingName': 'newer' });
    await newer;
    reads[0]!({ 'iot:Connection.Thing.ThingName': 'older' });
    await older;
    assert.equal(auth.thingName?.(), 'newer');
  });
});
