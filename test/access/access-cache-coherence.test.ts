// Cache coherence of the access core under interleavings (issue 3, part A): registry events that arrive
// while a lookup or a policy load is in flight, certificates registered after a refusal, policies deleted
// and re-created under the same name, store failures during a reload. The store is the REAL SQLite store;
// a Proxy only pauses chosen calls (after the real call returned) so the interleaving is deterministic.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createDeviceAccess } from '../../src/access/index.js';
import type { AdmissionResult, ConnectInfo, ConnectionPeer } from '../../src/access/index.js';
import type { Scope } from '../../src/kernel/index.js';
import type { CaHierarchyMember } from '../../src/pki/index.js';
import {
  attachPolicy,
  createPolicy,
  createPolicyVersion,
  createRegistryEvents,
  deletePolicy,
  detachPolicy,
  registerCertificate,
  setDefaultPolicyVersion,
  updateCaCertificate,
  updateCertificate,
} from '../../src/registry/index.js';
import type { RegistryStore } from '../../src/registry/index.js';
import { DOMAIN, REGION, deviceCertificate, newAccount, openFixture, peer, registeredCa, registeredDevice } from './access-fixture.js';
import type { Fixture } from './access-fixture.js';

/** The real store; `pauseNext(method)` makes the next call of that method wait, after its real result is in, until released. */
function pausableStore(inner: RegistryStore) {
  const pauses = new Map<string, { resultIn: () => void; gate: Promise<void> }>();
  const failures = new Set<string>();
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return async (...args: unknown[]) => {
        if (failures.has(prop)) throw new Error(`injected failure of ${prop}`);
        const result: unknown = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const pause = pauses.get(prop);
        if (pause) {
          pauses.delete(prop);
          pause.resultIn();
          await pause.gate;
        }
        return result;
      };
    },
  });
  return {
    store,
    /** Resolves `resultIn` once the paused call has read the store; `release()` lets it return. */
    pauseNext(method: keyof RegistryStore): { resultIn: Promise<void>; release: () => void } {
      let resultIn!: () => void;
      let release!: () => void;
      const resultInPromise = new Promise<void>((r) => (resultIn = r));
      const gate = new Promise<void>((r) => (release = r));
      pauses.set(method, { resultIn, gate });
      return { resultIn: resultInPromise, release };
    },
    fail(method: keyof RegistryStore, on: boolean): void {
      if (on) failures.add(method);
      else failures.delete(method);
    },
  };
}

const connect = (clientId: string): ConnectInfo => ({ clientId, cleanStart: true, hasWill: false, protocolVersion: 5 });
const arnOf = (scope: Scope): string => `arn:aws:iot:${scope.region}:${scope.accountId}`;
const allow = (actions: string | string[], resources: string | string[]) => ({ Effect: 'Allow', Action: actions, Resource: resources });
const doc = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

function principalOf(r: AdmissionResult) {
  assert.ok(r.admitted, `expected admission, got ${JSON.stringify(r)}`);
  return r.principal;
}

