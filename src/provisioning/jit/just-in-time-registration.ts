import type {
  AdmissionResult,
  ConnectFollowUp,
  FollowUpOutcome,
  PendingActivationHandler,
  ServiceMessage,
  UnknownCertificateHandler,
} from '../../access/index.js';
import { isIotError } from '../../kernel/index.js';
import type { Clock, Logger, Scope } from '../../kernel/index.js';
import { checkCertificateAcceptable, parseCertificatePem, validateCertificatePath } from '../../pki/index.js';
import type { ParsedCertificate } from '../../pki/index.js';
import { registerCertificateJustInTime } from '../../registry/index.js';
import type { CaCertificate, Certificate, RegistryStore } from '../../registry/index.js';
import { EventCoalescer } from './event-coalescer.js';
import { findAutoRegistrationCa } from './find-auto-registration-ca.js';
import { registeredEvent } from './registered-event.js';

/**
 * JITP: runs the CA's provisioning template for a certificate just registered PENDING_ACTIVATION, inside the
 * registration's transaction (`tx`), so that a failing template leaves nothing behind. Throws IotError.
 * The registry events of what the template did are held: `announce()` them once `tx` has committed.
 */
export type JitpProvisioner = (
  tx: RegistryStore,
  input: { readonly scope: Scope; readonly ca: CaCertificate; readonly certificate: Certificate; readonly device: ParsedCertificate },
) => Promise<{
  readonly thingName: string | undefined;
  readonly certificateStatus: string;
  readonly policyNames: readonly string[];
  announce(): Promise<void>;
}>;

export interface JustInTimeDeps {
  readonly store: RegistryStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** JITP for CAs with a registrationConfig; without it such CAs register (JITR) only. */
  readonly provision?: JitpProvisioner | undefined;
  /** One registered event per certificate per window (EventCoalescer); default 5 s. */
  readonly eventWindowMs?: number;
}

export interface JustInTimeRegistration {
  readonly onUnknownCertificate: UnknownCertificateHandler;
  readonly onPendingActivation: PendingActivationHandler;
}

export const DEFAULT_EVENT_WINDOW_MS = 5_000;

type Refusal = Extract<AdmissionResult, { admitted: false }>;
const where = (scope: Scope): string => `account ${scope.accountId} (${scope.region})`;
const keyOf = (scope: Scope, certificateId: string): string => `${scope.accountId}|${scope.region}|${certificateId}`;
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** Why the CA is outside its validity period at `now` (path validation would reject it), or undefined. */
function caValidity(ca: CaCertificate, now: Date): string | undefined {
  if (now.getTime() > ca.notAfter.getTime()) return `expired at ${ca.notAfter.toISOString()}`;
  if (now.getTime() < ca.notBefore.getTime()) return `is not valid before ${ca.notBefore.toISOString()}`;
  return undefined;
}
/** Why the device certificate's path to `ca` does not validate at `now` (RFC 5280), or undefined when it does. */
async function pathRefusal(device: ParsedCertificate, ca: CaCertificate, now: Date): Promise<string | undefined> {
  try {
    const path = await validateCertificatePath({ device, trustAnchor: parseCertificatePem(ca.certificatePem), now });
    return path.valid ? undefined : path.reason;
  } catch (e) {
    return `path validation failed: ${messageOf(e)}`;
  }
}
const usesJitp = (ca: CaCertificate): boolean =>
  ca.registrationConfig !== null && (ca.registrationConfig.templateBody !== undefined || ca.registrationConfig.templateName !== undefined);

/**
 * Just-in-time registration and provisioning on the data plane (provisioning.md JITR/JITP;
 * aws-reference.md §2). Admission (no writes) decides whether an unknown certificate can be registered —
 * issuer CA found and registered, ACTIVE, auto-registration ENABLE, signature and validity — and refuses it
 * either way; the registration itself is a follow-up that runs when the MQTT CONNECT arrives (a bare TLS
 * handshake registers nothing): PENDING_ACTIVATION under the CA (its mode), then for JITP the CA's template,
 * all in one transaction; then the registered event. Concurrent CONNECTs with one certificate share one
 * registration (single flight) and events are coalesced per certificate (EventCoalescer).
 */
