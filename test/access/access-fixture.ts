/**
 * Fixtures for the access tests: a real SQLite store in memory, the real registry use cases with their
 * events wired to the access core (as main/ does), and certificates made at run time.
 */
import { silentLogger } from '../../src/kernel/index.js';
import type { Clock, Scope } from '../../src/kernel/index.js';
import { createRootCa, generateKeyPair, issueCertificate, parseCertificatePem } from '../../src/pki/index.js';
import type { CaHierarchyMember } from '../../src/pki/index.js';
import {
  createAccount,
  createRegistryEvents,
  getRegistrationCode,
  registerCaCertificate,
  registerCertificate,
  registerCertificateWithoutCa,
} from '../../src/registry/index.js';
import type { Account, Certificate, RegistryDeps, RegistryEvent, RegistryStore } from '../../src/registry/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import { createDeviceAccess } from '../../src/access/index.js';
import type { CertgateDeviceAccess, ConnectionPeer, DeviceAccessDeps } from '../../src/access/index.js';

export const DOMAIN = 'certgate.test';
export const REGION = 'us-east-1';
const DAY = 86_400_000;

export class ManualClock implements Clock {
  ms: number;
  constructor(start: Date) {
    this.ms = start.getTime();
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface Fixture {
  readonly deps: RegistryDeps;
  readonly clock: ManualClock;
  readonly access: CertgateDeviceAccess;
  readonly seenEvents: RegistryEvent[];
  close(): Promise<void>;
}

export async function openFixture(options: Partial<Pick<DeviceAccessDeps, 'requireSni' | 'cacheTtlMs' | 'onUnknownCertificate'>> = {}): Promise<Fixture> {
  const store = await openSqliteStore({ file: ':memory:' });
  const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
  const events = createRegistryEvents((e) => {
    throw e;
  });
  const deviceIssuer = await createRootCa({ keyType: 'EC', commonName: 'test device issuer', organization: 'certgate', now: clock.now(), years: 30 });
  const deps: RegistryDeps = { store, clock, logger: silentLogger, deviceIssuer, domain: DOMAIN, events };
  const access = createDeviceAccess({
    store,
    clock,
    domain: DOMAIN,
    defaultRegion: REGION,
    requireSni: options.requireSni ?? false,
    ...(options.cacheTtlMs !== undefined ? { cacheTtlMs: options.cacheTtlMs } : {}),
    ...(options.onUnknownCertificate !== undefined ? { onUnknownCertificate: options.onUnknownCertificate } : {}),
  });
  const seenEvents: RegistryEvent[] = [];
  events.subscribe((e) => {
    seenEvents.push(e);
    return access.onRegistryEvent(e);
  });
  return { deps, clock, access, seenEvents, close: () => store.close() };
}

export async function newAccount(f: Fixture, name: string): Promise<{ account: Account; scope: Scope; endpoint: string }> {
  const account = await createAccount(f.deps, { name });
  return { account, scope: { accountId: account.accountId, region: REGION }, endpoint: `${account.endpointPrefix}-ats.iot.${REGION}.${DOMAIN}` };
}

/** A customer CA registered (DEFAULT mode, with proof of possession) and ACTIVE in scope. */
export async function registeredCa(f: Fixture, scope: Scope, organization: string): Promise<{ ca: CaHierarchyMember; caCertificateId: string }> {
  const ca = await createRootCa({ keyType: 'EC', commonName: `${organization} Root CA`, organization, now: f.clock.now(), years: 10 });
  const code = await getRegistrationCode(f.deps, scope);
  const verificationKeys = await generateKeyPair('EC-P256');
  const verificationCertificate = await issueCertificate({
    issuer: ca,
    subject: `CN=${code}`,
    subjectPublicKeyPem: verificationKeys.publicKeyPem,
    notBefore: new Date(f.clock.ms - 60_000),
    notAfter: new Date(f.clock.ms + DAY),
    isCa: false,
    keyUsage: ['digitalSignature'],
  });
  const registered = await registerCaCertificate(f.deps, scope, { caCertificate: ca.certificatePem, verificationCertificate, setAsActive: true });
  return { ca, caCertificateId: registered.certificateId };
}

export interface DeviceCert {
  readonly pem: string;
  readonly der: Uint8Array;
  readonly certificateId: string;
}

export async function deviceCertificate(
  f: Fixture,
  issuer: CaHierarchyMember,
  subject: string,
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<DeviceCert> {
  const keys = await generateKeyPair('EC-P256');
  const pem = await issueCertificate({
    issuer,
    subject,
    subjectPublicKeyPem: keys.publicKeyPem,
    notBefore: validity.notBefore ?? new Date(f.clock.ms - 60_000),
    notAfter: validity.notAfter ?? new Date(f.clock.ms + 365 * DAY),
    isCa: false,
    keyUsage: ['digitalSignature'],
  });
  const parsed = parseCertificatePem(pem);
  return { pem, der: parsed.der, certificateId: parsed.certificateId };
}

/** A device certificate signed by a registered CA and registered ACTIVE (DEFAULT mode: the CA's). */
export async function registeredDevice(f: Fixture, scope: Scope, issuer: CaHierarchyMember, subject: string): Promise<{ device: DeviceCert; record: Certificate }> {
  const device = await deviceCertificate(f, issuer, subject);
  const record = await registerCertificate(f.deps, scope, { certificatePem: device.pem, setAsActive: true });
  return { device, record };
}

export async function sniOnlyDevice(f: Fixture, scopes: readonly Scope[], issuer: CaHierarchyMember, subject: string): Promise<DeviceCert> {
  const device = await deviceCertificate(f, issuer, subject);
  for (const scope of scopes) await registerCertificateWithoutCa(f.deps, scope, { certificatePem: device.pem, status: 'ACTIVE' });
  return device;
}

export function peer(certificateDer: Uint8Array | undefined, serverName: string | undefined, extra: Partial<ConnectionPeer> = {}): ConnectionPeer {
  return {
    certificateDer,
    chainDer: [],
    serverName,
    remoteAddress: '127.0.0.1',
    remotePort: 50000,
    listener: 'mqtt',
    ...extra,
  };
}

/** The real store; the next call of `method` returns its real result only once released. */
export function gatedStore(inner: RegistryStore, method: keyof RegistryStore) {
  let armed = false;
  let read!: () => void;
  let release!: () => void;
  const hasRead = new Promise<void>((r) => (read = r));
  const gate = new Promise<void>((r) => (release = r));
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        const result: unknown = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (armed && prop === method) {
          armed = false;
          read();
          await gate;
        }
        return result;
      };
    },
  });
  return { store, arm: () => (armed = true), hasRead, release };
}
