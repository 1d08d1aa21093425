// The data-plane settings of `certgate serve` (main/config.ts): --alpn-port, --require-sni, --extra-regions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveServeConfig } from '../../src/main/config.js';
import { StartupError } from '../../src/main/startup-error.js';

describe('data-plane settings', () => {
  it('are absent by default (ALPN listener off, SNI not required, no extra regions)', () => {
    const c = resolveServeConfig({}, {}, '/');
    assert.equal(c.alpnPort, undefined);
    assert.equal(c.requireSni, undefined);
    assert.equal(c.extraRegions, undefined);
  });

  it('take a flag over its CERTGATE_* twin', () => {
    const env = { CERTGATE_ALPN_PORT: '443', CERTGATE_REQUIRE_SNI: 'true', CERTGATE_EXTRA_REGIONS: 'eu-west-1, ap-south-1,eu-west-1' };
    const fromEnv = resolveServeConfig({}, env, '/');
    assert.equal(fromEnv.alpnPort, 443);
    assert.equal(fromEnv.requireSni, true);
    assert.deepEqual(fromEnv.extraRegions, ['eu-west-1', 'ap-south-1']);
    const fromFlags = resolveServeConfig({ alpnPort: '0', requireSni: true, extraRegions: 'us-west-2' }, { ...env, CERTGATE_REQUIRE_SNI: 'false' }, '/');
    assert.equal(fromFlags.alpnPort, 0);
    assert.equal(fromFlags.requireSni, true);
    assert.deepEqual(fromFlags.extraRegions, ['us-west-2']);
    assert.equal(resolveServeConfig({}, { CERTGATE_REQUIRE_SNI: 'false' }, '/').requireSni, undefined);
  });

  it('name the offending flag or variable', () => {
    assert.throws(() => resolveServeConfig({ alpnPort: '70000' }, {}, '/'), (e: unknown) => e instanceof StartupError && /--alpn-port: '70000'/.test(e.message));
    assert.throws(() => resolveServeConfig({}, { CERTGATE_REQUIRE_SNI: 'maybe' }, '/'), (e: unknown) => e instanceof StartupError && /CERTGATE_REQUIRE_SNI/.test(e.message));
    assert.throws(() => resolveServeConfig({ extraRegions: 'eu-west-1,Mars' }, {}, '/'), (e: unknown) => e instanceof StartupError && /--extra-regions: 'Mars'/.test(e.message));
    for (const bad of ['0', '-1', '1.5', 'soon', '86401']) {
      assert.throws(() => resolveServeConfig({ registryCacheTtl: bad }, {}, '/'), (e: unknown) => e instanceof StartupError && /--registry-cache-ttl/.test(e.message), bad);
    }
    assert.throws(() => resolveServeConfig({}, { CERTGATE_FLEET_TOKEN_TTL: '0' }, '/'), (e: unknown) => e instanceof StartupError && /CERTGATE_FLEET_TOKEN_TTL/.test(e.message));
  });

  it('--registry-cache-ttl: 30 s unless given; the env twin works', () => {
    assert.equal(resolveServeConfig({}, {}, '/').registryCacheTtlSeconds, undefined);
    assert.equal(resolveServeConfig({ registryCacheTtl: '5' }, {}, '/').registryCacheTtlSeconds, 5);
    assert.equal(resolveServeConfig({}, { CERTGATE_REGISTRY_CACHE_TTL: '120' }, '/').registryCacheTtlSeconds, 120);
  });
});
