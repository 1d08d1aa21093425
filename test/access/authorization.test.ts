import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Scope } from '../../src/kernel/index.js';
import type { Decision } from '../../src/policy/index.js';
import {
  attachPolicy,
  attachThingPrincipal,
  createPolicy,
  createPolicyVersion,
  createThing,
  deletePolicy,
  detachThingPrincipal,
  updateThing,
  detachPolicy,
  setDefaultPolicyVersion,
} from '../../src/registry/index.js';
import type { ConnectInfo, ConnectionAuthorization, ConnectionPeer, DevicePrincipal } from '../../src/access/index.js';
import { newAccount, openFixture, peer, registeredCa, registeredDevice } from './access-fixture.js';
import type { DeviceCert, Fixture } from './access-fixture.js';

const doc = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (action: string | string[], resource: string | string[], extra: object = {}): object => ({ Effect: 'Allow', Action: action, Resource: resource, ...extra });
const deny = (action: string | string[], resource: string | string[]): object => ({ Effect: 'Deny', Action: action, Resource: resource });

const connectInfo = (clientId: string, over: Partial<ConnectInfo> = {}): ConnectInfo => ({ clientId, cleanStart: true, hasWill: false, protocolVersion: 5, ...over });

function effect(d: Decision): Decision['effect'] {
  return d.effect;
}

