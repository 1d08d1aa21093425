import type { Scope } from '../../kernel/index.js';
import type {
  Account,
  AutoRegistrationStatus,
  CaCertificate,
  CaCertificateStatus,
  Certificate,
  CertificateMode,
  CertificateStatus,
  Policy,
  PolicyAttachment,
  PolicyVersion,
  RegistrationConfig,
  Thing,
  ThingPrincipal,
  ThingPrincipalType,
  TransferData,
} from '../../registry/index.js';
import type {
  AccountsTable,
  CaCertificatesTable,
  CertificatesTable,
  PoliciesTable,
  PolicyAttachmentsTable,
  PolicyVersionsTable,
  ThingPrincipalsTable,
  ThingsTable,
} from './schema.js';

/** Row ↔ entity mapping. Timestamps are epoch milliseconds; Number() also accepts pg's bigint-as-string. */

const toMs = (d: Date): number => d.getTime();
const toDate = (ms: number | string | bigint): Date => new Date(Number(ms));

interface ScopedRow {
  account_id: string;
  region: string;
}
const scopeOf = (row: ScopedRow): Scope => ({ accountId: row.account_id, region: row.region });

// Columns hold what the entity types allow; the store is the only writer, so these casts are sound.
const certificateStatus = (s: string): CertificateStatus => s as CertificateStatus;
const caStatus = (s: string): CaCertificateStatus => s as CaCertificateStatus;
const certificateMode = (s: string): CertificateMode => s as CertificateMode;
const autoRegistration = (s: string): AutoRegistrationStatus => s as AutoRegistrationStatus;
const principalType = (s: string): ThingPrincipalType => s as ThingPrincipalType;

export function accountToRow(a: Account): AccountsTable {
  return {
    account_id: a.accountId,
    name: a.name,
    access_key_id: a.accessKeyId,
    secret_access_key: a.secretAccessKey,
    endpoint_prefix: a.endpointPrefix,
    strict_ca_mode: a.strictCaMode ? 1 : 0,
    created_at: toMs(a.createdAt),
  };
}

export function accountFromRow(r: AccountsTable): Account {
  return {
    accountId: r.account_id,
    name: r.name,
    accessKeyId: r.access_key_id,
    secretAccessKey: r.secret_access_key,
    endpointPrefix: r.endpoint_prefix,
    strictCaMode: Number(r.strict_ca_mode) !== 0,
    createdAt: toDate(r.created_at),
  };
}

interface TransferDataJson {
  transferMessage?: string;
  rejectReason?: string;
  transferDate?: number;
  acceptDate?: number;
  rejectDate?: number;
}

function transferDataToJson(t: TransferData): string {
  const j: TransferDataJson = {};
  if (t.transferMessage !== undefined) j.transferMessage = t.transferMessage;
  if (t.rejectReason !== undefined) j.rejectReason = t.rejectReason;
  if (t.transferDate !== undefined) j.transferDate = toMs(t.transferDate);
  if (t.acceptDate !== undefined) j.acceptDate = toMs(t.acceptDate);
  if (t.rejectDate !== undefined) j.rejectDate = toMs(t.rejectDate);
  return JSON.stringify(j);
}

function transferDataFromJson(text: string): TransferData {
  const j = JSON.parse(text) as TransferDataJson;
  return {
    ...(j.transferMessage !== undefined && { transferMessage: j.transferMessage }),
    ...(j.rejectReason !== undefined && { rejectReason: j.rejectReason }),
    ...(j.transferDate !== undefined && { transferDate: toDate(j.transferDate) }),
    ...(j.acceptDate !== undefined && { acceptDate: toDate(j.acceptDate) }),
    ...(j.rejectDate !== undefined && { rejectDate: toDate(j.rejectDate) }),
  };
}

export function certificateToRow(c: Certificate): CertificatesTable {
  return {
    account_id: c.scope.accountId,
    region: c.scope.region,
    certificate_id: c.certificateId,
    certificate_pem: c.certificatePem,
    ca_certificate_id: c.caCertificateId,
    status: c.status,
    certificate_mode: c.certificateMode,
    owned_by: c.ownedBy,
    previous_owned_by: c.previousOwnedBy,
    transfer_to: c.transferTo,
    transfer_data: transferDataToJson(c.transferData),
    creation_date: toMs(c.creationDate),
    last_modified_date: toMs(c.lastModifiedDate),
    customer_version: c.customerVersion,
    generation_id: c.generationId,
    not_before: toMs(c.notBefore),
    not_after: toMs(c.notAfter),
  };
}

export function certificateFromRow(r: CertificatesTable): Certificate {
  return {
    scope: scopeOf(r),
    certificateId: r.certificate_id,
    certificatePem: r.certificate_pem,
    caCertificateId: r.ca_certificate_id,
    status: certificateStatus(r.status),
    certificateMode: certificateMode(r.certificate_mode),
    ownedBy: r.owned_by,
    previousOwnedBy: r.previous_owned_by,
    transferTo: r.transfer_to,
    transferData: transferDataFromJson(r.transfer_data),
    creationDate: toDate(r.creation_date),
    lastModifiedDate: toDate(r.last_modified_date),
    customerVersion: Number(r.customer_version),
    generationId: r.generation_id,
    notBefore: toDate(r.not_before),
    notAfter: toDate(r.not_after),
  };
}

function registrationConfigToJson(c: RegistrationConfig | null): string | null {
  if (c === null) return null;
  return JSON.stringify({ templateBody: c.templateBody, roleArn: c.roleArn, templateName: c.templateName });
}

