import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAccessLog } from '../../src/access/index.js';
import type { AccessRecord } from '../../src/access/index.js';

const rec = (n: number, over: Partial<AccessRecord> = {}): AccessRecord => ({
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
  kind: 'publish',
  outcome: n % 2 === 0 ? 'allowed' : 'denied',
  clientId: `c${n % 3}`,
  certificateId: `cert${n % 2}`,
  resource: `topic/t/${n}`,
  reasons: [`record ${n}`],
  ...over,
});

describe('access log (ring buffer for `certgate why`)', () => {
  it('returns records newest first, filtered by client id or certificate id, up to limit', () => {
    const log = createAccessLog({ capacity: 100 });
    for (let n = 0; n < 10; n++) log.record(rec(n));
    assert.deepEqual(log.recent({ limit: 3 }).map((r) => r.reasons[0]), ['record 9', 'record 8', 'record 7']);
    assert.deepEqual(log.recent({ clientId: 'c0' }).map((r) => r.resource), ['topic/t/9', 'topic/t/6', 'topic/t/3', 'topic/t/0']);
    assert.deepEqual(log.recent({ certificateId: 'cert1', limit: 2 }).map((r) => r.resource), ['topic/t/9', 'topic/t/7']);
    assert.deepEqual(log.recent({ clientId: 'c0', certificateId: 'cert0' }).map((r) => r.resource), ['topic/t/6', 'topic/t/0']);
    assert.deepEqual(log.recent({ clientId: 'nobody' }), []);
    assert.deepEqual(log.recent({ limit: 0 }), []);
  });

  it('keeps only the newest `capacity` records (bounded memory)', () => {
    const log = createAccessLog({ capacity: 5 });
    for (let n = 0; n < 23; n++) log.record(rec(n));
    assert.deepEqual(log.recent({ limit: 100 }).map((r) => r.reasons[0]), ['record 22', 'record 21', 'record 20', 'record 19', 'record 18']);
  });

  it('defaults: 2,000 records per account; a nonsensical capacity is clamped to one record', () => {
    const log = createAccessLog();
    for (let n = 0; n < 2_005; n++) log.record(rec(n, { clientId: 'same' }));
    const all = log.recent({ clientId: 'same', limit: 20_000 });
    assert.equal(all.length, 2_000);
    assert.equal(all.at(-1)?.reasons[0], 'record 5');
    const tiny = createAccessLog({ capacity: 0 });
    tiny.record(rec(1));
    tiny.record(rec(2));
    assert.deepEqual(tiny.recent({}).map((r) => r.reasons[0]), ['record 2']);
  });

  it('issue 10 #14: bounded per account: one account flooding evicts only its own records', () => {
    const log = createAccessLog({ capacity: 5 });
    log.record(rec(1, { accountId: '111111111111', reasons: ['evidence of A'] }));
    log.record(rec(2, { reasons: ['placed in no account'] }));
    for (let n = 0; n < 1_000; n++) log.record(rec(n, { accountId: '222222222222' }));
    assert.deepEqual(log.recent({ accountId: '111111111111' }).map((r) => r.reasons[0]), ['evidence of A']);
    assert.deepEqual(log.recent({ accountId: null }).map((r) => r.reasons[0]), ['placed in no account']);
    assert.deepEqual(log.recent({ accountId: '222222222222' }).map((r) => r.reasons[0]), ['record 999', 'record 998', 'record 997', 'record 996', 'record 995']);
    assert.deepEqual(log.recent({ accountId: '333333333333' }), []);
    // Without an account: every account's newest, merged newest first.
    assert.deepEqual(log.recent({ limit: 3 }).map((r) => r.reasons[0]), ['record 999', 'record 998', 'record 997']);
    assert.equal(log.recent({ limit: 100 }).length, 7);
  });

  it('issue 10 #14: at most `accounts` accounts are kept; the one that recorded least recently goes first', () => {
    const log = createAccessLog({ capacity: 3, accounts: 2 });
    log.record(rec(1, { accountId: '111111111111' }));
    log.record(rec(2, { accountId: '222222222222' }));
    log.record(rec(3, { accountId: '111111111111' }));
    log.record(rec(4, { accountId: '333333333333' })); // 222… recorded least recently: dropped
    assert.deepEqual(log.recent({ accountId: '222222222222' }), []);
    assert.deepEqual(log.recent({ accountId: '111111111111' }).map((r) => r.reasons[0]), ['record 3', 'record 1']);
    assert.deepEqual(log.recent({ accountId: '333333333333' }).map((r) => r.reasons[0]), ['record 4']);
  });
});
