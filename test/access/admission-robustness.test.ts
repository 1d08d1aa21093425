// Malformed input never crashes the process (issue 3 common rules): admission of mutated, truncated and
// oddly-framed certificate bytes resolves to a refusal value — never an exception — and a well-formed
// certificate handed over as a Buffer view into a larger (pooled) ArrayBuffer is read correctly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ADMISSION_REFUSALS } from '../../src/access/index.js';
import type { AdmissionResult } from '../../src/access/index.js';
import { newAccount, openFixture, peer, registeredCa, registeredDevice } from './access-fixture.js';
import type { DeviceCert, Fixture } from './access-fixture.js';

/** mulberry32: a tiny seeded PRNG so a failure is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('admission robustness against malformed certificates', () => {
  let f: Fixture;
  let endpoint: string;
  let device: DeviceCert;

  before(async () => {
    f = await openFixture();
    const a = await newAccount(f, 'robust');
    endpoint = a.endpoint;
    const { ca } = await registeredCa(f, a.scope, 'RobustOrg');
    device = (await registeredDevice(f, a.scope, ca, 'CN=robust-1, O=RobustOrg')).device;
  });
  after(() => f.close());

  async function admitSafely(der: Uint8Array, serverName: string | undefined = endpoint): Promise<AdmissionResult> {
    let result: AdmissionResult | undefined;
    await assert.doesNotReject(async () => {
      result = await f.access.admit(peer(der, serverName));
    });
    assert.ok(result);
    return result;
  }

  it('every truncation of a registered certificate is refused (MALFORMED_CERTIFICATE), none throws', async () => {
    const refusals = new Set<string>();
    for (let len = 0; len < device.der.byteLength; len++) {
      const r = await admitSafely(device.der.subarray(0, len));
      assert.equal(r.admitted, false, `prefix of ${len} bytes was admitted`);
      if (!r.admitted) refusals.add(r.refusal);
    }
    // length 0 is "no certificate"; every other prefix is malformed
    assert.deepEqual([...refusals].sort(), ['MALFORMED_CERTIFICATE', 'NO_CERTIFICATE']);
  });

  it('200 seeded random byte mutations: never admitted under the original id, never thrown, always a known refusal code', async () => {
    const rand = prng(0xc0ffee);
    let malformed = 0;
    for (let i = 0; i < 200; i++) {
      const der = new Uint8Array(device.der);
      const flips = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < flips; k++) der[Math.floor(rand() * der.length)] = Math.floor(rand() * 256);
      const r = await admitSafely(der, i % 2 === 0 ? endpoint : undefined);
      if (r.admitted) {
        // A mutation that kept the bytes identical (same value written) is the registered certificate itself.
        assert.equal(sha256(der), device.certificateId, `mutation ${i} admitted a different certificate`);
        continue;
      }
      assert.ok((ADMISSION_REFUSALS as readonly string[]).includes(r.refusal), r.refusal);
      assert.ok(r.reason.length > 0);
      if (r.refusal === 'MALFORMED_CERTIFICATE') malformed++;
    }
    assert.ok(malformed > 0, 'some mutations must break the DER structure');
    // Still healthy afterwards.
    assert.equal((await f.access.admit(peer(device.der, endpoint))).admitted, true);
  });

  it('framing attacks: trailing bytes, a wrong outer length, nested junk, an indefinite length, a huge declared length', async () => {
    const cases: [string, Uint8Array][] = [
      ['trailing zero byte', new Uint8Array([...device.der, 0])],
      ['two certificates back to back', new Uint8Array([...device.der, ...device.der])],
      ['indefinite length', new Uint8Array([0x30, 0x80, 0x00, 0x00])],
      ['declared 4 GiB', new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00])],
      ['5 length bytes', new Uint8Array([0x30, 0x85, 0, 0, 0, 0, 1, 0])],
      ['deeply nested sequences', nested(2000)],
      ['not a SEQUENCE', new Uint8Array([0x04, 0x02, 0xab, 0xcd])],
      ['single byte', new Uint8Array([0x30])],
    ];
    for (const [name, der] of cases) {
      const r = await admitSafely(der);
      assert.equal(r.admitted ? 'admitted' : r.refusal, 'MALFORMED_CERTIFICATE', name);
      assert.equal(r.admitted ? undefined : r.certificateId, sha256(der), `${name}: the refusal names the fingerprint of what was sent`);
    }
  });

  it('a certificate passed as a view at a non-zero offset of a larger buffer (pooled Buffer) is read correctly', async () => {
    const pool = new ArrayBuffer(device.der.byteLength + 64);
    new Uint8Array(pool).fill(0xee);
    const view = Buffer.from(pool, 7, device.der.byteLength);
    view.set(device.der);
    const r = await admitSafely(view);
    assert.ok(r.admitted, JSON.stringify(r));
    assert.equal(r.principal.certificateId, device.certificateId);
    assert.deepEqual(r.principal.certificateValues['iot:Certificate.Subject.CommonName'], ['robust-1']);
  });
});

/** `depth` nested SEQUENCE headers around nothing, framed consistently (length bytes sized to fit). */
function nested(depth: number): Uint8Array {
  let inner = new Uint8Array(0);
  for (let i = 0; i < depth; i++) {
    const len = inner.length;
    const header = len < 0x80 ? [0x30, len] : len < 0x100 ? [0x30, 0x81, len] : len < 0x10000 ? [0x30, 0x82, len >> 8, len & 0xff] : [0x30, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
    const next = new Uint8Array(header.length + len);
    next.set(header);
    next.set(inner, header.length);
    inner = next;
  }
  return inner;
}
