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
      apiHost: '127.0.0.1',
      apiTransport: { kind: 'http', beyondLoopback: false },
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

  it('issue 10 #9: the API is HTTPS whenever it listens beyond loopback; plain HTTP there only with --api-insecure-http', () => {
    const t = (raw: Record<string, string | boolean>, env: Record<string, string> = {}): unknown => resolveServeConfig(raw, env, '/cwd').apiTransport;
    assert.deepEqual(t({}), { kind: 'http', beyondLoopback: false });
    assert.deepEqual(t({ host: '0.0.0.0' }), { kind: 'https', certificate: 'certgate' });
    assert.deepEqual(t({ apiHost: '10.1.2.3' }), { kind: 'https', certificate: 'certgate' });
    assert.deepEqual(t({ host: '0.0.0.0', apiHost: '127.0.0.1' }), { kind: 'http', beyondLoopback: false }, 'devices outside, API on loopback');
    assert.deepEqual(t({ apiHost: '::1' }), { kind: 'http', beyondLoopback: false });
    assert.deepEqual(t({ apiHost: 'localhost' }), { kind: 'http', beyondLoopback: false });
    assert.deepEqual(t({ apiTls: 'on' }), { kind: 'https', certificate: 'certgate' });
    assert.deepEqual(t({}, { CERTGATE_API_TLS: 'on' }), { kind: 'https', certificate: 'certgate' });
    assert.deepEqual(t({ apiHost: '0.0.0.0', apiInsecureHttp: true }), { kind: 'http', beyondLoopback: true });
    assert.deepEqual(t({ apiHost: '0.0.0.0' }, { CERTGATE_API_INSECURE_HTTP: 'true' }), { kind: 'http', beyondLoopback: true });
    assert.deepEqual(t({ apiHost: '0.0.0.0', apiTls: 'off', apiInsecureHttp: true }), { kind: 'http', beyondLoopback: true });
    assert.deepEqual(t({ apiTlsCert: 'a.crt', apiTlsKey: 'a.key' }), { kind: 'https', certificate: 'files', certFile: '/cwd/a.crt', keyFile: '/cwd/a.key' });
    for (const bad of [{ apiTls: 'yes' }, { apiHost: '0.0.0.0', apiTls: 'off' }, { apiTls: 'on', apiInsecureHttp: true }, { apiTlsCert: 'a.crt' }, { apiTlsKey: 'a.key' }, { apiTlsCert: 'a', apiTlsKey: 'b', apiTls: 'off' }]) {
      assert.throws(() => t(bad), StartupError, JSON.stringify(bad));
    }
    assert.equal(resolveServeConfig({ host: '0.0.0.0' }, {}, '/').apiHost, '0.0.0.0', '--api-host defaults to --host');
  });

  it('issue 10 #12: --tls-security-policy takes AWS IoT\'s policy names; an unknown one names the flag', () => {
    assert.equal(resolveServeConfig({}, {}, '/').tlsSecurityPolicy, undefined);
    assert.equal(resolveServeConfig({ tlsSecurityPolicy: 'IoTSecurityPolicy_TLS12_1_2_2022_10' }, {}, '/').tlsSecurityPolicy, 'IoTSecurityPolicy_TLS12_1_2_2022_10');
    assert.equal(resolveServeConfig({}, { CERTGATE_TLS_SECURITY_POLICY: 'IoTSecurityPolicy_TLS13_1_3_2022_10' }, '/').tlsSecurityPolicy, 'IoTSecurityPolicy_TLS13_1_3_2022_10');
    assert.throws(() => resolveServeConfig({ tlsSecurityPolicy: 'TLS1' }, {}, '/'), (e: unknown) => e instanceof StartupError && /--tls-security-policy: 'TLS1'/.test(e.message));
  });

  it('issue 10 #13 (review): --provisioning-hook-allow entries may name an account, a scheme and a path prefix', () => {
    const c = resolveServeConfig({}, { CERTGATE_PROVISIONING_HOOK_ALLOW: '222222222222=https://hooks.example.com/tenants/b, 10.0.0.5:8080' }, '/cwd');
    assert.deepEqual(c.provisioningHookAllow, [
      { accountId: '222222222222', scheme: 'https', hostname: 'hooks.example.com', pathPrefix: '/tenants/b', isAddress: false },
      { hostname: '10.0.0.5', port: 8080, isAddress: true },
    ]);
    assert.equal(resolveServeConfig({ provisioningHookAllow: '' }, {}, '/cwd').provisioningHookAllow, undefined);
    assert.throws(
      () => resolveServeConfig({ provisioningHookAllow: '222222222222=hooks.example.com/a/../b' }, {}, '/cwd'),
      (e: unknown) => e instanceof StartupError && /--provisioning-hook-allow.*dot segment/.test(e.message),
    );
    assert.throws(
      () => resolveServeConfig({}, { CERTGATE_PROVISIONING_HOOK_ALLOW: '1234=hooks.example.com' }, '/cwd'),
      (e: unknown) => e instanceof StartupError && /CERTGATE_PROVISIONING_HOOK_ALLOW.*\[<account-id>=\]/.test(e.message),
    );
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
