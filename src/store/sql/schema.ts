/**
 * Row types of the registry tables, as Kysely sees them. Portable across SQLite and PostgreSQL:
 * text, integer, timestamps as epoch milliseconds (bigint), booleans as 0/1, JSON blobs as text.
 * Every registry table is keyed by (account_id, region, …): the port's Scope.
 */

export interface AccountsTable {
  account_id: string;
  name: string;
  access_key_id: string;
  secret_access_key: string;
  endpoint_prefix: string;
  strict_ca_mode: number;
  created_at: number;
}

export interface RegistrationCodesTable {
  account_id: string;
  region: string;
  code: string;
}

export interface CertificatesTable {
  account_id: string;
  region: string;
  certificate_id: string;
  certificate_pem: string;
  ca_certificate_id: string | null;
  status: string;
  certificate_mode: string;
  owned_by: string;
  previous_owned_by: string | null;
  transfer_to: string | null;
  /** JSON of TransferData, dates as epoch milliseconds. */
  transfer_data: string;
  creation_date: number;
  last_modified_date: number;
  customer_version: number;
  generation_id: string;
  not_before: number;
  not_after: number;
}

export interface CaCertificatesTable {
  account_id: string;
  region: string;
  certificate_id: string;
  certificate_pem: string;
  status: string;
  auto_registration_status: string;
  certificate_mode: string;
  /** JSON of RegistrationConfig, or null. */
  registration_config: string | null;
  owned_by: string;
  subject: string;
  subject_key_id: string | null;
  creation_date: number;
  last_modified_date: number;
  customer_version: number;
  generation_id: string;
  not_before: number;
  not_after: number;
}

export interface ThingsTable {
  account_id: string;
  region: string;
  thing_name: string;
  thing_id: string;
  thing_type_name: string | null;
  /** JSON object of string attributes (the read copy; thing_attributes is the searchable copy). */
  attributes: string;
  version: number;
  billing_group_name: string | null;
  creation_date: number;
}

/** One row per thing attribute, for ListThings' attribute filter. Written with the thing, atomically. */
export interface ThingAttributesTable {
  account_id: string;
  region: string;
  thing_name: string;
  name: string;
  value: string;
}

export interface ThingPrincipalsTable {
  account_id: string;
  region: string;
  thing_name: string;
  principal: string;
  thing_principal_type: string;
  created_at: number;
}

export interface PoliciesTable {
  account_id: string;
  region: string;
  policy_name: string;
  default_version_id: string;
  next_version_id: number;
  creation_date: number;
  last_modified_date: number;
  generation_id: string;
}

export interface PolicyVersionsTable {
  account_id: string;
  region: string;
  policy_name: string;
  version_id: string;
  document: string;
  create_date: number;
  last_modified_date: number;
  generation_id: string;
}

export interface PolicyAttachmentsTable {
  account_id: string;
  region: string;
  policy_name: string;
  target: string;
  created_at: number;
}

export interface ProvisioningTemplatesTable {
  account_id: string;
  region: string;
  template_name: string;
  description: string | null;
  template_type: string;
  enabled: number;
  provisioning_role_arn: string;
  hook_target_arn: string | null;
  hook_payload_version: string | null;
  default_version_id: number;
  next_version_id: number;
  creation_date: number;
  last_modified_date: number;
}

export interface ProvisioningTemplateVersionsTable {
  account_id: string;
  region: string;
  template_name: string;
  version_id: number;
  template_body: string;
  creation_date: number;
}

export interface Database {
  accounts: AccountsTable;
  registration_codes: RegistrationCodesTable;
  certificates: CertificatesTable;
  ca_certificates: CaCertificatesTable;
  things: ThingsTable;
  thing_attributes: ThingAttributesTable;
  thing_principals: ThingPrincipalsTable;
  policies: PoliciesTable;
  policy_versions: PolicyVersionsTable;
  policy_attachments: PolicyAttachmentsTable;
  provisioning_templates: ProvisioningTemplatesTable;
  provisioning_template_versions: ProvisioningTemplateVersionsTable;
}
