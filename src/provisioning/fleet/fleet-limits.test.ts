import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PendingCertificates, RequestRate } from './fleet-limits.js';

describe('fleet provisioning limits (issue 10 #14)', () => {
  it('RequestRate: a token bucket per key, bursts of one second\'s worth, refilled with time; keys are independent', () => {
    const rate = new RequestRate(2);
    assert.deepEqual([rate.take('a', 0), rate.take('a', 0), rate.take('a', 0)], [true, true, false]);
    assert.equal(rate.take('b', 0), true, 'another account has its own bucket');
    assert.equal(rate.take('a', 499), false, 'half a token after 499 ms is not enough');
    assert.equal(rate.take('a', 500), true, 'one token after 500 ms at 2 per second');
    assert.deepEqual([rate.take('a', 60_000), rate.take('a', 60_000), rate.take('a', 60_000)], [true, true, false], 'never more than the burst');
    const slow = new RequestRate(0.5);
    assert.deepEqual([slow.take('a', 0), slow.take('a', 0), slow.take('a', 1999), slow.take('a', 2000)], [true, false, false, true], 'a fractional rate still allows one request');
    assert.throws(() => new RequestRate(0), RangeError);
  });

  it('PendingCertificates: reserved slots count at once; created ones until they expire or are deleted', () => {
    const p = new PendingCertificates();
    p.reserve('a');
    p.reserve('a');
    assert.equal(p.count('a', 0), 2);
    p.release('a', { certificateId: 'c1', expiresAt: 1000 });
    p.release('a'); // creation failed: the slot is freed
    assert.equal(p.count('a', 0), 1);
    assert.equal(p.count('b', 0), 0);
    assert.deepEqual(p.ids('a'), ['c1']);
    assert.equal(p.count('a', 1000), 0, 'expired with its ownership token');
    p.reserve('a');
    p.release('a', { certificateId: 'c2', expiresAt: 5000 });
    p.delete('a', 'c2');
    assert.equal(p.count('a', 0), 0);
    assert.equal(p.recheckDue('a', 0), true);
    assert.equal(p.recheckDue('a', 999), false);
    assert.equal(p.recheckDue('a', 1000), true);
  });
});
