import type { Scope } from '../kernel/index.js';
import type {
  Account,
  CaCertificate,
  Certificate,
  Policy,
  PolicyAttachment,
  PolicyVersion,
  Thing,
  ThingPrincipal,
} from './entities.js';
import type { ProvisioningTemplateRecord, ProvisioningTemplateVersion } from './provisioning-templates/provisioning-template-entities.js';

/**
 * The registry's storage port. Implemented by store/ (Kysely over SQLite today, PostgreSQL later);
 * every implementation passes test/contract/registry-store.contract.ts.
 *
 * Rules every implementation keeps:
 * - `transaction(fn)` runs fn atomically and durably (committed before it resolves); a thrown error rolls back.
 * - Reads/writes outside a transaction are each atomic on their own.
 * - `insert*` of an existing key throws `DuplicateKeyError` (the registry maps it to ResourceAlreadyExists).
 * - `update*` / `delete*` return false when the row does not exist.
 * - Lists are ordered by (creation date, key) ascending or descending; `after` is an exclusive keyset cursor.
 */

export class DuplicateKeyError extends Error {
  constructor(what: string) {
    super(`duplicate key: ${what}`);
    this.name = 'DuplicateKeyError';
  }
}

/** Keyset cursor: the sort key of the last row of the previous page. */
export interface PageCursor {
  readonly createdAt: Date;
  readonly key: string;
}

export interface PageRequest {
  readonly limit: number;
  readonly ascending: boolean;
  readonly after?: PageCursor;
}

export interface AccountStore {
  insertAccount(account: Account): Promise<void>;
  getAccount(accountId: string): Promise<Account | undefined>;
  getAccountByAccessKeyId(accessKeyId: string): Promise<Account | undefined>;
  getAccountByEndpointPrefix(prefix: string): Promise<Account | undefined>;
  getAccountByName(name: string): Promise<Account | undefined>;
  listAccounts(): Promise<Account[]>;
  updateAccount(account: Account): Promise<boolean>;
}

export interface RegistrationCodeStore {
  getRegistrationCode(scope: Scope): Promise<string | undefined>;
  /** Insert or replace. */
  putRegistrationCode(scope: Scope, code: string): Promise<void>;
  deleteRegistrationCode(scope: Scope): Promise<boolean>;
}

export interface CertificateListFilter {
  /** Only certificates issued by this registered CA. */
  readonly caCertificateId?: string;
}

export interface CertificateStore {
  insertCertificate(cert: Certificate): Promise<void>;
  /** Certificate owned by `scope` (or offered to it by a pending transfer: see `getCertificateOfferedTo`). */
  getCertificate(scope: Scope, certificateId: string): Promise<Certificate | undefined>;
  /** A certificate in PENDING_TRANSFER whose target is scope.accountId, in scope.region. */
  getCertificateOfferedTo(scope: Scope, certificateId: string): Promise<Certificate | undefined>;
  /** Every registration of this certificate id in a region, across accounts (data plane, uniqueness rules). */
  findCertificatesInRegion(region: string, certificateId: string): Promise<Certificate[]>;
  /**
   * Replace the stored row for (cert.scope, cert.certificateId). `previousScope` is given when the owner
   * changes (transfer accepted): the row keyed by previousScope is replaced by one keyed by cert.scope.
   */
  updateCertificate(cert: Certificate, previousScope?: Scope): Promise<boolean>;
  deleteCertificate(scope: Scope, certificateId: string): Promise<boolean>;
  /** Certificates owned by scope, plus those offered to scope.accountId by pending transfers. */
  listCertificates(scope: Scope, filter: CertificateListFilter, page: PageRequest): Promise<Certificate[]>;
  /** Certificates owned by scope that are PENDING_TRANSFER to another account. */
  listOutgoingCertificates(scope: Scope, page: PageRequest): Promise<Certificate[]>;
  countCertificatesByCa(scope: Scope, caCertificateId: string): Promise<number>;
  /**
   * Fleet provisioning's sweeper: PENDING_ACTIVATION certificates issued by certgate (no CA) created before
   * `createdBefore`, in every account and region, ordered by (creationDate, certificateId).
   */
  listUnclaimedCertificates(createdBefore: Date, page: PageRequest): Promise<Certificate[]>;
}

export interface CaCertificateStore {
  insertCaCertificate(ca: CaCertificate): Promise<void>;
  getCaCertificate(scope: Scope, certificateId: string): Promise<CaCertificate | undefined>;
  /** Every registration of this CA in a region, across accounts (DEFAULT mode is unique per region). */
  findCaCertificatesInRegion(region: string, certificateId: string): Promise<CaCertificate[]>;
  /** CAs in scope whose subject DN equals `subject` (a device certificate's issuer). */
  findCaCertificatesBySubject(scope: Scope, subject: string): Promise<CaCertificate[]>;
  /** CA certificates with this subject in every account of a region (JITR without SNI). */
  findCaCertificatesBySubjectInRegion(region: string, subject: string): Promise<CaCertificate[]>;
  updateCaCertificate(ca: CaCertificate): Promise<boolean>;
  deleteCaCertificate(scope: Scope, certificateId: string): Promise<boolean>;
  listCaCertificates(scope: Scope, page: PageRequest): Promise<CaCertificate[]>;
}

