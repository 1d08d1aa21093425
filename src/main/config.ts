import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { DEFAULT_TLS_SECURITY_POLICY, TLS_SECURITY_POLICY_NAMES, isTlsSecurityPolicyName } from '../broker/listeners/index.js';
import type { TlsSecurityPolicyName } from '../broker/listeners/index.js';
import { isLogLevel } from '../telemetry/index.js';
import type { LogLevel } from '../telemetry/index.js';
import { parseHookAllowList } from './pre-provisioning-hook.js';
import type { HookAllowEntry } from './pre-provisioning-hook.js';
import { StartupError } from './startup-error.js';

/**
 * Every setting of `certgate`, with its flag, its CERTGATE_* environment twin and its default.
 * Precedence: flag > environment > default. The CLI builds its options (and --help) from this table;
 * only this file reads the environment.
 */
export const SETTINGS = {
  dataDir: {
    flag: '--data-dir <dir>',
    env: 'CERTGATE_DATA_DIR',
    default: './data',
    description: 'directory for the SQLite store, CA certificates, encrypted CA keys and AWS credentials',
  },
  host: { flag: '--host <address>', env: 'CERTGATE_HOST', default: '127.0.0.1', description: 'address the listeners bind to' },
  apiHost: {
    flag: '--api-host <address>',
    env: 'CERTGATE_API_HOST',
    default: '',
    description: 'address the control plane (API) binds to, e.g. an internal interface; empty = --host',
  },
  apiTls: {
    flag: '--api-tls <mode>',
    env: 'CERTGATE_API_TLS',
    default: 'auto',
    description:
      "HTTPS for the API: auto = HTTPS unless the API listens on loopback only; on = always; off = plain HTTP (beyond loopback only with --api-insecure-http). The certificate is issued by certgate's roots at every start (trust DATA/ca-bundle.pem), unless --api-tls-cert/--api-tls-key are given",
  },
  apiTlsCert: {
    flag: '--api-tls-cert <file>',
    env: 'CERTGATE_API_TLS_CERT',
    default: '',
    description: "the operator's PEM certificate chain for the HTTPS API (with --api-tls-key)",
  },
  apiTlsKey: {
    flag: '--api-tls-key <file>',
    env: 'CERTGATE_API_TLS_KEY',
    default: '',
    description: "the operator's PEM private key for the HTTPS API (with --api-tls-cert)",
  },
  apiInsecureHttp: {
    flag: '--api-insecure-http',
    env: 'CERTGATE_API_INSECURE_HTTP',
    default: 'false',
    description: 'serve the API over plain HTTP even beyond loopback: access keys, signatures and the private keys CreateKeysAndCertificate returns travel in clear (the env twin takes true or false)',
  },
  tlsSecurityPolicy: {
    flag: '--tls-security-policy <name>',
    env: 'CERTGATE_TLS_SECURITY_POLICY',
    default: DEFAULT_TLS_SECURITY_POLICY,
    description: `TLS versions and cipher suites of the MQTT listeners (the data endpoints; the HTTPS API always keeps the default), named as AWS IoT's security policies: ${TLS_SECURITY_POLICY_NAMES.join(', ')}`,
  },
  apiPort: { flag: '--api-port <port>', env: 'CERTGATE_API_PORT', default: '9080', description: 'control-plane (AWS IoT REST API) port; 0 = random' },
  mqttPort: { flag: '--mqtt-port <port>', env: 'CERTGATE_MQTT_PORT', default: '8883', description: 'MQTT over mutual TLS port; 0 = random' },
  alpnPort: {
    flag: '--alpn-port <port>',
    env: 'CERTGATE_ALPN_PORT',
    default: '',
    description: 'MQTT over mutual TLS with ALPN x-amzn-mqtt-ca (AWS serves it on 443); off unless given; 0 = random',
  },
  requireSni: {
    flag: '--require-sni',
    env: 'CERTGATE_REQUIRE_SNI',
    default: 'false',
    description: 'refuse devices whose TLS server name is not an account endpoint (the env twin takes true or false)',
  },
  extraRegions: {
    flag: '--extra-regions <regions>',
    env: 'CERTGATE_EXTRA_REGIONS',
    default: '',
    description:
      'comma-separated regions served besides --region: the API answers requests signed for them and the MQTT server certificates name their endpoints (requests for any other region are refused)',
  },
  region: {
    flag: '--region <region>',
    env: 'CERTGATE_REGION',
    default: 'us-east-1',
    description: 'AWS region certgate serves (with --extra-regions); the region of DATA/config and of devices connecting without SNI',
  },
  domain: { flag: '--domain <domain>', env: 'CERTGATE_DOMAIN', default: 'localhost', description: 'DNS domain of data endpoints (<prefix>-ats.iot.<region>.<domain>)' },
  fleetTokenTtl: {
    flag: '--fleet-token-ttl <seconds>',
    env: 'CERTGATE_FLEET_TOKEN_TTL',
    default: '3600',
    description: 'fleet provisioning: lifetime of a certificateOwnershipToken; a certificate created over MQTT and not provisioned by then is deleted (AWS: 3600)',
  },
  provisioningHookAllow: {
    flag: '--provisioning-hook-allow <entries>',
    env: 'CERTGATE_PROVISIONING_HOOK_ALLOW',
    default: '',
    description:
      "fleet provisioning: the pre-provisioning hook URLs certgate may call, comma-separated [<account-id>=][http(s)://]host[:port][/path-prefix]: the templates of that account only (none: every account's, a warning at startup), that scheme (none: both), that port (none: 80/443), that path or below it by whole segments (none: any path); a loopback, private or link-local address only when listed itself as an IP; hook URLs with dot segments, backslashes or encoded slashes, dots or percent signs are refused",
  },
  fleetRequestRate: {
    flag: '--fleet-request-rate <per-second>',
    env: 'CERTGATE_FLEET_REQUEST_RATE',
    default: '10',
    description: 'fleet provisioning: requests per second per account and region, CreateKeysAndCertificate, CreateCertificateFromCsr and RegisterThing together (token bucket; may be fractional); over it a device is answered 429 Throttled',
  },
  fleetPendingCertificates: {
    flag: '--fleet-pending-certificates <n>',
    env: 'CERTGATE_FLEET_PENDING_CERTIFICATES',
    default: '1000',
    description: 'fleet provisioning: certificates created over MQTT and not yet provisioned by RegisterThing, at most, per account and region; past it a device is answered 400 LimitExceeded',
  },
  registryCacheTtl: {
    flag: '--registry-cache-ttl <seconds>',
    env: 'CERTGATE_REGISTRY_CACHE_TTL',
    default: '30',
    description:
      'data plane: how long registry reads are cached, and how often live connections are re-checked against the registry (changes made outside the API, e.g. `certgate accounts update`, or a certificate passing its notAfter)',
  },
  logLevel: { flag: '--log-level <level>', env: 'CERTGATE_LOG_LEVEL', default: 'info', description: 'fatal|error|warn|info|debug|trace|silent (JSON logs on stderr)' },
} as const;

