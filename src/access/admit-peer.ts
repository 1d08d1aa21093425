import { iotArn } from '../kernel/index.js';
import type { Clock, Logger, Scope } from '../kernel/index.js';
import type { Account, Certificate } from '../registry/index.js';
import type { AdmissionRefusal, AdmissionResult, ConnectionPeer } from './device-access.js';
import { certificateIdOf, parsePeerCertificate } from './peer-certificate.js';
import type { PeerCertificateCache } from './peer-certificate.js';
import type { RegistryLookups } from './registry-lookups.js';
import { routeServerName } from './server-name.js';
import { refuseUnknownCertificate } from './unknown-certificate.js';
import type { PendingActivationHandler, UnknownCertificateHandler } from './unknown-certificate.js';

export interface AdmissionDeps {
  readonly lookups: RegistryLookups;
  readonly certificates: PeerCertificateCache;
  readonly clock: Clock;
  readonly domain: string;
  readonly defaultRegion: string;
  readonly requireSni: boolean;
  /** Regions this server serves (--region plus --extra-regions); an SNI naming another is refused. Absent = any. */
  readonly servedRegions?: readonly string[] | undefined;
  readonly onUnknownCertificate: UnknownCertificateHandler;
  /** JITR: a certificate still PENDING_ACTIVATION was presented (its registered event is published again). */
  readonly onPendingActivation?: PendingActivationHandler | undefined;
  readonly logger: Logger;
}

export const SNI_ONLY_WITHOUT_SNI = 'multi-account (SNI_ONLY) certificate needs the account endpoint as SNI';

const where = (scope: Scope): string => `account ${scope.accountId} (${scope.region})`;

function refuse(
  refusal: AdmissionRefusal,
  reason: string,
  about: { certificateId?: string | undefined; scope?: Scope | undefined; region?: string | undefined } = {},
): Extract<AdmissionResult, { admitted: false }> {
  const region = about.scope?.region ?? about.region;
  return {
    admitted: false,
    refusal,
    reason,
    ...(about.certificateId !== undefined ? { certificateId: about.certificateId } : {}),
    ...(about.scope !== undefined ? { accountId: about.scope.accountId } : {}),
    ...(region !== undefined ? { region } : {}),
  };
}

/**
 * Admission (data-plane.md "Authenticating the device"), before any MQTT state exists:
 * certificate present and parseable → placed in an account by SNI or by its DEFAULT-mode registration →
 * ACTIVE → within validity → (strict CA mode) its CA ACTIVE. Every refusal names the certificate id,
 * the account and region when known, and the rule.
 */
export async function admitPeer(deps: AdmissionDeps, peer: ConnectionPeer): Promise<AdmissionResult> {
  // A registry event handled while this admission was reading (e.g. UpdateCertificate REVOKED) may have
  // made its answer stale; main/ disconnects only connections admitted before the event, so an admission
  // that raced with one is re-run rather than let through. Bounded: under a storm of events the last
  // attempt's answer stands.
  let result: AdmissionResult | undefined;
  for (let attempt = 0; attempt < MAX_ADMISSION_ATTEMPTS; attempt++) {
    const epoch = deps.lookups.epoch;
    result = await admitOnce(deps, peer);
    if (deps.lookups.epoch === epoch) return result;
  }
  return result!;
}

/** Admission re-runs at most this many times when registry events keep invalidating its reads. */
export const MAX_ADMISSION_ATTEMPTS = 4;

