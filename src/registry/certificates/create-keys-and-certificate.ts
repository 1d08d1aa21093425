import { createKeysAndCertificate as issueKeysAndCertificate, parseCertificatePem } from '../../pki/index.js';
import type { Scope } from '../../kernel/index.js';
import type { Certificate } from '../entities.js';
import type { RegistryDeps } from '../registry-deps.js';
import { newCertificateRecord } from './new-certificate-record.js';

export interface CreatedKeysAndCertificate {
  readonly certificate: Certificate;
  /** Returned once; never stored. */
  readonly keyPair: { readonly PublicKey: string; readonly PrivateKey: string };
}

/** CreateKeysAndCertificate: RSA 2048 key pair + a certificate from certgate's device-issuing CA. */
export async function createKeysAndCertificate(
  deps: RegistryDeps,
  scope: Scope,
  input: { setAsActive?: boolean | undefined; pendingActivation?: boolean | undefined },
): Promise<CreatedKeysAndCertificate> {
  const now = deps.clock.now();
  const issued = await issueKeysAndCertificate(deps.deviceIssuer, now);
  const parsed = parseCertificatePem(issued.certificatePem);
  const certificate = newCertificateRecord(scope, parsed, {
    // Fleet provisioning over MQTT creates PENDING_ACTIVATION certificates (RegisterThing activates them).
    status: input.pendingActivation ? 'PENDING_ACTIVATION' : input.setAsActive ? 'ACTIVE' : 'INACTIVE',
    caCertificateId: null,
    certificateMode: 'DEFAULT',
    now,
  });
  await deps.store.insertCertificate(certificate);
  return { certificate, keyPair: { PublicKey: issued.publicKeyPem, PrivateKey: issued.privateKeyPem } };
}