export type SettingName = keyof typeof SETTINGS;
export const MASTER_KEY_ENV = 'CERTGATE_MASTER_KEY';

/** Raw values as commander hands them over: only the flags actually given. */
export type RawSettings = Partial<Record<SettingName, string | boolean | undefined>>;
export type Environment = Readonly<Record<string, string | undefined>>;

/** How the API is served: HTTPS with certgate's own certificate, HTTPS with the operator's files, or plain HTTP. */
export type ApiTransport =
  | { readonly kind: 'https'; readonly certificate: 'certgate' }
  | { readonly kind: 'https'; readonly certificate: 'files'; readonly certFile: string; readonly keyFile: string }
  /** `beyondLoopback`: plain HTTP on a non-loopback address (--api-insecure-http), logged loudly. */
  | { readonly kind: 'http'; readonly beyondLoopback: boolean };

export interface CertgateConfig {
  /** Absolute. */
  readonly dataDir: string;
  readonly host: string;
  /** --api-host, or --host. */
  readonly apiHost: string;
  readonly apiTransport: ApiTransport;
  /** --tls-security-policy: absent = DEFAULT_TLS_SECURITY_POLICY. */
  readonly tlsSecurityPolicy?: TlsSecurityPolicyName;
  readonly apiPort: number;
  readonly mqttPort: number;
  /** --alpn-port: absent = no ALPN listener. */
  readonly alpnPort?: number;
  /** --require-sni: absent = false. */
  readonly requireSni?: true;
  /** --extra-regions: absent = none. */
  readonly extraRegions?: readonly string[];
  readonly region: string;
  readonly domain: string;
  readonly logLevel: LogLevel;
  /** --fleet-token-ttl in seconds: absent = 3600 (AWS's one hour). */
  readonly fleetTokenTtlSeconds?: number;
  /** --provisioning-hook-allow: absent = no hook URL is called. */
  readonly provisioningHookAllow?: readonly HookAllowEntry[];
  /** --fleet-request-rate: absent = 10 per second. */
  readonly fleetRequestRate?: number;
  /** --fleet-pending-certificates: absent = 1000. */
  readonly fleetPendingCertificates?: number;
  /** --registry-cache-ttl in seconds: absent = 30. */
  readonly registryCacheTtlSeconds?: number;
  /** CERTGATE_MASTER_KEY when set (base64 or hex of 32 bytes); otherwise DATA/master.key is used. */
  readonly masterKey?: string;
}

