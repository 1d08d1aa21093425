import { newGenerationId } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { ParsedCertificate } from '../../pki/index.js';
import type { Certificate, CertificateMode, CertificateStatus } from '../entities.js';

export function newCertificateRecord(
  scope: Scope,
  parsed: ParsedCertificate,
  opts: { status: CertificateStatus; caCertificateId: string | null; certificateMode: CertificateMode; now: Date },
): Certificate {
  return {
    scope,
    certificateId: parsed.certificateId,
    certificatePem: parsed.pem,
    caCertificateId: opts.caCertificateId,
    status: opts.status,
    certificateMode: opts.certificateMode,
    ownedBy: scope.accountId,
    previousOwnedBy: null,
    transferTo: null,
    transferData: {},
    creationDate: opts.now,
    lastModifiedDate: opts.now,
    customerVersion: 1,
    generationId: newGenerationId(),
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
  };
}

/** A new version of a record: bumps customerVersion, generationId and lastModifiedDate. */
export function revised<T extends { customerVersion: number; generationId: string; lastModifiedDate: Date }>(
  record: T,
  changes: Partial<T>,
  now: Date,
): T {
  return { ...record, ...changes, customerVersion: record.customerVersion + 1, generationId: newGenerationId(), lastModifiedDate: now };
}