describe('authorization (data-plane.md "Authorization points", policies.md)', () => {
  let f: Fixture;
  let scope: Scope;
  let endpoint: string;
  let device: DeviceCert;
  let certArn: string;
  let principal: DevicePrincipal;
  let sniPeer: ConnectionPeer;

  const open = (clientId: string, over: Partial<ConnectInfo> = {}, p: ConnectionPeer = sniPeer): Promise<ConnectionAuthorization> =>
    f.access.authorize(principal, connectInfo(clientId, over), p);
  const attach = (policyName: string, document: string, target = certArn): Promise<void> =>
    createPolicy(f.deps, scope, { policyName, policyDocument: document }).then(() => attachPolicy(f.deps, scope, { policyName, target }));

  before(async () => {
    f = await openFixture();
    const a = await newAccount(f, 'alpha');
    scope = a.scope;
    endpoint = a.endpoint;
    const acme = await registeredCa(f, scope, 'Acme');
    const registered = await registeredDevice(f, scope, acme.ca, 'CN=sensor-1, O=Acme Devices');
    device = registered.device;
    certArn = `arn:aws:iot:${scope.region}:${scope.accountId}:cert/${device.certificateId}`;
    sniPeer = peer(device.der, endpoint);
    const admission = await f.access.admit(sniPeer);
    assert.ok(admission.admitted);
    principal = admission.principal;

    await attach(
      'clients',
      doc(
        allow('iot:Connect', 'arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}'),
        allow('iot:Publish', 'arn:aws:iot:*:*:topic/clients/${iot:ClientId}/*'),
      ),
    );
    await attach(
      'org',
      doc(
        allow(['iot:Publish', 'iot:Receive'], 'arn:aws:iot:*:*:topic/org/${iot:Certificate.Issuer.Organization}/*'),
        allow('iot:Subscribe', 'arn:aws:iot:*:*:topicfilter/org/${iot:Certificate.Issuer.Organization}/*'),
        deny('iot:Publish', 'arn:aws:iot:*:*:topic/org/*/secret'),
        allow('iot:RetainPublish', 'arn:aws:iot:*:*:topic/org/${iot:Certificate.Issuer.Organization}/retained/*'),
      ),
    );
    await attach(
      'conditions',
      doc(
        allow('iot:Connect', 'arn:aws:iot:*:*:client/persist-*', { Condition: { 'ForAnyValue:StringEquals': { 'iot:ConnectAttributes': ['PersistentConnect'] } } }),
        allow('iot:Publish', 'arn:aws:iot:*:*:topic/ip/*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }),
        allow('iot:Publish', 'arn:aws:iot:*:*:topic/until-june-2/*', { Condition: { DateLessThan: { 'aws:CurrentTime': '2026-06-02T00:00:00Z' } } }),
        allow('iot:Subscribe', 'arn:aws:iot:*:*:topicfilter/domain/${iot:DomainName}/#'),
        allow('iot:Publish', 'arn:aws:iot:*:*:topic/will/*', { Condition: { 'ForAnyValue:StringEquals': { 'iot:ConnectAttributes': 'LastWill' } } }),
        allow('iot:Publish', 'arn:aws:iot:*:*:topic/fleet/${iot:Connection.Thing.Attributes[fleet]}/*'),
        allow('iot:Publish', 'arn:aws:iot:*:*:topic/attached/*', { Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } } }),
        allow('iot:Publish', 'arn:aws:iot:*:*:topic/detached/*', { Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'false' } } }),
      ),
    );
    await createThing(f.deps, scope, { thingName: 'sensor-1', attributePayload: { attributes: { fleet: 'north' } } });
    await attachThingPrincipal(f.deps, scope, { thingName: 'sensor-1', principal: certArn });
    await createThing(f.deps, scope, { thingName: 'unattached-thing' });
  });
  after(() => f.close());

  it('iot:Connect on client/<clientId>: ${iot:Connection.Thing.ThingName} resolves only when the client id is an attached thing', async () => {
    const asThing = await open('sensor-1');
    const d = asThing.connect();
    assert.equal(d.effect, 'Allow');
    assert.equal(d.matched[0]?.policyName, 'clients');
    assert.match(d.reasons[0] ?? '', /iot:Connect on "arn:aws:iot:us-east-1:\d{12}:client\/sensor-1" allowed by policy clients/);

    const unattached = (await open('unattached-thing')).connect();
    assert.equal(unattached.effect, 'ImplicitDeny');
    assert.ok(unattached.reasons.some((r) => r.includes('iot:Connection.Thing.ThingName has no value')), unattached.reasons.join('\n'));
    assert.equal(effect((await open('not-a-thing')).connect()), 'ImplicitDeny');
  });

  it('EXCLUSIVE_THING: the exclusively attached thing is the connection\'s thing whatever the client id (AWS "exclusive thing")', async () => {
    const acme = await registeredCa(f, scope, 'Acme Exclusive');
    const other = await registeredDevice(f, scope, acme.ca, 'CN=pump-9, O=Acme Devices');
    const otherArn = `arn:aws:iot:${scope.region}:${scope.accountId}:cert/${other.device.certificateId}`;
    await createThing(f.deps, scope, { thingName: 'pump-9', attributePayload: { attributes: { fleet: 'south' } } });
    await attachThingPrincipal(f.deps, scope, { thingName: 'pump-9', principal: otherArn, thingPrincipalType: 'EXCLUSIVE_THING' });
    await attachPolicy(f.deps, scope, { policyName: 'conditions', target: otherArn });
    const otherPeer = peer(other.device.der, endpoint);
    const admission = await f.access.admit(otherPeer);
    assert.ok(admission.admitted);
    const auth = await f.access.authorize(admission.principal, connectInfo('any-client-id'), otherPeer);
    assert.equal(effect(auth.publish('fleet/south/x', false)), 'Allow', 'Attributes[fleet] of the exclusive thing');
    assert.equal(effect(auth.publish('attached/x', false)), 'Allow', 'IsAttached is true');
    assert.equal(effect(auth.publish('fleet/north/x', false)), 'ImplicitDeny');
  });

  it('thing links and attributes are cached, and AttachThingPrincipal / UpdateThing / DetachThingPrincipal reach the next CONNECT', async () => {
    const acme = await registeredCa(f, scope, 'Acme Cached');
    const other = await registeredDevice(f, scope, acme.ca, 'CN=valve-3, O=Acme Devices');
    const otherArn = `arn:aws:iot:${scope.region}:${scope.accountId}:cert/${other.device.certificateId}`;
    await attachPolicy(f.deps, scope, { policyName: 'conditions', target: otherArn });
    const otherPeer = peer(other.device.der, endpoint);
    const admission = await f.access.admit(otherPeer);
    assert.ok(admission.admitted);
    const connectAs = (clientId: string): Promise<ConnectionAuthorization> => f.access.authorize(admission.principal, connectInfo(clientId), otherPeer);
    // No thing yet: the (empty) link list is read and cached.
    assert.equal(effect((await connectAs('valve-3')).publish('attached/x', false)), 'ImplicitDeny');
    await createThing(f.deps, scope, { thingName: 'valve-3', attributePayload: { attributes: { fleet: 'east' } } });
    await attachThingPrincipal(f.deps, scope, { thingName: 'valve-3', principal: otherArn });
    const attached = await connectAs('valve-3');
    assert.equal(effect(attached.publish('attached/x', false)), 'Allow', 'the attachment reached the next CONNECT');
    assert.equal(effect(attached.publish('fleet/east/x', false)), 'Allow');
    await updateThing(f.deps, scope, { thingName: 'valve-3', attributePayload: { attributes: { fleet: 'west' } } });
    const updated = await connectAs('valve-3');
    assert.equal(effect(updated.publish('fleet/west/x', false)), 'Allow', 'the new attribute reached the next CONNECT');
    assert.equal(effect(updated.publish('fleet/east/x', false)), 'ImplicitDeny');
    await detachThingPrincipal(f.deps, scope, { thingName: 'valve-3', principal: otherArn });
    assert.equal(effect((await connectAs('valve-3')).publish('attached/x', false)), 'ImplicitDeny', 'the detachment reached the next CONNECT');
  });

  it('cached publish/receive decisions (time-free policies) follow policy changes at once', async () => {
    const acme = await registeredCa(f, scope, 'Acme Decisions');
    const other = await registeredDevice(f, scope, acme.ca, 'CN=meter-8, O=Acme Devices');
    const otherArn = `arn:aws:iot:${scope.region}:${scope.accountId}:cert/${other.device.certificateId}`;
    await createPolicy(f.deps, scope, { policyName: 'meters', policyDocument: doc(allow(['iot:Publish', 'iot:Receive'], 'arn:aws:iot:*:*:topic/meters/*')) });
    await attachPolicy(f.deps, scope, { policyName: 'meters', target: otherArn });
    const otherPeer = peer(other.device.der, endpoint);
    const admission = await f.access.admit(otherPeer);
    assert.ok(admission.admitted);
    const auth = await f.access.authorize(admission.principal, connectInfo('meter-8'), otherPeer);
    for (let i = 0; i < 3; i++) {
      assert.equal(effect(auth.publish('meters/1', false)), 'Allow');
      assert.equal(effect(auth.receive('meters/1')), 'Allow');
      assert.equal(effect(auth.publish('other/1', false)), 'ImplicitDeny');
    }
    assert.match(auth.publish('meters/1', false).reasons[0] ?? '', /iot:Publish on ".*topic\/meters\/1" allowed by policy meters/);
    await detachPolicy(f.deps, scope, { policyName: 'meters', target: otherArn });
    assert.equal(effect(auth.publish('meters/1', false)), 'ImplicitDeny', 'detached: the cached Allow is gone');
    assert.equal(effect(auth.receive('meters/1')), 'ImplicitDeny');
    await createPolicyVersion(f.deps, scope, { policyName: 'meters', policyDocument: doc(allow('iot:Publish', 'arn:aws:iot:*:*:topic/other/*')), setAsDefault: true });
    await attachPolicy(f.deps, scope, { policyName: 'meters', target: otherArn });
    assert.equal(effect(auth.publish('other/1', false)), 'Allow', 'the new version applies to the next publish');
    assert.equal(effect(auth.publish('meters/1', false)), 'ImplicitDeny');
  });

  it('thing attributes are variables only for the attached thing', async () => {
    assert.equal(effect((await open('sensor-1')).publish('fleet/north/x', false)), 'Allow');
    assert.equal(effect((await open('sensor-1')).publish('fleet/south/x', false)), 'ImplicitDeny');
    assert.equal(effect((await open('unattached-thing')).publish('fleet/north/x', false)), 'ImplicitDeny');
  });

  it('iot:Connection.Thing.IsAttached is true for the attached thing and false otherwise (AWS thing policy variables)', async () => {
    assert.equal(effect((await open('sensor-1')).publish('attached/x', false)), 'Allow');
    assert.equal(effect((await open('unattached-thing')).publish('attached/x', false)), 'ImplicitDeny');
    assert.equal(effect((await open('unattached-thing')).publish('detached/x', false)), 'Allow');
    assert.equal(effect((await open('sensor-1')).publish('detached/x', false)), 'ImplicitDeny');
  });

  it('${iot:ClientId} in a topic resource: a client publishes under its own id only', async () => {
    const auth = await open('dev-7');
    assert.equal(effect(auth.publish('clients/dev-7/telemetry', false)), 'Allow');
    const other = auth.publish('clients/dev-8/telemetry', false);
    assert.equal(other.effect, 'ImplicitDeny');
    assert.match(other.reasons[0] ?? '', /no statement allowed iot:Publish on "arn:aws:iot:us-east-1:\d{12}:topic\/clients\/dev-8\/telemetry"/);
  });

  it('${iot:Certificate.Issuer.Organization}: topics and filters of the issuing organization', async () => {
    const auth = await open('dev-1');
    assert.equal(effect(auth.publish('org/Acme/status', false)), 'Allow');
    assert.equal(effect(auth.receive('org/Acme/status')), 'Allow');
    assert.equal(effect(auth.subscribe('org/Acme/*')), 'Allow');
    assert.equal(effect(auth.publish('org/Globex/status', false)), 'ImplicitDeny');
    // MQTT wildcards in a resource are literal: topicfilter/org/Acme/* does not cover org/+/status.
    assert.equal(effect(auth.subscribe('org/+/status')), 'ImplicitDeny');
  });

  it('an explicit Deny wins over a matching Allow', async () => {
    const d = (await open('dev-1')).publish('org/Acme/secret', false);
    assert.equal(d.effect, 'ExplicitDeny');
    assert.equal(d.matched[0]?.policyName, 'org');
    assert.equal(d.matched[0]?.effect, 'Deny');
    assert.match(d.reasons[0] ?? '', /explicit deny by policy org/);
  });

  it('a retained publish needs iot:Publish AND iot:RetainPublish, with both reasons', async () => {
    const auth = await open('dev-1');
    const noRetain = auth.publish('org/Acme/status', true);
    assert.equal(noRetain.effect, 'ImplicitDeny');
    assert.ok(noRetain.reasons.some((r) => r.includes('iot:Publish on') && r.includes('allowed by policy org')), noRetain.reasons.join('\n'));
    assert.ok(noRetain.reasons.some((r) => r.startsWith('no statement allowed iot:RetainPublish')), noRetain.reasons.join('\n'));
    assert.deepEqual(noRetain.matched, []);

    const both = auth.publish('org/Acme/retained/config', true);
    assert.equal(both.effect, 'Allow');
    assert.equal(both.matched.length, 2);
    assert.equal(both.reasons.length, 2);

    const secret = auth.publish('org/Acme/secret', true);
    assert.equal(secret.effect, 'ExplicitDeny');
    assert.ok(secret.reasons.some((r) => r.startsWith('explicit deny')));
  });

  it('iot:ConnectAttributes: PersistentConnect when cleanStart is false, LastWill when a will is set', async () => {
    assert.equal(effect((await open('persist-1', { cleanStart: false })).connect()), 'Allow');
    assert.equal(effect((await open('persist-1', { cleanStart: true })).connect()), 'ImplicitDeny');
    assert.equal(effect((await open('w', { hasWill: true })).publish('will/gone', false)), 'Allow');
    assert.equal(effect((await open('w', { hasWill: false })).publish('will/gone', false)), 'ImplicitDeny');
  });

  it('aws:SourceIp (IPv4-mapped addresses count as IPv4) and iot:DomainName', async () => {
    const inside = await open('dev-1', {}, peer(device.der, endpoint, { remoteAddress: '::ffff:10.1.2.3' }));
    assert.equal(effect(inside.publish('ip/x', false)), 'Allow');
    assert.equal(effect((await open('dev-1')).publish('ip/x', false)), 'ImplicitDeny');
    assert.equal(effect((await open('dev-1')).subscribe(`domain/${endpoint}/#`)), 'Allow');
    const noSni = await open('dev-1', {}, peer(device.der, undefined));
    assert.equal(effect(noSni.subscribe(`domain/${endpoint}/#`)), 'ImplicitDeny');
  });

  it('aws:CurrentTime is read from the Clock at each evaluation, on an existing connection', async () => {
    const start = f.clock.ms;
    try {
      const auth = await open('dev-1');
      assert.equal(effect(auth.publish('until-june-2/x', false)), 'Allow');
      f.clock.ms = Date.parse('2026-06-02T00:00:01Z');
      assert.equal(effect(auth.publish('until-june-2/x', false)), 'ImplicitDeny');
    } finally {
      f.clock.ms = start;
    }
  });

  it('a new default policy version applies to the next publish of an existing connection', async () => {
    await attach('news', doc(allow('iot:Publish', 'arn:aws:iot:*:*:topic/news/sports')));
    const auth = await open('dev-1');
    assert.equal(effect(auth.publish('news/sports', false)), 'Allow');
    assert.equal(effect(auth.publish('news/weather', false)), 'ImplicitDeny');

    await createPolicyVersion(f.deps, scope, { policyName: 'news', policyDocument: doc(allow('iot:Publish', 'arn:aws:iot:*:*:topic/news/*')), setAsDefault: true });
    assert.equal(effect(auth.publish('news/weather', false)), 'Allow');
    const d = auth.publish('news/weather', false);
    assert.equal(d.matched[0]?.versionId, '2');

    // A version that is not the default changes nothing; SetDefaultPolicyVersion back applies at once.
    await createPolicyVersion(f.deps, scope, { policyName: 'news', policyDocument: doc(deny('iot:Publish', 'arn:aws:iot:*:*:topic/news/*')) });
    assert.equal(effect(auth.publish('news/weather', false)), 'Allow');
    await setDefaultPolicyVersion(f.deps, scope, { policyName: 'news', policyVersionId: '1' });
    assert.equal(effect(auth.publish('news/weather', false)), 'ImplicitDeny');
    assert.equal(effect(auth.publish('news/sports', false)), 'Allow');
    await setDefaultPolicyVersion(f.deps, scope, { policyName: 'news', policyVersionId: '3' });
    assert.equal(effect(auth.publish('news/sports', false)), 'ExplicitDeny');
  });

  it('DetachPolicy: the next action is denied; AttachPolicy: allowed again', async () => {
    await attach('alerts', doc(allow('iot:Publish', 'arn:aws:iot:*:*:topic/alerts/*')));
    const auth = await open('dev-1');
    assert.equal(effect(auth.publish('alerts/fire', false)), 'Allow');
    await detachPolicy(f.deps, scope, { policyName: 'alerts', target: certArn });
    const d = auth.publish('alerts/fire', false);
    assert.equal(d.effect, 'ImplicitDeny');
    await attachPolicy(f.deps, scope, { policyName: 'alerts', target: certArn });
    assert.equal(effect(auth.publish('alerts/fire', false)), 'Allow');

    // Deleted and re-created under the same name (version 1 again): the new document applies, not a stale compilation.
    await detachPolicy(f.deps, scope, { policyName: 'alerts', target: certArn });
    await deletePolicy(f.deps, scope, { policyName: 'alerts' });
    await attach('alerts', doc(allow('iot:Publish', 'arn:aws:iot:*:*:topic/alerts/flood')));
    assert.equal(effect(auth.publish('alerts/fire', false)), 'ImplicitDeny');
    assert.equal(effect(auth.publish('alerts/flood', false)), 'Allow');
  });

  it('a policy change reaches every connection of every certificate holding it', async () => {
    const other = await registeredDevice(f, scope, (await registeredCa(f, scope, 'Initech')).ca, 'CN=second');
    const otherArn = `arn:aws:iot:${scope.region}:${scope.accountId}:cert/${other.device.certificateId}`;
    await attach('shared', doc(allow('iot:Subscribe', 'arn:aws:iot:*:*:topicfilter/shared/a')));
    await attachPolicy(f.deps, scope, { policyName: 'shared', target: otherArn });
    const otherPeer = peer(other.device.der, endpoint);
    const otherAdmission = await f.access.admit(otherPeer);
    assert.ok(otherAdmission.admitted);
    // Two connections of the same certificate (sharing one policy set) and one of another certificate.
    const one = await open('c1');
    const two = await open('c2');
    const three = await f.access.authorize(otherAdmission.principal, connectInfo('c3'), otherPeer);
    for (const auth of [one, two, three]) assert.equal(effect(auth.subscribe('shared/b')), 'ImplicitDeny');
    await createPolicyVersion(f.deps, scope, { policyName: 'shared', policyDocument: doc(allow('iot:Subscribe', 'arn:aws:iot:*:*:topicfilter/shared/*')), setAsDefault: true });
    for (const auth of [one, two, three]) assert.equal(effect(auth.subscribe('shared/b')), 'Allow');
    assert.ok(f.seenEvents.some((e) => e.type === 'policy-changed' && e.policyName === 'shared'));
  });

  it('no policy attached: implicit deny that says so', async () => {
    const lone = await registeredDevice(f, scope, (await registeredCa(f, scope, 'Lone')).ca, 'CN=lone');
    const admission = await f.access.admit(peer(lone.device.der, endpoint));
    assert.ok(admission.admitted);
    const auth = await f.access.authorize(admission.principal, connectInfo('lone'), peer(lone.device.der, endpoint));
    const d = auth.connect();
    assert.equal(d.effect, 'ImplicitDeny');
    assert.ok(d.reasons.includes('no policy is attached'));
  });
});