export type AccountsConfig = Pick<CertgateConfig, 'dataDir' | 'region' | 'domain'>;

function pick(name: SettingName, raw: RawSettings, env: Environment): string {
  const flag = raw[name];
  if (flag !== undefined) return String(flag); // boolean flags (--require-sni) arrive as true
  const fromEnv = env[SETTINGS[name].env];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return SETTINGS[name].default;
}

function source(name: SettingName, raw: RawSettings): string {
  return raw[name] !== undefined ? SETTINGS[name].flag.split(' ')[0]! : SETTINGS[name].env;
}

const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const DOMAIN_RE = /^(?=.{1,200}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const HOST_RE = /^[A-Za-z0-9.-]{1,253}$/;

function port(name: 'apiPort' | 'mqttPort' | 'alpnPort', raw: RawSettings, env: Environment): number {
  const v = pick(name, raw, env);
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) {
    throw new StartupError(`${source(name, raw)}: '${v}' is not a port number (0-65535)`);
  }
  return Number(v);
}

function region(raw: RawSettings, env: Environment): string {
  const v = pick('region', raw, env);
  if (!REGION_RE.test(v)) throw new StartupError(`${source('region', raw)}: '${v}' is not a region name like us-east-1`);
  return v;
}

function domain(raw: RawSettings, env: Environment): string {
  const v = pick('domain', raw, env).toLowerCase();
  if (!DOMAIN_RE.test(v)) throw new StartupError(`${source('domain', raw)}: '${v}' is not a DNS domain`);
  return v;
}

function optionalPort(name: 'alpnPort', raw: RawSettings, env: Environment): { alpnPort?: number } {
  return pick(name, raw, env) === '' ? {} : { [name]: port(name, raw, env) };
}

function requireSni(raw: RawSettings, env: Environment): { requireSni?: true } {
  const v = pick('requireSni', raw, env).toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return { requireSni: true };
  if (v === 'false' || v === '0' || v === 'no' || v === '') return {};
  throw new StartupError(`${source('requireSni', raw)}: '${v}' is not true or false`);
}

