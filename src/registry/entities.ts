import type { Scope } from '../kernel/index.js';

/** Registry entities as stored. Timestamps are Date; PEM strings as given/issued. */

export const CERTIFICATE_STATUSES = [
  'ACTIVE',
  'INACTIVE',
  'REVOKED',
  'PENDING_TRANSFER',
  'REGISTER_INACTIVE',
  'PENDING_ACTIVATION',
] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

export const CA_STATUSES = ['ACTIVE', 'INACTIVE'] as const;
export type CaCertificateStatus = (typeof CA_STATUSES)[number];

export type CertificateMode = 'DEFAULT' | 'SNI_ONLY';
export type AutoRegistrationStatus = 'ENABLE' | 'DISABLE';
export type ThingPrincipalType = 'EXCLUSIVE_THING' | 'NON_EXCLUSIVE_THING';

export interface Account {
  readonly accountId: string;
  readonly name: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Data endpoint prefix: `<prefix>-ats.iot.<region>.<domain>`. Stable for the account. */
  readonly endpointPrefix: string;
  /** Strict mode: an INACTIVE CA also refuses its device certificates on the data plane. */
  readonly strictCaMode: boolean;
  readonly createdAt: Date;
}

export interface TransferData {
  readonly transferMessage?: string;
  readonly rejectReason?: string;
  readonly transferDate?: Date;
  readonly acceptDate?: Date;
  readonly rejectDate?: Date;
}

export interface Certificate {
  /** The account and region the certificate is registered in (its owner). */
  readonly scope: Scope;
  readonly certificateId: string;
  readonly certificatePem: string;
  readonly caCertificateId: string | null;
  readonly status: CertificateStatus;
  readonly certificateMode: CertificateMode;
  readonly ownedBy: string;
  readonly previousOwnedBy: string | null;
  /** While PENDING_TRANSFER: the account it is offered to. */
  readonly transferTo: string | null;
  readonly transferData: TransferData;
  readonly creationDate: Date;
  readonly lastModifiedDate: Date;
  readonly customerVersion: number;
  readonly generationId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface RegistrationConfig {
  readonly templateBody?: string;
  readonly roleArn?: string;
  readonly templateName?: string;
}

export interface CaCertificate {
  readonly scope: Scope;
  readonly certificateId: string;
  readonly certificatePem: string;
  readonly status: CaCertificateStatus;
  readonly autoRegistrationStatus: AutoRegistrationStatus;
  readonly certificateMode: CertificateMode;
  readonly registrationConfig: RegistrationConfig | null;
  readonly ownedBy: string;
  /** Subject DN as a string (RFC 4514), used to find a device certificate's issuer. */
  readonly subject: string;
  /** Subject key identifier, lowercase hex, or null when the CA carries none. */
  readonly subjectKeyId: string | null;
  readonly creationDate: Date;
  readonly lastModifiedDate: Date;
  readonly customerVersion: number;
  readonly generationId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface Thing {
  readonly scope: Scope;
  readonly thingName: string;
  readonly thingId: string;
  readonly thingTypeName: string | null;
  readonly attributes: Readonly<Record<string, string>>;
  readonly version: number;
  readonly billingGroupName: string | null;
  readonly creationDate: Date;
}

export interface ThingPrincipal {
  readonly scope: Scope;
  readonly thingName: string;
  /** The principal's ARN (a certificate ARN). */
  readonly principal: string;
  readonly thingPrincipalType: ThingPrincipalType;
  readonly createdAt: Date;
}

export interface Policy {
  readonly scope: Scope;
  readonly policyName: string;
  readonly defaultVersionId: string;
  /** The next version number to hand out (versions are never reused). */
  readonly nextVersionId: number;
  readonly creationDate: Date;
  readonly lastModifiedDate: Date;
  readonly generationId: string;
}

export interface PolicyVersion {
  readonly scope: Scope;
  readonly policyName: string;
  readonly versionId: string;
  readonly document: string;
  readonly createDate: Date;
  readonly lastModifiedDate: Date;
  readonly generationId: string;
}

export interface PolicyAttachment {
  readonly scope: Scope;
  readonly policyName: string;
  /** Target ARN (certificate ARN; later thing groups). */
  readonly target: string;
  readonly createdAt: Date;
}
