import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { isLogLevel } from '../telemetry/index.js';
import type { LogLevel } from '../telemetry/index.js';
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
    description: 'comma-separated regions besides --region whose endpoints the MQTT server certificates also name',
  },
  region: { flag: '--region <region>', env: 'CERTGATE_REGION', default: 'us-east-1', description: 'AWS region certgate serves' },
  domain: { flag: '--domain <domain>', env: 'CERTGATE_DOMAIN', default: 'localhost', description: 'DNS domain of data endpoints (<prefix>-ats.iot.<region>.<domain>)' },
  fleetTokenTtl: {
    flag: '--fleet-token-ttl <seconds>',
    env: 'CERTGATE_FLEET_TOKEN_TTL',
    default: '3600',
    description: 'fleet provisioning: lifetime of a certificateOwnershipToken; a certificate created over MQTT and not provisioned by then is deleted (AWS: 3600)',
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

export interface CertgateConfig {
  /** Absolute. */
  readonly dataDir: string;
  readonly host: string;
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
  return {
    dataDir: dataDir(raw, env, cwd),
    host,
    apiPort: port('apiPort', raw, env),
    mqttPort: port('mqttPort', raw, env),
    ...optionalPort('alpnPort', raw, env),
    ...requireSni(raw, env),
    ...extraRegions(raw, env),
    ...fleetTokenTtl(raw, env),
    ...fleetLimits(raw, env),
    ...registryCacheTtl(raw, env),
    region: region(raw, env),
    domain: domain(raw, env),
    logLevel,
    ...(masterKey !== undefined && masterKey !== '' ? { masterKey } : {}),
  };
}

export function resolveAccountsConfig(raw: RawSettings, env: Environment, cwd: string): AccountsConfig {
  return { dataDir: dataDir(raw, env, cwd), region: region(raw, env), domain: domain(raw, env) };
}