/** 127.0.0.0/8, ::1 and localhost: a listener there is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h.startsWith('::ffff:127.');
}

function booleanSetting(name: 'apiInsecureHttp', raw: RawSettings, env: Environment): boolean {
  const v = pick(name, raw, env).toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === '') return false;
  throw new StartupError(`${source(name, raw)}: '${v}' is not true or false`);
}

function apiHost(raw: RawSettings, env: Environment, host: string): string {
  const v = pick('apiHost', raw, env);
  if (v === '') return host;
  if (isIP(v) === 0 && !HOST_RE.test(v)) throw new StartupError(`${source('apiHost', raw)}: '${v}' is not an address`);
  return v;
}

/**
 * --api-tls auto|on|off, --api-tls-cert/--api-tls-key, --api-insecure-http → how the API is served. HTTPS is on
 * whenever the API listens beyond loopback, unless the operator says --api-insecure-http (issue 10 #9).
 */
function apiTransport(raw: RawSettings, env: Environment, host: string, cwd: string): ApiTransport {
  const mode = pick('apiTls', raw, env).toLowerCase();
  if (mode !== 'auto' && mode !== 'on' && mode !== 'off') throw new StartupError(`${source('apiTls', raw)}: '${mode}' is not auto, on or off`);
  const insecure = booleanSetting('apiInsecureHttp', raw, env);
  const cert = pick('apiTlsCert', raw, env);
  const key = pick('apiTlsKey', raw, env);
  if ((cert === '') !== (key === '')) {
    throw new StartupError(cert === '' ? `${source('apiTlsKey', raw)} needs --api-tls-cert too` : `${source('apiTlsCert', raw)} needs --api-tls-key too`);
  }
  const files = cert !== '';
  const loopback = isLoopbackHost(host);
  if (mode === 'on' && insecure) throw new StartupError(`${source('apiInsecureHttp', raw)} contradicts --api-tls on`);
  if (files && (mode === 'off' || insecure)) throw new StartupError(`--api-tls-cert/--api-tls-key contradict ${mode === 'off' ? '--api-tls off' : '--api-insecure-http'}`);
  const https = mode === 'on' || files || (mode === 'auto' && !insecure && !loopback);
  if (https) {
    return files
      ? { kind: 'https', certificate: 'files', certFile: resolve(cwd, cert), keyFile: resolve(cwd, key) }
      : { kind: 'https', certificate: 'certgate' };
  }
  if (!loopback && !insecure) {
    throw new StartupError(
      `${source('apiTls', raw)} off: the API would listen on ${host} (beyond loopback) in clear; add --api-insecure-http to accept that, or keep HTTPS`,
    );
  }
  return { kind: 'http', beyondLoopback: !loopback };
}

function tlsSecurityPolicy(raw: RawSettings, env: Environment): { tlsSecurityPolicy?: TlsSecurityPolicyName } {
  const v = pick('tlsSecurityPolicy', raw, env);
  if (!isTlsSecurityPolicyName(v)) throw new StartupError(`${source('tlsSecurityPolicy', raw)}: '${v}' is not one of ${TLS_SECURITY_POLICY_NAMES.join(', ')}`);
  return v === DEFAULT_TLS_SECURITY_POLICY ? {} : { tlsSecurityPolicy: v };
}

function extraRegions(raw: RawSettings, env: Environment): { extraRegions?: readonly string[] } {
  const list = pick('extraRegions', raw, env).split(',').map((r) => r.trim()).filter((r) => r !== '');
  for (const r of list) {
    if (!REGION_RE.test(r)) throw new StartupError(`${source('extraRegions', raw)}: '${r}' is not a region name like eu-west-1`);
  }
  return list.length === 0 ? {} : { extraRegions: [...new Set(list)] };
}

function fleetTokenTtl(raw: RawSettings, env: Environment): { fleetTokenTtlSeconds?: number } {
  const v = pick('fleetTokenTtl', raw, env);
  if (!/^\d{1,7}$/.test(v) || Number(v) < 1) throw new StartupError(`${source('fleetTokenTtl', raw)}: '${v}' is not a number of seconds (1-9999999)`);
  return Number(v) === 3600 ? {} : { fleetTokenTtlSeconds: Number(v) };
}

