import { certificateState, certificateValidation, iotArn, resourceAlreadyExists } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import { checkCertificateAcceptable, checkDeviceCertificate, parseCertificatePem, validateCertificatePath } from '../../pki/index.js';
import type { ParsedCertificate } from '../../pki/index.js';
import type { Certificate, CertificateMode } from '../entities.js';
import type { RegistryStore } from '../ports.js';
import type { RegistryDeps } from '../registry-deps.js';
import { initialStatus } from './certificate-status-rules.js';
import { findIssuingCa } from './find-issuing-ca.js';
import { newCertificateRecord } from './new-certificate-record.js';

export interface RegisterCertificateInput {
  readonly certificatePem: string;
  readonly caCertificatePem?: string | undefined;
  readonly status?: string | undefined;
  readonly setAsActive?: boolean | undefined;
}

/** RegisterCertificate: a device certificate signed by a CA registered and ACTIVE in this account. */
export async function registerCertificate(deps: RegistryDeps, scope: Scope, input: RegisterCertificateInput): Promise<Certificate> {
  const device = parseCertificatePem(input.certificatePem);
  const now = deps.clock.now();
  checkCertificateAcceptable(device, now);
  const status = initialStatus(input.status, input.setAsActive);
  return deps.store.transaction(async (tx) => {
    const { ca, parsed } = await findIssuingCa(tx, scope, device, input.caCertificatePem);
    // issue 10 #5, #6: a TLS client certificate whose RFC 5280 path to the registered CA validates.
    const path = await validateCertificatePath({ device, trustAnchor: parsed, now });
    if (!path.valid) throw certificateValidation(`The certificate cannot be registered: ${path.reason}`);
    if (ca.status !== 'ACTIVE') {
      throw certificateState(`The CA certificate ${ca.certificateId} is INACTIVE; activate it before registering certificates it signed`);
    }
    return insertRegistration(tx, scope, device, {
      status,
      caCertificateId: ca.certificateId,
      certificateMode: ca.certificateMode,
      now,
    });
  }).then((cert) => announced(deps, cert));
}

/** RegisterCertificateWithoutCA: SNI_ONLY mode, usable in several accounts (multi-account registration). */
export async function registerCertificateWithoutCa(
  deps: RegistryDeps,
  scope: Scope,
  input: { certificatePem: string; status?: string | undefined },
): Promise<Certificate> {
  const device = parseCertificatePem(input.certificatePem);
  const now = deps.clock.now();
  checkCertificateAcceptable(device, now);
  // issue 10 #5, #6: no chain to validate, but the certificate's own rules as a TLS client certificate.
  const own = checkDeviceCertificate(device);
  if (!own.valid) throw certificateValidation(`The certificate cannot be registered: ${own.reason}`);
  const status = initialStatus(input.status, undefined);
  const cert = await deps.store.transaction((tx) =>
    insertRegistration(tx, scope, device, { status, caCertificateId: null, certificateMode: 'SNI_ONLY', now }),
  );
  return announced(deps, cert);
}

/**
 * A new registration changes which account a device without SNI is placed in (issue 10 #7: the DEFAULT one,
 * beside SNI_ONLY ones): announced as a status change (from unregistered), so data-plane caches of the
 * certificate id are dropped at once.
 */
async function announced(deps: RegistryDeps, cert: Certificate): Promise<Certificate> {
  await deps.events.emit({ type: 'certificate-status-changed', scope: cert.scope, certificateId: cert.certificateId, status: cert.status });
  return cert;
}

async function insertRegistration(
  tx: RegistryStore,
  scope: Scope,
  device: ParsedCertificate,
  opts: { status: Certificate['status']; caCertificateId: string | null; certificateMode: CertificateMode; now: Date },
): Promise<Certificate> {
  const arn = iotArn(scope, 'cert', device.certificateId);
  if (await tx.getCertificate(scope, device.certificateId)) {
    throw resourceAlreadyExists('The certificate is already registered in this account', device.certificateId, arn);
  }
  // Issue 10 #7, AWS's rule for CAs applied to device certificates: DEFAULT mode is unique per region (that
  // is how a device without SNI is placed); SNI_ONLY registrations (no proof of possession) may be many, and
  // never block the DEFAULT one, before or after it.
  if (opts.certificateMode === 'DEFAULT' && (await tx.findCertificatesInRegion(scope.region, device.certificateId)).some((c) => c.certificateMode === 'DEFAULT')) {
    throw resourceAlreadyExists(
      'The certificate is already registered in DEFAULT mode by another account in this region; a certificate can be registered in DEFAULT mode in one account per region (SNI_ONLY registrations, by RegisterCertificateWithoutCA or under a CA in SNI_ONLY mode, in several)',
      device.certificateId,
      arn,
    );
  }
  const cert = newCertificateRecord(scope, device, opts);
  await tx.insertCertificate(cert);
  return cert;
}

/**
 * Just-in-time registration (provisioning.md JITR/JITP): the device certificate, already checked against
 * `ca` (signature, validity) by the caller, registered PENDING_ACTIVATION under that CA, in its mode.
 * The CA must still be ACTIVE with auto-registration ENABLE (re-read here, inside the caller's transaction).
 * Uniqueness rules as RegisterCertificate (ResourceAlreadyExists when registered already).
 */
export async function registerCertificateJustInTime(
  store: RegistryStore,
  scope: Scope,
  device: ParsedCertificate,
  caCertificateId: string,
  now: Date,
): Promise<Certificate> {
  const ca = await store.getCaCertificate(scope, caCertificateId);
  if (!ca) throw certificateState(`The CA certificate ${caCertificateId} is no longer registered in this account and region`);
  if (ca.status !== 'ACTIVE') throw certificateState(`The CA certificate ${caCertificateId} is ${ca.status}; auto-registration needs an ACTIVE CA`);
  if (ca.autoRegistrationStatus !== 'ENABLE') throw certificateState(`The CA certificate ${caCertificateId} has auto-registration DISABLE`);
  if (now.getTime() > ca.notAfter.getTime() || now.getTime() < ca.notBefore.getTime()) {
    throw certificateState(`The CA certificate ${caCertificateId} is outside its validity period (${ca.notBefore.toISOString()} to ${ca.notAfter.toISOString()})`);
  }
  return insertRegistration(store, scope, device, { status: 'PENDING_ACTIVATION', caCertificateId, certificateMode: ca.certificateMode, now });
}
