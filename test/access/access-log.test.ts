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

  it('defaults: capacity 10,000; a nonsensical capacity is clamped to one record', () => {
    const log = createAccessLog();
    for (let n = 0; n < 10_005; n++) log.record(rec(n, { clientId: 'same' }));
    const all = log.recent({ clientId: 'same', limit: 20_000 });
    assert.equal(all.length, 10_000);
    assert.equal(all.at(-1)?.reasons[0], 'record 5');
    const tiny = createAccessLog({ capacity: 0 });
    tiny.record(rec(1));
    tiny.record(rec(2));
    assert.deepEqual(tiny.recent({}).map((r) => r.reasons[0]), ['record 2']);
  });
});