function fleetLimits(raw: RawSettings, env: Environment): { fleetRequestRate?: number; fleetPendingCertificates?: number } {
  const rate = pick('fleetRequestRate', raw, env);
  if (!/^\d{1,6}(\.\d{1,6})?$/.test(rate) || !(Number(rate) > 0)) {
    throw new StartupError(`${source('fleetRequestRate', raw)}: '${rate}' is not a positive number of requests per second (e.g. 10 or 0.5)`);
  }
  const pending = pick('fleetPendingCertificates', raw, env);
  if (!/^\d{1,7}$/.test(pending) || Number(pending) < 1) {
    throw new StartupError(`${source('fleetPendingCertificates', raw)}: '${pending}' is not a number of certificates (1-9999999)`);
  }
  return {
    ...(Number(rate) !== 10 ? { fleetRequestRate: Number(rate) } : {}),
    ...(Number(pending) !== 1000 ? { fleetPendingCertificates: Number(pending) } : {}),
  };
}

function registryCacheTtl(raw: RawSettings, env: Environment): { registryCacheTtlSeconds?: number } {
  const v = pick('registryCacheTtl', raw, env);
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 86_400) throw new StartupError(`${source('registryCacheTtl', raw)}: '${v}' is not a number of seconds (1-86400)`);
  return Number(v) === 30 ? {} : { registryCacheTtlSeconds: Number(v) };
}

function provisioningHookAllow(raw: RawSettings, env: Environment): { provisioningHookAllow?: readonly HookAllowEntry[] } {
  try {
    const list = parseHookAllowList(pick('provisioningHookAllow', raw, env));
    return list.length === 0 ? {} : { provisioningHookAllow: list };
  } catch (e) {
    throw new StartupError(`${source('provisioningHookAllow', raw)}: ${(e as Error).message}`);
  }
}

function dataDir(raw: RawSettings, env: Environment, cwd: string): string {
  const v = pick('dataDir', raw, env);
  if (v.trim() === '') throw new StartupError(`${source('dataDir', raw)}: empty path`);
  return resolve(cwd, v);
}

export function resolveServeConfig(raw: RawSettings, env: Environment, cwd: string): CertgateConfig {
  const host = pick('host', raw, env);
  if (isIP(host) === 0 && !HOST_RE.test(host)) throw new StartupError(`${source('host', raw)}: '${host}' is not an address`);
  const logLevel = pick('logLevel', raw, env);
  if (!isLogLevel(logLevel)) throw new StartupError(`${source('logLevel', raw)}: '${logLevel}' is not one of ${SETTINGS.logLevel.description.split(' ')[0]}`);
  const masterKey = env[MASTER_KEY_ENV];
  const api = apiHost(raw, env, host);
  return {
    dataDir: dataDir(raw, env, cwd),
    host,
    apiHost: api,
    apiTransport: apiTransport(raw, env, api, cwd),
    ...tlsSecurityPolicy(raw, env),
    apiPort: port('apiPort', raw, env),
    mqttPort: port('mqttPort', raw, env),
    ...optionalPort('alpnPort', raw, env),
    ...requireSni(raw, env),
    ...extraRegions(raw, env),
    ...fleetTokenTtl(raw, env),
    ...fleetLimits(raw, env),
    ...registryCacheTtl(raw, env),
    ...provisioningHookAllow(raw, env),
    region: region(raw, env),
    domain: domain(raw, env),
    logLevel,
    ...(masterKey !== undefined && masterKey !== '' ? { masterKey } : {}),
  };
}

export function resolveAccountsConfig(raw: RawSettings, env: Environment, cwd: string): AccountsConfig {
  return { dataDir: dataDir(raw, env, cwd), region: region(raw, env), domain: domain(raw, env) };
}