export function createJustInTimeRegistration(deps: JustInTimeDeps): JustInTimeRegistration {
  const coalescer = new EventCoalescer(deps.eventWindowMs ?? DEFAULT_EVENT_WINDOW_MS);
  const inFlight = new Map<string, Promise<FollowUpOutcome>>();

  const refuse = (reason: string, scope: Scope | undefined, certificateId: string, region: string, refusal: Refusal['refusal'] = 'UNKNOWN_CERTIFICATE'): Refusal => ({
    admitted: false,
    refusal,
    reason,
    certificateId,
    region: scope?.region ?? region,
    ...(scope !== undefined ? { accountId: scope.accountId } : {}),
  });

  /** The event for a certificate presented while PENDING_ACTIVATION, unless its CA no longer auto-registers or it is coalesced. */
  async function republish(cert: Certificate, caCertificateId: string): Promise<FollowUpOutcome> {
    const id = cert.certificateId;
    const ca = await deps.store.getCaCertificate(cert.scope, caCertificateId);
    if (!ca || ca.status !== 'ACTIVE' || ca.autoRegistrationStatus !== 'ENABLE') {
      const state = !ca ? 'is no longer registered' : ca.status !== 'ACTIVE' ? `is ${ca.status}` : 'has auto-registration DISABLE';
      return { reasons: [`JITR: certificate ${id} is PENDING_ACTIVATION; its CA ${caCertificateId} ${state}, so no registered event is published`], messages: [] };
    }
    const now = deps.clock.now();
    if (!coalescer.claim(keyOf(cert.scope, id), now.getTime())) {
      return { reasons: [`JITR: certificate ${id} is still PENDING_ACTIVATION; the registered event published for it moments ago stands for this connection too`], messages: [] };
    }
    return {
      reasons: [`JITR: certificate ${id} is still PENDING_ACTIVATION in ${where(cert.scope)}; registered event published again on $aws/events/certificates/registered/${caCertificateId}`],
      messages: [registeredEvent({ ...cert, caCertificateId }, now)],
    };
  }

  async function register(scope: Scope, device: ParsedCertificate, caCertificateId: string): Promise<FollowUpOutcome> {
    const id = device.certificateId;
    const now = deps.clock.now();
    try {
      const done = await deps.store.transaction(async (tx) => {
        const certificate = await registerCertificateJustInTime(tx, scope, device, caCertificateId, now);
        const ca = await tx.getCaCertificate(scope, caCertificateId);
        if (ca !== undefined && usesJitp(ca) && deps.provision !== undefined) {
          return { certificate, provisioned: await deps.provision(tx, { scope, ca, certificate, device }) };
        }
        return { certificate, provisioned: undefined };
      });
      // Committed: now the data plane may hear of what the template changed (its caches refresh on these).
      await done.provisioned?.announce();
      const messages: ServiceMessage[] = [];
      if (coalescer.claim(keyOf(scope, id), deps.clock.now().getTime())) {
        messages.push(registeredEvent({ ...done.certificate, caCertificateId }, deps.clock.now()));
      }
      const p = done.provisioned;
      const reasons = [
        `JITR: certificate ${id} registered PENDING_ACTIVATION under CA ${caCertificateId} in ${where(scope)}; registered event published; the device connects once the certificate is ACTIVE`,
      ];
      if (p !== undefined) {
        reasons.push(
          `JITP: template of CA ${caCertificateId} applied: thing ${p.thingName ?? '(none)'}, policies [${p.policyNames.join(', ')}], certificate ${p.certificateStatus}; the device connects on its next attempt`,
        );
      }
      const provisioned = p === undefined ? undefined : { thingName: p.thingName, certificateStatus: p.certificateStatus, policyNames: p.policyNames };
      deps.logger.info({ certificateId: id, caCertificateId, accountId: scope.accountId, region: scope.region, provisioned }, 'jit: certificate registered');
      return { reasons, messages, caCertificateId };
    } catch (e) {
      if (isIotError(e) && e.code === 'ResourceAlreadyExistsException') {
        // Another connection registered it first (or it was registered meanwhile): a presentation of a known certificate.
        const existing = await deps.store.getCertificate(scope, id);
        if (existing?.status === 'PENDING_ACTIVATION' && existing.caCertificateId !== null && existing.scope.accountId === scope.accountId) {
          return republish(existing, existing.caCertificateId);
        }
        return { reasons: [`JITR: certificate ${id} was registered meanwhile (${existing?.status ?? 'in another account'}); nothing done`], messages: [] };
      }
      const why = messageOf(e);
      deps.logger.warn({ certificateId: id, caCertificateId, accountId: scope.accountId, region: scope.region, err: why }, 'jit: just-in-time registration failed; nothing registered');
      return { reasons: [`just-in-time registration of certificate ${id} under CA ${caCertificateId} in ${where(scope)} failed, nothing was registered: ${why}`], messages: [], caCertificateId };
    }
  }

  /** Single flight per certificate: concurrent CONNECTs join the registration in progress. */
  function registerOnce(scope: Scope, device: ParsedCertificate, caCertificateId: string): Promise<FollowUpOutcome> {
    const key = keyOf(scope, device.certificateId);
    const running = inFlight.get(key);
    if (running !== undefined) {
      return running.then((leader) => ({
        reasons: [`JITR: certificate ${device.certificateId} was being registered by a concurrent connection; this one shares its outcome and event:`, ...leader.reasons],
        messages: [],
      }));
    }
    const started = register(scope, device, caCertificateId).finally(() => inFlight.delete(key));
    inFlight.set(key, started);
    return started;
  }

  const onUnknownCertificate: UnknownCertificateHandler = async ({ certificate: device, chainDer, scope, region }) => {
    const id = device.certificateId;
    const now = deps.clock.now();
    try {
      checkCertificateAcceptable(device, now);
    } catch (e) {
      const kind = now.getTime() > device.notAfter.getTime() ? 'CERTIFICATE_EXPIRED' : now.getTime() < device.notBefore.getTime() ? 'CERTIFICATE_NOT_YET_VALID' : 'UNKNOWN_CERTIFICATE';
      return refuse(`certificate ${id} is not registered and cannot be registered just in time: ${messageOf(e)}`, scope, id, region, kind);
    }
    const search = await findAutoRegistrationCa(deps.store, { device, chainDer, scope, region, now });
    const notHere = scope !== undefined ? `is not registered in ${where(scope)}` : `is not registered in any account in ${region}`;
    if (!search.ok) return refuse(`certificate ${id} ${notHere}, and just-in-time registration is not possible: ${search.reason}`, scope, id, region);
    const ca = search.ca;
    if (ca.status !== 'ACTIVE') {
      return refuse(`certificate ${id} ${notHere}; its issuer CA ${ca.certificateId} in ${where(ca.scope)} is ${ca.status}, so it is not registered just in time`, ca.scope, id, region);
    }
    if (ca.autoRegistrationStatus !== 'ENABLE') {
      return refuse(
        `certificate ${id} ${notHere}; its issuer CA ${ca.certificateId} in ${where(ca.scope)} has auto-registration DISABLE (UpdateCACertificate --new-auto-registration-status ENABLE turns just-in-time registration on)`,
        ca.scope,
        id,
        region,
      );
    }
    const caDates = caValidity(ca, now);
    if (caDates !== undefined) {
      return refuse(`certificate ${id} ${notHere}; its issuer CA ${ca.certificateId} in ${where(ca.scope)} ${caDates}, so it is not registered just in time`, ca.scope, id, region);
    }
    const flow = usesJitp(ca) && deps.provision !== undefined ? 'JITP' : 'JITR';
    // issue 10 #5, #6: only a TLS client certificate whose RFC 5280 path to the CA validates is registered.
    const invalid = await pathRefusal(device, ca, now);
    if (invalid !== undefined) {
      const reason = `certificate ${id} ${notHere}; ${flow} under its issuer CA ${ca.certificateId} in ${where(ca.scope)} refused it, nothing is registered: ${invalid}`;
      // Filed under the CA too once the CONNECT arrives, as the outcomes of registrations are (`certgate why <caCertificateId>`).
      const explain: ConnectFollowUp = () => Promise.resolve({ reasons: [reason], messages: [], caCertificateId: ca.certificateId });
      return { ...refuse(reason, ca.scope, id, region), onConnect: explain };
    }
    const onConnect: ConnectFollowUp = () =>
      registerOnce(ca.scope, device, ca.certificateId).catch((e: unknown) => ({ reasons: [`just-in-time registration of certificate ${id} failed: ${messageOf(e)}`], messages: [] }));
    return {
      ...refuse(
        `certificate ${id} ${notHere}; its issuer CA ${ca.certificateId} (found in the ${search.foundBy === 'chain' ? 'TLS chain' : 'registry by issuer and key id'}) has auto-registration ENABLE: ${flow} registers it PENDING_ACTIVATION when the MQTT CONNECT arrives, and the connection is closed`,
        ca.scope,
        id,
        region,
      ),
      onConnect,
    };
  };

  const onPendingActivation: PendingActivationHandler = (cert) => {
    const caCertificateId = cert.caCertificateId;
    if (caCertificateId === null) return undefined;
    return () => republish(cert, caCertificateId).catch((e: unknown) => ({ reasons: [`JITR: re-publishing the registered event failed: ${messageOf(e)}`], messages: [] }));
  };

  return { onUnknownCertificate, onPendingActivation };
}
