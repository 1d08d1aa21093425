import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BROKER_LIMITS, clampKeepAlive } from './limits.js';

describe('keep-alive clamp (AWS IoT: 30..1200 s, 0 → 1200)', () => {
  for (const [requested, applied] of [[0, 1200], [1, 30], [29, 30], [30, 30], [60, 60], [1200, 1200], [1201, 1200], [65535, 1200]] as const) {
    it(`${requested} → ${applied}`, () => assert.equal(clampKeepAlive(requested), applied));
  }
  it('AWS limits table', () => {
    assert.equal(BROKER_LIMITS.maxPayloadBytes, 131072);
    assert.equal(BROKER_LIMITS.maxFiltersPerSubscribe, 8);
    assert.equal(BROKER_LIMITS.maxSubscriptionsPerConnection, 50);
    assert.equal(BROKER_LIMITS.maxInflightQos1, 100);
    assert.equal(BROKER_LIMITS.maxSessionExpirySeconds, 604800);
  });
});