function registrationConfigFromJson(text: string | null): RegistrationConfig | null {
  if (text === null) return null;
  const j = JSON.parse(text) as { templateBody?: string; roleArn?: string; templateName?: string };
  return {
    ...(j.templateBody !== undefined && { templateBody: j.templateBody }),
    ...(j.roleArn !== undefined && { roleArn: j.roleArn }),
    ...(j.templateName !== undefined && { templateName: j.templateName }),
  };
}

export function caCertificateToRow(c: CaCertificate): CaCertificatesTable {
  return {
    account_id: c.scope.accountId,
    region: c.scope.region,
    certificate_id: c.certificateId,
    certificate_pem: c.certificatePem,
    status: c.status,
    auto_registration_status: c.autoRegistrationStatus,
    certificate_mode: c.certificateMode,
    registration_config: registrationConfigToJson(c.registrationConfig),
    owned_by: c.ownedBy,
    subject: c.subject,
    subject_key_id: c.subjectKeyId,
    creation_date: toMs(c.creationDate),
    last_modified_date: toMs(c.lastModifiedDate),
    customer_version: c.customerVersion,
    generation_id: c.generationId,
    not_before: toMs(c.notBefore),
    not_after: toMs(c.notAfter),
  };
}

export function caCertificateFromRow(r: CaCertificatesTable): CaCertificate {
  return {
    scope: scopeOf(r),
    certificateId: r.certificate_id,
    certificatePem: r.certificate_pem,
    status: caStatus(r.status),
    autoRegistrationStatus: autoRegistration(r.auto_registration_status),
    certificateMode: certificateMode(r.certificate_mode),
    registrationConfig: registrationConfigFromJson(r.registration_config),
    ownedBy: r.owned_by,
    subject: r.subject,
    subjectKeyId: r.subject_key_id,
    creationDate: toDate(r.creation_date),
    lastModifiedDate: toDate(r.last_modified_date),
    customerVersion: Number(r.customer_version),
    generationId: r.generation_id,
    notBefore: toDate(r.not_before),
    notAfter: toDate(r.not_after),
  };
}

export function thingToRow(t: Thing): ThingsTable {
  return {
    account_id: t.scope.accountId,
    region: t.scope.region,
    thing_name: t.thingName,
    thing_id: t.thingId,
    thing_type_name: t.thingTypeName,
    attributes: JSON.stringify(t.attributes),
    version: t.version,
    billing_group_name: t.billingGroupName,
    creation_date: toMs(t.creationDate),
  };
}

export function thingFromRow(r: ThingsTable): Thing {
  return {
    scope: scopeOf(r),
    thingName: r.thing_name,
    thingId: r.thing_id,
    thingTypeName: r.thing_type_name,
    attributes: JSON.parse(r.attributes) as Record<string, string>,
    version: Number(r.version),
    billingGroupName: r.billing_group_name,
    creationDate: toDate(r.creation_date),
  };
}

export function thingPrincipalToRow(p: ThingPrincipal): ThingPrincipalsTable {
  return {
    account_id: p.scope.accountId,
    region: p.scope.region,
    thing_name: p.thingName,
    principal: p.principal,
    thing_principal_type: p.thingPrincipalType,
    created_at: toMs(p.createdAt),
  };
}

export function thingPrincipalFromRow(r: ThingPrincipalsTable): ThingPrincipal {
  return {
    scope: scopeOf(r),
    thingName: r.thing_name,
    principal: r.principal,
    thingPrincipalType: principalType(r.thing_principal_type),
    createdAt: toDate(r.created_at),
  };
}

export function policyToRow(p: Policy): PoliciesTable {
  return {
    account_id: p.scope.accountId,
    region: p.scope.region,
    policy_name: p.policyName,
    default_version_id: p.defaultVersionId,
    next_version_id: p.nextVersionId,
    creation_date: toMs(p.creationDate),
    last_modified_date: toMs(p.lastModifiedDate),
    generation_id: p.generationId,
  };
}

export function policyFromRow(r: PoliciesTable): Policy {
  return {
    scope: scopeOf(r),
    policyName: r.policy_name,
    defaultVersionId: r.default_version_id,
    nextVersionId: Number(r.next_version_id),
    creationDate: toDate(r.creation_date),
    lastModifiedDate: toDate(r.last_modified_date),
    generationId: r.generation_id,
  };
}

export function policyVersionToRow(v: PolicyVersion): PolicyVersionsTable {
  return {
    account_id: v.scope.accountId,
    region: v.scope.region,
    policy_name: v.policyName,
    version_id: v.versionId,
    document: v.document,
    create_date: toMs(v.createDate),
    last_modified_date: toMs(v.lastModifiedDate),
    generation_id: v.generationId,
  };
}

export function policyVersionFromRow(r: PolicyVersionsTable): PolicyVersion {
  return {
    scope: scopeOf(r),
    policyName: r.policy_name,
    versionId: r.version_id,
    document: r.document,
    createDate: toDate(r.create_date),
    lastModifiedDate: toDate(r.last_modified_date),
    generationId: r.generation_id,
  };
}

export function policyAttachmentToRow(a: PolicyAttachment): PolicyAttachmentsTable {
  return {
    account_id: a.scope.accountId,
    region: a.scope.region,
    policy_name: a.policyName,
    target: a.target,
    created_at: toMs(a.createdAt),
  };
}

export function policyAttachmentFromRow(r: PolicyAttachmentsTable): PolicyAttachment {
  return {
    scope: scopeOf(r),
    policyName: r.policy_name,
    target: r.target,
    createdAt: toDate(r.created_at),
  };
}
