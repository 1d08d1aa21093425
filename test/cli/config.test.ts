import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SETTINGS, resolveAccountsConfig, resolveServeConfig } from '../../src/main/config.js';
import { StartupError } from '../../src/main/startup-error.js';

describe('resolveServeConfig', () => {
  it('applies defaults and resolves the data dir against cwd', () => {
    const c = resolveServeConfig({}, {}, '/srv/app');
    assert.deepEqual(c, {
      dataDir: '/srv/app/data',
      host: '127.0.0.1',
      apiPort: 9080,
      mqttPort: 8883,
      region: 'us-east-1',
      domain: 'localhost',
      logLevel: 'info',
    });
  });

  it('takes a flag over its CERTGATE_* twin over the default, and the master key only from the environment', () => {
    const env = { CERTGATE_API_PORT: '7000', CERTGATE_REGION: 'eu-west-1', CERTGATE_MQTT_PORT: '0', CERTGATE_MASTER_KEY: 'k' };
    const c = resolveServeConfig({ apiPort: '0', dataDir: '/abs' }, env, '/cwd');
    assert.equal(c.apiPort, 0);
    assert.equal(c.mqttPort, 0);
    assert.equal(c.region, 'eu-west-1');
    assert.equal(c.dataDir, '/abs');
    assert.equal(c.masterKey, 'k');
  });

  it('names the offending flag or variable in a StartupError', () => {
    assert.throws(() => resolveServeConfig({ apiPort: '70000' }, {}, '/'), (e: unknown) => e instanceof StartupError && /--api-port: '70000'/.test(e.message));
    assert.throws(() => resolveServeConfig({}, { CERTGATE_REGION: 'Mars' }, '/'), (e: unknown) => e instanceof StartupError && /CERTGATE_REGION/.test(e.message));
    assert.throws(() => resolveServeConfig({ logLevel: 'loud' }, {}, '/'), StartupError);
    assert.throws(() => resolveAccountsConfig({ domain: 'bad domain' }, {}, '/'), StartupError);
  });

  it('gives every setting a distinct CERTGATE_* twin', () => {
    const envs = Object.values(SETTINGS).map((s) => s.env);
    assert.ok(envs.every((e) => e.startsWith('CERTGATE_')));
    assert.equal(new Set(envs).size, envs.length);
  });
});
