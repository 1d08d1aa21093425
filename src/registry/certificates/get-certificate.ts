import { resourceNotFound } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { Certificate } from '../entities.js';
import type { CertificateStore } from '../ports.js';

/** The certificate as the caller sees it: owned by the caller, or offered to it by a pending transfer. */
export async function getVisibleCertificate(store: CertificateStore, scope: Scope, certificateId: string): Promise<Certificate> {
  const cert = (await store.getCertificate(scope, certificateId)) ?? (await store.getCertificateOfferedTo(scope, certificateId));
  if (!cert) throw resourceNotFound(`The certificate ${certificateId} does not exist`);
  return cert;
}

/** The certificate owned by the caller (writes). */
export async function getOwnedCertificate(store: CertificateStore, scope: Scope, certificateId: string): Promise<Certificate> {
  const cert = await store.getCertificate(scope, certificateId);
  if (!cert) throw resourceNotFound(`The certificate ${certificateId} does not exist`);
  return cert;
}