async function admitOnce(deps: AdmissionDeps, peer: ConnectionPeer): Promise<AdmissionResult> {
  if (peer.certificateDer === undefined || peer.certificateDer.byteLength === 0) {
    return refuse('NO_CERTIFICATE', `the client presented no certificate (mutual TLS requires one) from ${peer.remoteAddress}`);
  }
  // The fingerprint is cheap and names the device in every refusal below, before anything is parsed.
  const certificateId = certificateIdOf(peer.certificateDer);
  const route = routeServerName(peer.serverName, deps.domain);
  if (route.kind === 'foreign') {
    return refuse('UNKNOWN_ENDPOINT', `certificate ${certificateId}: SNI ${JSON.stringify(route.host)} is not a certgate data endpoint (expected <prefix>-ats.iot.<region>.${deps.domain})`, {
      certificateId,
      scope: await owner(deps, deps.defaultRegion, certificateId),
    });
  }
  if (route.kind === 'endpoint' && deps.servedRegions !== undefined && !deps.servedRegions.includes(route.region)) {
    return refuse('UNKNOWN_ENDPOINT', `certificate ${certificateId}: SNI ${JSON.stringify(route.host)} names region ${route.region}, which this server does not serve (served: ${deps.servedRegions.join(', ')})`, {
      certificateId,
    });
  }
  if (route.kind === 'none' && deps.requireSni) {
    const sent = route.host === undefined ? 'no SNI was sent' : `SNI ${JSON.stringify(route.host)} is not an account endpoint`;
    return refuse('SNI_REQUIRED', `certificate ${certificateId}: ${sent}; this server requires the account's data endpoint as SNI (--require-sni)`, {
      certificateId,
      region: deps.defaultRegion,
      scope: await owner(deps, deps.defaultRegion, certificateId),
    });
  }

  let cert: Certificate;
  let account: Account | undefined;
  if (route.kind === 'endpoint') {
    account = await deps.lookups.accountByEndpointPrefix(route.endpointPrefix);
    if (!account) {
      return refuse('UNKNOWN_ENDPOINT', `certificate ${certificateId}: SNI ${JSON.stringify(route.host)}: no account has the endpoint prefix ${route.endpointPrefix} (${route.region})`, {
        certificateId,
        region: route.region,
        scope: await owner(deps, route.region, certificateId),
      });
    }
    const scope: Scope = { accountId: account.accountId, region: route.region };
    const found = await deps.lookups.certificateInScope(scope, certificateId);
    if (!found) return unknown(deps, peer, certificateId, scope, route.region, `certificate ${certificateId} is not registered in ${where(scope)} (selected by SNI ${route.host})`);
    cert = found;
  } else {
    const region = deps.defaultRegion;
    const registrations = await deps.lookups.certificatesInRegion(region, certificateId);
    const only = registrations[0];
    if (only === undefined) {
      return unknown(deps, peer, certificateId, undefined, region, `certificate ${certificateId} is not registered in any account in ${region} (no SNI: looked up by fingerprint in the default region)`);
    }
    // Issue 10 #7: DEFAULT mode is unique per region and places the device; SNI_ONLY registrations (no proof
    // of possession) in other accounts never take its place. Registered SNI_ONLY only: JITR may still register
    // it under its issuer's DEFAULT CA; otherwise SNI is needed.
    const proven = registrations.filter((r) => r.certificateMode === 'DEFAULT');
    if (proven.length === 0 && deps.onUnknownCertificate !== refuseUnknownCertificate) {
      const jit = await unknown(deps, peer, certificateId, undefined, region, `certificate ${certificateId} is registered only in SNI_ONLY mode in ${region}`);
      if (!jit.admitted && jit.onConnect !== undefined) return jit;
    }
    if (proven.length === 0) {
      // A refusal names only the account it is filed under (issue 10 #14): with one registration, that account;
      // with several, none (the record is then the operator's, and says how many, never which).
      const placed = registrations.length === 1 ? only.scope : undefined;
      const registered = placed !== undefined ? `in SNI_ONLY mode in ${where(placed)}` : `in ${registrations.length} accounts in ${region} (SNI_ONLY mode)`;
      return refuse('SNI_REQUIRED', `${SNI_ONLY_WITHOUT_SNI}: certificate ${certificateId} is registered ${registered}`, { certificateId, region, scope: placed });
    }
    if (proven.length > 1) {
      return refuse('SNI_REQUIRED', `certificate ${certificateId} is registered in ${proven.length} accounts in ${region}; the account endpoint is needed as SNI to choose`, {
        certificateId,
        region,
      });
    }
    cert = proven[0]!;
  }

  // Parsed (once per fingerprint, cached) only now that the registry knows it: an unknown certificate
  // never enters the cache, so a flood of self-signed certificates cannot fill it.
  const read = deps.certificates.read(peer.certificateDer, certificateId);
  if (!read.ok) {
    return refuse('MALFORMED_CERTIFICATE', `the presented certificate (SHA-256 ${certificateId}) cannot be parsed: ${read.why}`, { certificateId });
  }
  const presented = read.certificate;
  const scope = cert.scope;
  const about = { certificateId, scope };
  if (cert.status !== 'ACTIVE') {
    const refused = refuse('CERTIFICATE_NOT_ACTIVE', `certificate ${certificateId} is ${cert.status} in ${where(scope)}; only ACTIVE certificates may connect`, about);
    const onConnect = cert.status === 'PENDING_ACTIVATION' ? deps.onPendingActivation?.(cert) : undefined;
    return onConnect === undefined ? refused : { ...refused, onConnect };
  }
  const now = deps.clock.now();
  const { notBefore, notAfter } = presented;
  if (now.getTime() > notAfter.getTime()) {
    return refuse('CERTIFICATE_EXPIRED', `certificate ${certificateId} in ${where(scope)} expired at ${notAfter.toISOString()} (now ${now.toISOString()})`, about);
  }
  if (now.getTime() < notBefore.getTime()) {
    return refuse('CERTIFICATE_NOT_YET_VALID', `certificate ${certificateId} in ${where(scope)} is not valid before ${notBefore.toISOString()} (now ${now.toISOString()})`, about);
  }
  if (cert.caCertificateId !== null) {
    account ??= await deps.lookups.accountById(scope.accountId);
    if (account?.strictCaMode) {
      const ca = await deps.lookups.caCertificate(scope, cert.caCertificateId);
      if (!ca || ca.status !== 'ACTIVE') {
        const state = ca ? `is ${ca.status}` : 'is no longer registered';
        return refuse('CA_NOT_ACTIVE', `certificate ${certificateId} in ${where(scope)} was registered under CA ${cert.caCertificateId}, which ${state}; the account is in strict CA mode`, about);
      }
    }
  }
  return {
    admitted: true,
    principal: {
      scope,
      certificateId,
      certificateArn: iotArn(scope, 'cert', certificateId),
      certificateValues: presented.certificateValues,
    },
  };
}

