// The publish path of a ConnectionAuthorization (issue 3, part A): synchronous, no store access, and
// aws:CurrentTime / aws:EpochTime taken from the Clock at each evaluation while every other context value
// was fixed at CONNECT. Uses the real SQLite store wrapped in a call-counting Proxy (same data, same code paths).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDeviceAccess } from '../../src/access/index.js';
import type { ConnectionAuthorization, DevicePrincipal } from '../../src/access/index.js';
import type { Scope } from '../../src/kernel/index.js';
import { attachPolicy, createPolicy, createRegistryEvents } from '../../src/registry/index.js';
import type { RegistryStore } from '../../src/registry/index.js';
import { DOMAIN, REGION, newAccount, openFixture, peer, registeredCa, registeredDevice } from './access-fixture.js';
import type { Fixture } from './access-fixture.js';

function countingStore(inner: RegistryStore): { store: RegistryStore; calls: string[] } {
  const calls: string[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

const isPromiseLike = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

describe('ConnectionAuthorization hot path', () => {
  let f: Fixture;
  let scope: Scope;
  let endpoint: string;
  let principal: DevicePrincipal;
  let auth: ConnectionAuthorization;
  let counted: { store: RegistryStore; calls: string[] };

  before(async () => {
    f = await openFixture();
    ({ scope, endpoint } = await newAccount(f, 'hotpath'));
    const { ca } = await registeredCa(f, scope, 'HotOrg');
    const { device, record } = await registeredDevice(f, scope, ca, 'CN=hot-1, O=HotOrg');
    const arn = `arn:aws:iot:${REGION}:${scope.accountId}`;
    await createPolicy(f.deps, scope, {
      policyName: 'hot',
      policyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iot:Connect', Resource: `${arn}:client/\${iot:ClientId}` },
          { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: `${arn}:topic/t/\${iot:ClientId}/*` },
          { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${arn}:topicfilter/t/\${iot:ClientId}/#` },
          {
            Effect: 'Allow',
            Action: 'iot:Publish',
            Resource: `${arn}:topic/timed`,
            Condition: { DateLessThan: { 'aws:CurrentTime': '2026-06-01T13:00:00Z' } },
          },
          {
            Effect: 'Allow',
            Action: 'iot:Publish',
            Resource: `${arn}:topic/epoch`,
            Condition: { NumericLessThan: { 'aws:EpochTime': String(Date.parse('2026-06-01T13:00:00Z') / 1000) } },
          },
        ],
      }),
    });
    await attachPolicy(f.deps, scope, { policyName: 'hot', target: `${arn}:cert/${record.certificateId}` });

    counted = countingStore(f.deps.store);
    const events = f.deps.events as ReturnType<typeof createRegistryEvents>;
    const access = createDeviceAccess({ store: counted.store, clock: f.clock, domain: DOMAIN, defaultRegion: REGION, requireSni: false });
    events.subscribe((e) => access.onRegistryEvent(e));
    const p = peer(device.der, endpoint);
    const admitted = await access.admit(p);
    assert.ok(admitted.admitted, JSON.stringify(admitted));
    principal = admitted.principal;
    auth = await access.authorize(principal, { clientId: 'hot-1', cleanStart: true, hasWill: false, protocolVersion: 4 }, p);
  });
  after(() => f.close());

  it('connect/publish/subscribe/receive return Decisions synchronously (not promises)', () => {
    for (const d of [auth.connect(), auth.publish('t/hot-1/a', false), auth.subscribe('t/hot-1/#'), auth.receive('t/hot-1/a')]) {
      assert.equal(isPromiseLike(d), false);
      assert.equal(d.effect, 'Allow', d.reasons.join('; '));
    }
  });

  it('evaluating 2,000 actions makes no RegistryStore call at all', () => {
    const before = counted.calls.length;
    let allowed = 0;
    for (let i = 0; i < 500; i++) {
      if (auth.publish(`t/hot-1/${i}`, false).effect === 'Allow') allowed++;
      if (auth.receive(`t/hot-1/${i}`).effect === 'Allow') allowed++;
      if (auth.subscribe(`t/other/${i}`).effect !== 'Allow') allowed++; // denied: explained without the store too
      if (auth.connect().effect === 'Allow') allowed++;
    }
    assert.equal(allowed, 2000);
    assert.deepEqual(counted.calls.slice(before), []);
  });

  it('resources are ARNs of the principal\'s account and region: another client id\'s topic is denied', () => {
    const d = auth.publish('t/hot-2/a', false);
    assert.equal(d.effect, 'ImplicitDeny');
    assert.match(d.reasons.join('\n'), new RegExp(`arn:aws:iot:${REGION}:${scope.accountId}:topic/t/hot-2/a`));
  });

  it('aws:CurrentTime follows the Clock at each evaluation (DateLessThan condition flips when the clock passes it)', () => {
    assert.equal(auth.publish('timed', false).effect, 'Allow');
    const saved = f.clock.ms;
    try {
      f.clock.ms = Date.parse('2026-06-01T13:00:01Z');
      const d = auth.publish('timed', false);
      assert.equal(d.effect, 'ImplicitDeny');
      assert.match(d.reasons.join('\n'), /aws:CurrentTime/);
    } finally {
      f.clock.ms = saved;
    }
    assert.equal(auth.publish('timed', false).effect, 'Allow');
  });

  it('aws:EpochTime follows the Clock at each evaluation (NumericLessThan condition)', () => {
    assert.equal(auth.publish('epoch', false).effect, 'Allow');
    const saved = f.clock.ms;
    try {
      f.clock.ms = Date.parse('2026-06-01T13:00:05Z');
      assert.equal(auth.publish('epoch', false).effect, 'ImplicitDeny');
    } finally {
      f.clock.ms = saved;
    }
  });

  it('the principal\'s certificate values are immutable to callers (cannot poison other connections)', () => {
    assert.throws(() => {
      (principal.certificateValues as Record<string, string>)['iot:Certificate.Subject.CommonName'] = 'evil';
    });
    assert.deepEqual(principal.certificateValues['iot:Certificate.Subject.CommonName'], ['hot-1']);
  });
});
