// Every admission refusal of a peer that presented a certificate names that certificate (issue 3 admission
// rules: "Reasons name certificate id, account, region and the rule"), so `certgate why` — which queries the
// access log by certificate id — finds it, whichever rule refused: even the SNI rules checked first.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AdmissionResult, ConnectionPeer } from '../../src/access/index.js';
import type { Scope } from '../../src/kernel/index.js';
import { updateCertificate } from '../../src/registry/index.js';
import { DOMAIN, REGION, deviceCertificate, newAccount, openFixture, peer, registeredCa, registeredDevice } from './access-fixture.js';
import type { Fixture } from './access-fixture.js';

type Refusal = Extract<AdmissionResult, { admitted: false }>;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('admission refusals name the presented certificate', () => {
  let f: Fixture;
  let strictF: Fixture;
  let scope: Scope;
  let endpoint: string;
  const cases: { rule: string; peer: ConnectionPeer; fixture: () => Fixture }[] = [];

  before(async () => {
    f = await openFixture();
    strictF = await openFixture({ requireSni: true });
    const a = await newAccount(f, 'reasons');
    scope = a.scope;
    endpoint = a.endpoint;
    const { ca } = await registeredCa(f, scope, 'ReasonOrg');
    const good = (await registeredDevice(f, scope, ca, 'CN=reason-good, O=ReasonOrg')).device;
    const inactive = (await registeredDevice(f, scope, ca, 'CN=reason-inactive, O=ReasonOrg')).device;
    await updateCertificate(f.deps, scope, { certificateId: inactive.certificateId, newStatus: 'INACTIVE' });
    const stranger = await deviceCertificate(f, ca, 'CN=reason-stranger, O=ReasonOrg');
    cases.push(
      { rule: 'UNKNOWN_ENDPOINT (foreign SNI)', peer: peer(good.der, 'mqtt.example.com'), fixture: () => f },
      { rule: 'UNKNOWN_ENDPOINT (no such prefix)', peer: peer(good.der, `nosuchprefix0-ats.iot.${REGION}.${DOMAIN}`), fixture: () => f },
      { rule: 'SNI_REQUIRED (--require-sni, no SNI)', peer: peer(good.der, undefined), fixture: () => strictF },
      { rule: 'SNI_REQUIRED (--require-sni, IP literal)', peer: peer(good.der, '127.0.0.1'), fixture: () => strictF },
      { rule: 'UNKNOWN_CERTIFICATE', peer: peer(stranger.der, endpoint), fixture: () => f },
      { rule: 'CERTIFICATE_NOT_ACTIVE', peer: peer(inactive.der, endpoint), fixture: () => f },
    );
  });
  after(async () => {
    await f.close();
    await strictF.close();
  });

  it('certificateId is the SHA-256 of the presented DER and the reason contains it, for every rule', async () => {
    const missing: string[] = [];
    for (const c of cases) {
      const r = await c.fixture().access.admit(c.peer);
      assert.equal(r.admitted, false, c.rule);
      const refusal = r as Refusal;
      const id = sha256(c.peer.certificateDer!);
      if (refusal.certificateId !== id || !refusal.reason.includes(id)) missing.push(`${c.rule} → ${refusal.refusal}: ${refusal.reason}`);
    }
    assert.deepEqual(missing, [], `refusals that do not name the certificate:\n${missing.join('\n')}`);
  });

  it('refusals placed in an account name the account and region', async () => {
    const r = (await f.access.admit(cases.find((c) => c.rule === 'CERTIFICATE_NOT_ACTIVE')!.peer)) as Refusal;
    assert.equal(r.accountId, scope.accountId);
    assert.equal(r.region, scope.region);
    assert.match(r.reason, new RegExp(`${scope.accountId}.*${scope.region}`));
    assert.match(r.reason, /INACTIVE/);
  });
});