describe('access cache coherence', () => {
  let f: Fixture;
  let scope: Scope;
  let endpoint: string;
  let ca: CaHierarchyMember;
  let paused: ReturnType<typeof pausableStore>;
  let access: ReturnType<typeof createDeviceAccess>;
  let n = 0;

  before(async () => {
    f = await openFixture();
    ({ scope, endpoint } = await newAccount(f, 'coherence'));
    ({ ca } = await registeredCa(f, scope, 'CoherentOrg'));
    paused = pausableStore(f.deps.store);
    access = createDeviceAccess({ store: paused.store, clock: f.clock, domain: DOMAIN, defaultRegion: REGION, requireSni: false });
    (f.deps.events as ReturnType<typeof createRegistryEvents>).subscribe((e) => access.onRegistryEvent(e));
  });
  after(() => f.close());

  /** A fresh registered device with one attached policy allowing publish on `topic/<name>/*` (name per test). */
  async function device(policyStatements: object[] = []) {
    const name = `dev-${++n}`;
    const { device: d, record } = await registeredDevice(f, scope, ca, `CN=${name}, O=CoherentOrg`);
    const certArn = `${arnOf(scope)}:cert/${record.certificateId}`;
    if (policyStatements.length > 0) {
      await createPolicy(f.deps, scope, { policyName: `${name}-policy`, policyDocument: doc(...policyStatements) });
      await attachPolicy(f.deps, scope, { policyName: `${name}-policy`, target: certArn });
    }
    return { name, der: d.der, pem: d.pem, certificateId: record.certificateId, certArn, p: peer(d.der, endpoint) as ConnectionPeer };
  }

  it('UpdateCertificate INACTIVE while an admission lookup is in flight: the stale ACTIVE row is not cached', async () => {
    const d = await device();
    const pause = paused.pauseNext('getCertificate');
    const first = access.admit(d.p);
    await pause.resultIn; // the lookup has read the row while it was still ACTIVE
    await updateCertificate(f.deps, scope, { certificateId: d.certificateId, newStatus: 'INACTIVE' }); // event → invalidation
    pause.release();
    await first; // began before the change: either outcome is defensible for this one
    const next = await access.admit(d.p);
    assert.equal(next.admitted, false, 'an admission that starts after UpdateCertificate returned must see INACTIVE');
    assert.equal(next.admitted ? '' : next.refusal, 'CERTIFICATE_NOT_ACTIVE');
  });

  it('an admission still in flight when the revocation event is handled does not admit (it would escape the broker\'s disconnect)', async () => {
    // main/ handles certificate-status-changed as: access.onRegistryEvent, then broker.disconnectCertificate, which only
    // sees connections already admitted. An admission that read ACTIVE before the change and resolves after both would
    // create a connection nobody disconnects: it must notice the invalidation and re-check.
    const d = await device();
    const pause = paused.pauseNext('getCertificate');
    const inFlight = access.admit(d.p);
    await pause.resultIn;
    await updateCertificate(f.deps, scope, { certificateId: d.certificateId, newStatus: 'REVOKED' });
    pause.release();
    const r = await inFlight;
    assert.equal(r.admitted ? 'admitted' : r.refusal, 'CERTIFICATE_NOT_ACTIVE');
  });

  it('the same race on the no-SNI path (findCertificatesInRegion)', async () => {
    const d = await device();
    const noSni = peer(d.der, undefined);
    const pause = paused.pauseNext('findCertificatesInRegion');
    const first = access.admit(noSni);
    await pause.resultIn;
    await updateCertificate(f.deps, scope, { certificateId: d.certificateId, newStatus: 'REVOKED' });
    pause.release();
    await first;
    const next = await access.admit(noSni);
    assert.equal(next.admitted ? 'admitted' : next.refusal, 'CERTIFICATE_NOT_ACTIVE');
  });

  it('strict CA mode: UpdateCACertificate INACTIVE while the CA lookup is in flight is not lost', async () => {
    const strict = await newAccount(f, `strict-${++n}`);
    await f.deps.store.updateAccount({ ...strict.account, strictCaMode: true });
    const { ca: strictCa, caCertificateId } = await registeredCa(f, strict.scope, 'StrictOrg');
    const { device: d } = await registeredDevice(f, strict.scope, strictCa, 'CN=strict-1, O=StrictOrg');
    const p = peer(d.der, strict.endpoint);
    const pause = paused.pauseNext('getCaCertificate');
    const first = access.admit(p);
    await pause.resultIn; // read the CA while ACTIVE
    await updateCaCertificate(f.deps, strict.scope, { certificateId: caCertificateId, newStatus: 'INACTIVE' });
    pause.release();
    await first;
    const next = await access.admit(p);
    assert.equal(next.admitted ? 'admitted' : next.refusal, 'CA_NOT_ACTIVE');
  });

  it('an unknown certificate is not cached as unknown: registered after a refusal, it is admitted at once', async () => {
    const d = await deviceCertificate(f, ca, 'CN=late-registrant, O=CoherentOrg');
    const before = await access.admit(peer(d.der, endpoint));
    assert.equal(before.admitted ? 'admitted' : before.refusal, 'UNKNOWN_CERTIFICATE');
    await registerCertificate(f.deps, scope, { certificatePem: d.pem, setAsActive: true }); // RegisterCertificate emits no event
    assert.equal(principalOf(await access.admit(peer(d.der, endpoint))).certificateId, d.certificateId);
    assert.equal(principalOf(await access.admit(peer(d.der, undefined))).certificateId, d.certificateId);
  });

  it('AttachPolicy while the first policy load of a connection is in flight: the attachment is not lost', async () => {
    const d = await device([allow('iot:Publish', `${arnOf(scope)}:topic/old/*`)]);
    const principal = principalOf(await access.admit(d.p));
    await createPolicy(f.deps, scope, { policyName: `${d.name}-extra`, policyDocument: doc(allow('iot:Publish', `${arnOf(scope)}:topic/new/*`)) });
    const pause = paused.pauseNext('listAttachedPolicies');
    const authorizing = access.authorize(principal, connect(d.name), d.p);
    await pause.resultIn; // the load has the old attachment list
    await attachPolicy(f.deps, scope, { policyName: `${d.name}-extra`, target: d.certArn });
    pause.release();
    const auth = await authorizing;
    assert.equal(auth.publish('old/x', false).effect, 'Allow');
    assert.equal(auth.publish('new/x', false).effect, 'Allow', 'the policy attached during the load must apply');
  });

  it('DetachPolicy while the first policy load is in flight: the detached policy does not linger', async () => {
    const d = await device([allow('iot:Publish', `${arnOf(scope)}:topic/gone/*`)]);
    const principal = principalOf(await access.admit(d.p));
    const pause = paused.pauseNext('listAttachedPolicies');
    const authorizing = access.authorize(principal, connect(d.name), d.p);
    await pause.resultIn;
    await detachPolicy(f.deps, scope, { policyName: `${d.name}-policy`, target: d.certArn });
    pause.release();
    const auth = await authorizing;
    assert.equal(auth.publish('gone/x', false).effect, 'ImplicitDeny');
  });

  it('one policy change reaches every live connection of every principal holding it (two devices, two connections each)', async () => {
    const shared = `shared-${n}`;
    await createPolicy(f.deps, scope, { policyName: shared, policyDocument: doc(allow('iot:Publish', `${arnOf(scope)}:topic/v1/*`)) });
    const auths = [];
    for (let i = 0; i < 2; i++) {
      const d = await device();
      await attachPolicy(f.deps, scope, { policyName: shared, target: d.certArn });
      const principal = principalOf(await access.admit(d.p));
      auths.push(await access.authorize(principal, connect(`${d.name}-a`), d.p));
      auths.push(await access.authorize(principal, connect(`${d.name}-b`), d.p));
    }
    for (const a of auths) assert.equal(a.publish('v1/x', false).effect, 'Allow');
    await createPolicyVersion(f.deps, scope, { policyName: shared, policyDocument: doc(allow('iot:Publish', `${arnOf(scope)}:topic/v2/*`)), setAsDefault: true });
    for (const a of auths) {
      assert.equal(a.publish('v1/x', false).effect, 'ImplicitDeny');
      assert.equal(a.publish('v2/x', false).effect, 'Allow');
    }
    await setDefaultPolicyVersion(f.deps, scope, { policyName: shared, policyVersionId: '1' }); // back to v1
    for (const a of auths) {
      assert.equal(a.publish('v1/x', false).effect, 'Allow');
      assert.equal(a.publish('v2/x', false).effect, 'ImplicitDeny');
    }
  });

  it('a policy deleted and re-created under the same name (version 1 again) is compiled afresh', async () => {
    const d = await device([allow('iot:Publish', `${arnOf(scope)}:topic/first/*`)]);
    const auth = await access.authorize(principalOf(await access.admit(d.p)), connect(d.name), d.p);
    assert.equal(auth.publish('first/x', false).effect, 'Allow');
    const policyName = `${d.name}-policy`;
    await detachPolicy(f.deps, scope, { policyName, target: d.certArn });
    await deletePolicy(f.deps, scope, { policyName });
    await createPolicy(f.deps, scope, { policyName, policyDocument: doc(allow('iot:Publish', `${arnOf(scope)}:topic/second/*`)) });
    await attachPolicy(f.deps, scope, { policyName, target: d.certArn });
    assert.equal(auth.publish('first/x', false).effect, 'ImplicitDeny', 'the old version 1 must not be served from the compiled cache');
    assert.equal(auth.publish('second/x', false).effect, 'Allow');
    const fresh = await access.authorize(principalOf(await access.admit(d.p)), connect(`${d.name}-2`), d.p);
    assert.equal(fresh.publish('first/x', false).effect, 'ImplicitDeny');
    assert.equal(fresh.publish('second/x', false).effect, 'Allow');
  });

  it('a policy change in another account with the same policy name does not touch this principal', async () => {
    const d = await device([allow('iot:Publish', `${arnOf(scope)}:topic/mine/*`)]);
    const auth = await access.authorize(principalOf(await access.admit(d.p)), connect(d.name), d.p);
    const other = await newAccount(f, `other-${n}`);
    const policyName = `${d.name}-policy`;
    await createPolicy(f.deps, other.scope, { policyName, policyDocument: doc(allow('iot:Publish', '*')) });
    await createPolicyVersion(f.deps, other.scope, { policyName, policyDocument: doc({ Effect: 'Deny', Action: '*', Resource: '*' }), setAsDefault: true });
    assert.equal(auth.publish('mine/x', false).effect, 'Allow');
    assert.equal(auth.publish('yours/x', false).effect, 'ImplicitDeny');
  });

  describe('store failure during a reload', () => {
    beforeEach(() => paused.fail('getPolicyVersion', false));

    it('fails closed: after a policy change that cannot be loaded, nothing is allowed and the reason says why; a later change recovers', async () => {
      const d = await device([allow('iot:Publish', `${arnOf(scope)}:topic/ok/*`)]);
      const auth = await access.authorize(principalOf(await access.admit(d.p)), connect(d.name), d.p);
      assert.equal(auth.publish('ok/x', false).effect, 'Allow');
      const policyName = `${d.name}-policy`;
      paused.fail('getPolicyVersion', true);
      await createPolicyVersion(f.deps, scope, { policyName, policyDocument: doc(allow('iot:Publish', `${arnOf(scope)}:topic/ok/*`)), setAsDefault: true });
      const denied = auth.publish('ok/x', false);
      assert.notEqual(denied.effect, 'Allow');
      assert.match(denied.reasons.join('\n'), /could not be loaded|injected failure/);
      paused.fail('getPolicyVersion', false);
      await setDefaultPolicyVersion(f.deps, scope, { policyName, policyVersionId: '2' });
      assert.equal(auth.publish('ok/x', false).effect, 'Allow');
    });

    it('a failed reload does not lock the principal out: the next CONNECT retries the load, and live connections recover with it', async () => {
      const d = await device([allow(['iot:Connect', 'iot:Publish'], '*')]);
      const principal = principalOf(await access.admit(d.p));
      const live = await access.authorize(principal, connect(`${d.name}-live`), d.p);
      paused.fail('getPolicyVersion', true);
      await createPolicyVersion(f.deps, scope, { policyName: `${d.name}-policy`, policyDocument: doc(allow(['iot:Connect', 'iot:Publish'], '*')), setAsDefault: true });
      assert.notEqual(live.publish('any', false).effect, 'Allow'); // fail closed while the store is failing
      paused.fail('getPolicyVersion', false); // the store is back; no further registry event happens
      const reconnect = await access.authorize(principal, connect(`${d.name}-new`), d.p);
      assert.equal(reconnect.connect().effect, 'Allow', reconnect.connect().reasons.join('; '));
      assert.equal(live.publish('any', false).effect, 'Allow');
    });

    it('authorize() itself rejects (rather than allowing) when the policies cannot be read at CONNECT', async () => {
      const d = await device([allow('iot:Connect', '*')]);
      const principal = principalOf(await access.admit(d.p));
      paused.fail('getPolicyVersion', true);
      await assert.rejects(access.authorize(principal, connect(`${d.name}-x`), d.p));
      paused.fail('getPolicyVersion', false);
      const auth = await access.authorize(principal, connect(`${d.name}-y`), d.p);
      assert.equal(auth.connect().effect, 'Allow');
    });
  });
});