/**
 * The account a refusal that happened before placement (unknown endpoint, SNI required) is filed under: the one
 * holding the certificate's DEFAULT-mode registration in the region — unique per region, and the account a
 * connection without SNI would be placed in. undefined (the operator's record) when there is none.
 */
async function owner(deps: AdmissionDeps, region: string, certificateId: string): Promise<Scope | undefined> {
  const registrations = await deps.lookups.certificatesInRegion(region, certificateId);
  const defaults = registrations.filter((r) => r.certificateMode === 'DEFAULT');
  return defaults.length === 1 ? defaults[0]!.scope : undefined;
}

async function unknown(
  deps: AdmissionDeps,
  peer: ConnectionPeer,
  certificateId: string,
  scope: Scope | undefined,
  region: string,
  initialReason: string,
): Promise<AdmissionResult> {
  // Parsed here without caching: malformed input is told apart from an unregistered certificate, and
  // the JITR hook gets the full parse (issuer, AKI …).
  const full = parsePeerCertificate(peer.certificateDer ?? new Uint8Array(0), certificateId);
  if (!full.ok) {
    return refuse('MALFORMED_CERTIFICATE', `the presented certificate (SHA-256 ${certificateId}) cannot be parsed: ${full.why}`, { certificateId });
  }
  let reason = initialReason;
  let decided: AdmissionResult | undefined;
  // Without a provisioning hook an unknown certificate is refused at once.
  if (deps.onUnknownCertificate === refuseUnknownCertificate) {
    return refuse('UNKNOWN_CERTIFICATE', reason, { certificateId, scope, region });
  }
  try {
    decided = await deps.onUnknownCertificate({ certificate: full.parsed, chainDer: peer.chainDer, scope, region, peer });
  } catch (e) {
    // A failing provisioning hook refuses this device; it must not take admission down with it.
    deps.logger.error({ err: e, certificateId }, 'access: unknown-certificate handler failed');
    reason = `${reason}; just-in-time registration failed`;
  }
  return decided ?? refuse('UNKNOWN_CERTIFICATE', reason, { certificateId, scope, region });
}