export interface ThingListFilter {
  readonly attributeName?: string;
  readonly attributeValue?: string;
  readonly thingTypeName?: string;
}

export interface ThingStore {
  insertThing(thing: Thing): Promise<void>;
  getThing(scope: Scope, thingName: string): Promise<Thing | undefined>;
  updateThing(thing: Thing): Promise<boolean>;
  deleteThing(scope: Scope, thingName: string): Promise<boolean>;
  /** Ordered by thing name ascending; `afterName` exclusive. */
  listThings(scope: Scope, filter: ThingListFilter, limit: number, afterName?: string): Promise<Thing[]>;

  /** Insert or update the type of an existing link. */
  putThingPrincipal(link: ThingPrincipal): Promise<void>;
  deleteThingPrincipal(scope: Scope, thingName: string, principal: string): Promise<boolean>;
  /** Ordered by principal ascending; `afterPrincipal` exclusive. */
  listThingPrincipals(scope: Scope, thingName: string, limit: number, afterPrincipal?: string): Promise<ThingPrincipal[]>;
  /** Ordered by thing name ascending; `afterThingName` exclusive. */
  listPrincipalThings(scope: Scope, principal: string, limit: number, afterThingName?: string): Promise<ThingPrincipal[]>;
  countThingPrincipals(scope: Scope, thingName: string): Promise<number>;
  countPrincipalThings(scope: Scope, principal: string): Promise<number>;
}

export interface PolicyStore {
  insertPolicy(policy: Policy): Promise<void>;
  getPolicy(scope: Scope, policyName: string): Promise<Policy | undefined>;
  updatePolicy(policy: Policy): Promise<boolean>;
  /** Deletes the policy and all its versions. */
  deletePolicy(scope: Scope, policyName: string): Promise<boolean>;
  /** Ordered by (creationDate, policyName). */
  listPolicies(scope: Scope, page: PageRequest): Promise<Policy[]>;

  insertPolicyVersion(version: PolicyVersion): Promise<void>;
  getPolicyVersion(scope: Scope, policyName: string, versionId: string): Promise<PolicyVersion | undefined>;
  /** All versions, newest first. */
  listPolicyVersions(scope: Scope, policyName: string): Promise<PolicyVersion[]>;
  deletePolicyVersion(scope: Scope, policyName: string, versionId: string): Promise<boolean>;

  /** Throws DuplicateKeyError when already attached. */
  insertPolicyAttachment(attachment: PolicyAttachment): Promise<void>;
  deletePolicyAttachment(scope: Scope, policyName: string, target: string): Promise<boolean>;
  /** Ordered by (createdAt, target). */
  listPolicyTargets(scope: Scope, policyName: string, page: PageRequest): Promise<PolicyAttachment[]>;
  /** Ordered by (createdAt, policyName). */
  listAttachedPolicies(scope: Scope, target: string, page: PageRequest): Promise<PolicyAttachment[]>;
  countAttachedPolicies(scope: Scope, target: string): Promise<number>;
  countPolicyTargets(scope: Scope, policyName: string): Promise<number>;
}

export interface ProvisioningTemplateStore {
  insertProvisioningTemplate(template: ProvisioningTemplateRecord): Promise<void>;
  getProvisioningTemplate(scope: Scope, templateName: string): Promise<ProvisioningTemplateRecord | undefined>;
  updateProvisioningTemplate(template: ProvisioningTemplateRecord): Promise<boolean>;
  /** Deletes the template and all its versions. */
  deleteProvisioningTemplate(scope: Scope, templateName: string): Promise<boolean>;
  /** Ordered by template name ascending; `afterName` exclusive. */
  listProvisioningTemplates(scope: Scope, limit: number, afterName?: string): Promise<ProvisioningTemplateRecord[]>;

  insertProvisioningTemplateVersion(version: ProvisioningTemplateVersion): Promise<void>;
  getProvisioningTemplateVersion(scope: Scope, templateName: string, versionId: number): Promise<ProvisioningTemplateVersion | undefined>;
  /** All versions, oldest (lowest versionId) first. */
  listProvisioningTemplateVersions(scope: Scope, templateName: string): Promise<ProvisioningTemplateVersion[]>;
  deleteProvisioningTemplateVersion(scope: Scope, templateName: string, versionId: number): Promise<boolean>;
}

export interface RegistryStore
  extends AccountStore,
    RegistrationCodeStore,
    CertificateStore,
    CaCertificateStore,
    ThingStore,
    PolicyStore,
    ProvisioningTemplateStore {
  /** Run fn atomically; the store passed to fn is bound to the transaction. Nested calls join the outer one. */
  transaction<T>(fn: (tx: RegistryStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
