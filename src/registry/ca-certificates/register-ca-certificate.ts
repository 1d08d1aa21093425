import {
  certificateValidation,
  invalidRequest,
  iotArn,
  limitExceeded,
  newGenerationId,
  registrationCodeValidation,
  resourceAlreadyExists,
} from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import { checkCaCertificate, checkCertificateAcceptable, checkVerificationCertificate, parseCertificatePem } from '../../pki/index.js';
import type { CaCertificate, CertificateMode, RegistrationConfig } from '../entities.js';
import type { RegistryDeps } from '../registry-deps.js';
import { checkRegistrationConfigTemplate } from '../provisioning-templates/check-registration-config.js';

export interface RegisterCaCertificateInput {
  readonly caCertificate: string;
  readonly verificationCertificate?: string | undefined;
  readonly setAsActive?: boolean | undefined;
  readonly allowAutoRegistration?: boolean | undefined;
  readonly registrationConfig?: RegistrationConfig | undefined;
  readonly certificateMode?: CertificateMode | undefined;
}

/** At most this many CAs with the same subject per account and region (AWS quota). */
export const MAX_CAS_WITH_SAME_SUBJECT = 10;

/**
 * RegisterCACertificate. DEFAULT mode: proof of possession (a verification certificate whose CN is the
 * account's registration code, signed by the CA's key); unique per region. SNI_ONLY: no verification
 * certificate, may be registered in several accounts. In both modes the CA certificate itself must be
 * acceptable (algorithm, key, validity) and obey the CA rules of pki's checkCaCertificate.
 */
export async function registerCaCertificate(deps: RegistryDeps, scope: Scope, input: RegisterCaCertificateInput): Promise<CaCertificate> {
  const mode: CertificateMode = input.certificateMode ?? 'DEFAULT';
  const ca = parseCertificatePem(input.caCertificate);
  const now = deps.clock.now();
  checkCertificateAcceptable(ca, now);
  // The CA's own extensions (CA:TRUE, keyCertSign, pathLenConstraint, critical extensions), in both modes:
  // a CA no device path could validate through is refused now, not at each of its devices.
  const own = checkCaCertificate(ca);
  if (!own.valid) throw certificateValidation(`The CA certificate cannot be registered: ${own.reason}`);
  if (mode === 'SNI_ONLY' && input.verificationCertificate) {
    throw invalidRequest('A verification certificate must not be given when certificateMode is SNI_ONLY');
  }
  if (mode === 'DEFAULT' && !input.verificationCertificate) {
    throw invalidRequest('A verification certificate is required when certificateMode is DEFAULT');
  }
  const verification = input.verificationCertificate ? parseCertificatePem(input.verificationCertificate) : undefined;

  return deps.store.transaction(async (tx) => {
    await checkRegistrationConfigTemplate(tx, scope, input.registrationConfig);
    if (verification) {
      const code = await tx.getRegistrationCode(scope);
      if (!code) throw registrationCodeValidation('There is no registration code for this account; call GetRegistrationCode first');
      checkVerificationCertificate(verification, ca, code, now);
    }
    const arn = iotArn(scope, 'cacert', ca.certificateId);
    if (await tx.getCaCertificate(scope, ca.certificateId)) {
      throw resourceAlreadyExists('The CA certificate is already registered in this account', ca.certificateId, arn);
    }
    // AWS: DEFAULT mode in one account per region, SNI_ONLY in several. Issue 10 #7: an SNI_ONLY registration
    // (no proof of possession) never blocks the DEFAULT one of the account that proves possession.
    if (mode === 'DEFAULT' && (await tx.findCaCertificatesInRegion(scope.region, ca.certificateId)).some((c) => c.certificateMode === 'DEFAULT')) {
      throw resourceAlreadyExists(
        'The CA certificate is already registered in DEFAULT mode by another account in this region; a CA in DEFAULT mode can be registered in one account per region (use certificateMode SNI_ONLY for several)',
        ca.certificateId,
        arn,
      );
    }
    if ((await tx.findCaCertificatesBySubject(scope, ca.subject)).length >= MAX_CAS_WITH_SAME_SUBJECT) {
      throw limitExceeded(`At most ${MAX_CAS_WITH_SAME_SUBJECT} CA certificates with the same subject can be registered`);
    }
    const record: CaCertificate = {
      scope,
      certificateId: ca.certificateId,
      certificatePem: ca.pem,
      status: input.setAsActive ? 'ACTIVE' : 'INACTIVE',
      autoRegistrationStatus: input.allowAutoRegistration ? 'ENABLE' : 'DISABLE',
      certificateMode: mode,
      registrationConfig: input.registrationConfig ?? null,
      ownedBy: scope.accountId,
      subject: ca.subject,
      subjectKeyId: ca.subjectKeyId,
      creationDate: now,
      lastModifiedDate: now,
      customerVersion: 1,
      generationId: newGenerationId(),
      notBefore: ca.notBefore,
      notAfter: ca.notAfter,
    };
    await tx.insertCaCertificate(record);
    return record;
  });
}
