import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Scope } from '../../kernel/index.js';
import type {
  Account,
  CaCertificate,
  Certificate,
  Policy,
  PolicyAttachment,
  PolicyVersion,
  Thing,
  ThingPrincipal,
} from '../../registry/index.js';
import { DuplicateKeyError } from '../../registry/ports.js';
import type {
  CertificateListFilter,
  PageRequest,
  RegistryStore,
  ThingListFilter,
} from '../../registry/ports.js';
import {
  accountFromRow,
  accountToRow,
  caCertificateFromRow,
  caCertificateToRow,
  certificateFromRow,
  certificateToRow,
  policyAttachmentFromRow,
  policyAttachmentToRow,
  policyFromRow,
  policyToRow,
  policyVersionFromRow,
  policyVersionToRow,
  thingFromRow,
  thingPrincipalFromRow,
  thingPrincipalToRow,
  thingToRow,
} from './row-mapping.js';
import type { Database } from './schema.js';
import type { SqlDialectTraits } from './sql-dialect-traits.js';
import * as templateQueries from './sql-provisioning-template-queries.js';
import type { ProvisioningTemplateRecord, ProvisioningTemplateVersion } from '../../registry/index.js';

type PagedTable = 'certificates' | 'ca_certificates' | 'policies' | 'policy_attachments';

/**
 * Keyset page over (createdColumn, keyColumn): `(created, key) > (after)` ascending, `<` descending.
 * The column pair is given by name; each paged table has exactly one such pair per list.
 */
function page<TB extends PagedTable, O>(
  qb: SelectQueryBuilder<Database, TB, O>,
  created: 'creation_date' | 'created_at',
  key: 'certificate_id' | 'policy_name' | 'target',
  request: PageRequest,
): SelectQueryBuilder<Database, TB, O> {
  // A generic TB cannot prove these columns exist on it, so type-check against one representative table;
  // the SQL names the columns only, and every caller passes a pair its own table has.
  const q = qb as unknown as SelectQueryBuilder<Database, 'certificates', O>;
  const createdRef = created as 'creation_date';
  const keyRef = key as 'certificate_id';
  const direction = request.ascending ? 'asc' : 'desc';
  const after = request.after;
  const filtered =
    after === undefined
      ? q
      : q.where((eb) =>
          eb(eb.refTuple(createdRef, keyRef), request.ascending ? '>' : '<', eb.tuple(after.createdAt.getTime(), after.key)),
        );
  return filtered
    .orderBy(createdRef, direction)
    .orderBy(keyRef, direction)
    .limit(request.limit) as unknown as SelectQueryBuilder<Database, TB, O>;
}

const changed = (n: bigint | undefined): boolean => n !== undefined && n > 0n;

/**
 * RegistryStore over any Kysely dialect. Bound either to the database (each call atomic on its own) or to
 * one transaction (inside `transaction(fn)`). Inside fn, use only the store fn receives: on SQLite the
 * outer store waits for the transaction's connection and would deadlock.
 */
export class SqlRegistryStore implements RegistryStore {
  readonly #db: Kysely<Database>;
  readonly #traits: SqlDialectTraits;

  constructor(db: Kysely<Database>, traits: SqlDialectTraits) {
    this.#db = db;
    this.#traits = traits;
  }

  /** The Kysely instance (or transaction) this store is bound to; for dialect setup and tests. */
  get db(): Kysely<Database> {
    return this.#db;
  }

  async transaction<T>(fn: (tx: RegistryStore) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return fn(this);
    return this.#db.transaction().execute((trx) => fn(new SqlRegistryStore(trx, this.#traits)));
  }

  async close(): Promise<void> {
    if (this.#db.isTransaction) throw new Error('close() called on a transaction-bound store');
    await this.#db.destroy();
  }

  /** Several statements as one: joins the current transaction or opens one. */
  #atomic<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return fn(this.#db);
    return this.#db.transaction().execute(fn);
  }

  async #insert(what: string, run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (e) {
      if (this.#traits.isUniqueViolation(e)) throw new DuplicateKeyError(what);
      throw e;
    }
  }

  // ── accounts ──────────────────────────────────────────────────────────────────────────────

  async insertAccount(account: Account): Promise<void> {
    await this.#insert(`account ${account.accountId}`, () =>
      this.#db.insertInto('accounts').values(accountToRow(account)).execute(),
    );
  }

  async getAccount(accountId: string): Promise<Account | undefined> {
    const row = await this.#db.selectFrom('accounts').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    return row && accountFromRow(row);
  }

  async getAccountByAccessKeyId(accessKeyId: string): Promise<Account | undefined> {
    const row = await this.#db
      .selectFrom('accounts')
      .selectAll()
      .where('access_key_id', '=', accessKeyId)
      .executeTakeFirst();
    return row && accountFromRow(row);
  }

  async getAccountByEndpointPrefix(prefix: string): Promise<Account | undefined> {
    const row = await this.#db.selectFrom('accounts').selectAll().where('endpoint_prefix', '=', prefix).executeTakeFirst();
    return row && accountFromRow(row);
  }

  async getAccountByName(name: string): Promise<Account | undefined> {
    const row = await this.#db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
    return row && accountFromRow(row);
  }

  async listAccounts(): Promise<Account[]> {
    const rows = await this.#db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('account_id').execute();
    return rows.map(accountFromRow);
  }

  async updateAccount(account: Account): Promise<boolean> {
    const { account_id, ...rest } = accountToRow(account);
    let result: { numUpdatedRows: bigint } | undefined;
    await this.#insert(`account ${account.accountId}`, async () => {
      result = await this.#db.updateTable('accounts').set(rest).where('account_id', '=', account_id).executeTakeFirst();
    });
    return changed(result?.numUpdatedRows);
  }

  // ── registration codes ────────────────────────────────────────────────────────────────────

  async getRegistrationCode(scope: Scope): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('registration_codes')
      .select('code')
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .executeTakeFirst();
    return row?.code;
  }

  async putRegistrationCode(scope: Scope, code: string): Promise<void> {
    await this.#db
      .insertInto('registration_codes')
      .values({ account_id: scope.accountId, region: scope.region, code })
      .onConflict((oc) => oc.columns(['account_id', 'region']).doUpdateSet({ code }))
      .execute();
  }

  async deleteRegistrationCode(scope: Scope): Promise<boolean> {
    const r = await this.#db
      .deleteFrom('registration_codes')
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .executeTakeFirst();
    return changed(r.numDeletedRows);
  }

  // ── certificates ──────────────────────────────────────────────────────────────────────────

  async insertCertificate(cert: Certificate): Promise<void> {
    await this.#insert(`certificate ${cert.certificateId}`, () =>
      this.#db.insertInto('certificates').values(certificateToRow(cert)).execute(),
    );
  }

  async getCertificate(scope: Scope, certificateId: string): Promise<Certificate | undefined> {
    const row = await this.#db
      .selectFrom('certificates')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('certificate_id', '=', certificateId)
      .executeTakeFirst();
    return row && certificateFromRow(row);
  }

  async getCertificateOfferedTo(scope: Scope, certificateId: string): Promise<Certificate | undefined> {
    const row = await this.#db
      .selectFrom('certificates')
      .selectAll()
      .where('region', '=', scope.region)
      .where('certificate_id', '=', certificateId)
      .where('status', '=', 'PENDING_TRANSFER')
      .where('transfer_to', '=', scope.accountId)
      .executeTakeFirst();
    return row && certificateFromRow(row);
  }

  async findCertificatesInRegion(region: string, certificateId: string): Promise<Certificate[]> {
    const rows = await this.#db
      .selectFrom('certificates')
      .selectAll()
      .where('region', '=', region)
      .where('certificate_id', '=', certificateId)
      .orderBy('account_id')
      .execute();
    return rows.map(certificateFromRow);
  }

  async updateCertificate(cert: Certificate, previousScope?: Scope): Promise<boolean> {
    const from = previousScope ?? cert.scope;
    let result: { numUpdatedRows: bigint } | undefined;
    await this.#insert(`certificate ${cert.certificateId} in ${cert.scope.accountId}`, async () => {
      result = await this.#db
        .updateTable('certificates')
        .set(certificateToRow(cert))
        .where('account_id', '=', from.accountId)
        .where('region', '=', from.region)
        .where('certificate_id', '=', cert.certificateId)
        .executeTakeFirst();
    });
    return changed(result?.numUpdatedRows);
  }

  async deleteCertificate(scope: Scope, certificateId: string): Promise<boolean> {
    const r = await this.#db
      .deleteFrom('certificates')
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('certificate_id', '=', certificateId)
      .executeTakeFirst();
    return changed(r.numDeletedRows);
  }

  async listCertificates(scope: Scope, filter: CertificateListFilter, request: PageRequest): Promise<Certificate[]> {
    let q = this.#db
      .selectFrom('certificates')
      .selectAll()
      .where('region', '=', scope.region)
      .where((eb) =>
        eb.or([
          eb('account_id', '=', scope.accountId),
          eb.and([eb('transfer_to', '=', scope.accountId), eb('status', '=', 'PENDING_TRANSFER')]),
        ]),
      );
    if (filter.caCertificateId !== undefined) q = q.where('ca_certificate_id', '=', filter.caCertificateId);
    const rows = await page(q, 'creation_date', 'certificate_id', request).execute();
    return rows.map(certificateFromRow);
  }

  async listOutgoingCertificates(scope: Scope, request: PageRequest): Promise<Certificate[]> {
    const q = this.#db
      .selectFrom('certificates')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('status', '=', 'PENDING_TRANSFER')
      .where('transfer_to', 'is not', null);
    const rows = await page(q, 'creation_date', 'certificate_id', request).execute();
    return rows.map(certificateFromRow);
  }

  async listUnclaimedCertificates(createdBefore: Date, request: PageRequest): Promise<Certificate[]> {
    const q = this.#db
      .selectFrom('certificates')
      .selectAll()
      .where('status', '=', 'PENDING_ACTIVATION')
      .where('ca_certificate_id', 'is', null)
      .where('creation_date', '<', createdBefore.getTime());
    const rows = await page(q, 'creation_date', 'certificate_id', request).execute();
    return rows.map(certificateFromRow);
  }

  async countCertificatesByCa(scope: Scope, caCertificateId: string): Promise<number> {
    return this.#countInScope('certificates', scope, 'ca_certificate_id', caCertificateId);
  }

  // ── CA certificates ───────────────────────────────────────────────────────────────────────

  async insertCaCertificate(ca: CaCertificate): Promise<void> {
    await this.#insert(`CA certificate ${ca.certificateId}`, () =>
      this.#db.insertInto('ca_certificates').values(caCertificateToRow(ca)).execute(),
    );
  }

  async getCaCertificate(scope: Scope, certificateId: string): Promise<CaCertificate | undefined> {
    const row = await this.#db
      .selectFrom('ca_certificates')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('certificate_id', '=', certificateId)
      .executeTakeFirst();
    return row && caCertificateFromRow(row);
  }

  async findCaCertificatesInRegion(region: string, certificateId: string): Promise<CaCertificate[]> {
    const rows = await this.#db
      .selectFrom('ca_certificates')
      .selectAll()
      .where('region', '=', region)
      .where('certificate_id', '=', certificateId)
      .orderBy('account_id')
      .execute();
    return rows.map(caCertificateFromRow);
  }

  async findCaCertificatesBySubjectInRegion(region: string, subject: string): Promise<CaCertificate[]> {
    const rows = await this.#db
      .selectFrom('ca_certificates')
      .selectAll()
      .where('region', '=', region)
      .where('subject', '=', subject)
      .orderBy('creation_date')
      .orderBy('certificate_id')
      .execute();
    return rows.map(caCertificateFromRow);
  }

  async findCaCertificatesBySubject(scope: Scope, subject: string): Promise<CaCertificate[]> {
    const rows = await this.#db
      .selectFrom('ca_certificates')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('subject', '=', subject)
      .orderBy('creation_date')
      .orderBy('certificate_id')
      .execute();
    return rows.map(caCertificateFromRow);
  }

  async updateCaCertificate(ca: CaCertificate): Promise<boolean> {
    const r = await this.#db
      .updateTable('ca_certificates')
      .set(caCertificateToRow(ca))
      .where('account_id', '=', ca.scope.accountId)
      .where('region', '=', ca.scope.region)
      .where('certificate_id', '=', ca.certificateId)
      .executeTakeFirst();
    return changed(r.numUpdatedRows);
  }

  async deleteCaCertificate(scope: Scope, certificateId: string): Promise<boolean> {
    const r = await this.#db
      .deleteFrom('ca_certificates')
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('certificate_id', '=', certificateId)
      .executeTakeFirst();
    return changed(r.numDeletedRows);
  }

  async listCaCertificates(scope: Scope, request: PageRequest): Promise<CaCertificate[]> {
    const q = this.#db
      .selectFrom('ca_certificates')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region);
    const rows = await page(q, 'creation_date', 'certificate_id', request).execute();
    return rows.map(caCertificateFromRow);
  }

  // ── things ────────────────────────────────────────────────────────────────────────────────

  static #attributeRows(thing: Thing): Database['thing_attributes'][] {
    return Object.entries(thing.attributes).map(([name, value]) => ({
      account_id: thing.scope.accountId,
      region: thing.scope.region,
      thing_name: thing.thingName,
      name,
      value,
    }));
  }

  async insertThing(thing: Thing): Promise<void> {
    await this.#atomic(async (db) => {
      await this.#insert(`thing ${thing.thingName}`, () => db.insertInto('things').values(thingToRow(thing)).execute());
      const attributes = SqlRegistryStore.#attributeRows(thing);
      if (attributes.length > 0) await db.insertInto('thing_attributes').values(attributes).execute();
    });
  }

  async getThing(scope: Scope, thingName: string): Promise<Thing | undefined> {
    const row = await this.#db
      .selectFrom('things')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('thing_name', '=', thingName)
      .executeTakeFirst();
    return row && thingFromRow(row);
  }

  async updateThing(thing: Thing): Promise<boolean> {
    return this.#atomic(async (db) => {
      const r = await db
        .updateTable('things')
        .set(thingToRow(thing))
        .where('account_id', '=', thing.scope.accountId)
        .where('region', '=', thing.scope.region)
        .where('thing_name', '=', thing.thingName)
        .executeTakeFirst();
      if (!changed(r.numUpdatedRows)) return false;
      await this.#deleteAttributes(db, thing.scope, thing.thingName);
      const attributes = SqlRegistryStore.#attributeRows(thing);
      if (attributes.length > 0) await db.insertInto('thing_attributes').values(attributes).execute();
      return true;
    });
  }

  async #deleteAttributes(db: Kysely<Database>, scope: Scope, thingName: string): Promise<void> {
    await db
      .deleteFrom('thing_attributes')
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('thing_name', '=', thingName)
      .execute();
  }

  async deleteThing(scope: Scope, thingName: string): Promise<boolean> {
    return this.#atomic(async (db) => {
      await this.#deleteAttributes(db, scope, thingName);
      const r = await db
        .deleteFrom('things')
        .where('account_id', '=', scope.accountId)
        .where('region', '=', scope.region)
        .where('thing_name', '=', thingName)
        .executeTakeFirst();
      return changed(r.numDeletedRows);
    });
  }

  async listThings(scope: Scope, filter: ThingListFilter, limit: number, afterName?: string): Promise<Thing[]> {
    let q = this.#db
      .selectFrom('things')
      .selectAll('things')
      .where('things.account_id', '=', scope.accountId)
      .where('things.region', '=', scope.region);
    if (filter.thingTypeName !== undefined) q = q.where('things.thing_type_name', '=', filter.thingTypeName);
    const { attributeName, attributeValue } = filter;
    if (attributeName !== undefined || attributeValue !== undefined) {
      q = q.where((eb) => {
        let sub = eb
          .selectFrom('thing_attributes as a')
          .select('a.name')
          .whereRef('a.account_id', '=', 'things.account_id')
          .whereRef('a.region', '=', 'things.region')
          .whereRef('a.thing_name', '=', 'things.thing_name');
        if (attributeName !== undefined) sub = sub.where('a.name', '=', attributeName);
        if (attributeValue !== undefined) sub = sub.where('a.value', '=', attributeValue);
        return eb.exists(sub);
      });
    }
    if (afterName !== undefined) q = q.where('things.thing_name', '>', afterName);
    const rows = await q.orderBy('things.thing_name').limit(limit).execute();
    return rows.map(thingFromRow);
  }

  async putThingPrincipal(link: ThingPrincipal): Promise<void> {
    await this.#db
      .insertInto('thing_principals')
      .values(thingPrincipalToRow(link))
      .onConflict((oc) =>
        oc
          .columns(['account_id', 'region', 'thing_name', 'principal'])
          .doUpdateSet({ thing_principal_type: link.thingPrincipalType }),
      )
      .execute();
  }

  async deleteThingPrincipal(scope: Scope, thingName: string, principal: string): Promise<boolean> {
    const r = await this.#db
      .deleteFrom('thing_principals')
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('thing_name', '=', thingName)
      .where('principal', '=', principal)
      .executeTakeFirst();
    return changed(r.numDeletedRows);
  }

  async listThingPrincipals(
    scope: Scope,
    thingName: string,
    limit: number,
    afterPrincipal?: string,
  ): Promise<ThingPrincipal[]> {
    let q = this.#db
      .selectFrom('thing_principals')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('thing_name', '=', thingName);
    if (afterPrincipal !== undefined) q = q.where('principal', '>', afterPrincipal);
    const rows = await q.orderBy('principal').limit(limit).execute();
    return rows.map(thingPrincipalFromRow);
  }

  async listPrincipalThings(
    scope: Scope,
    principal: string,
    limit: number,
    afterThingName?: string,
  ): Promise<ThingPrincipal[]> {
    let q = this.#db
      .selectFrom('thing_principals')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('principal', '=', principal);
    if (afterThingName !== undefined) q = q.where('thing_name', '>', afterThingName);
    const rows = await q.orderBy('thing_name').limit(limit).execute();
    return rows.map(thingPrincipalFromRow);
  }

  async countThingPrincipals(scope: Scope, thingName: string): Promise<number> {
    return this.#countInScope('thing_principals', scope, 'thing_name', thingName);
  }

  async countPrincipalThings(scope: Scope, principal: string): Promise<number> {
    return this.#countInScope('thing_principals', scope, 'principal', principal);
  }

  // ── policies ──────────────────────────────────────────────────────────────────────────────

  async insertPolicy(policy: Policy): Promise<void> {
    await this.#insert(`policy ${policy.policyName}`, () =>
      this.#db.insertInto('policies').values(policyToRow(policy)).execute(),
    );
  }

  async getPolicy(scope: Scope, policyName: string): Promise<Policy | undefined> {
    const row = await this.#db
      .selectFrom('policies')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('policy_name', '=', policyName)
      .executeTakeFirst();
    return row && policyFromRow(row);
  }

  async updatePolicy(policy: Policy): Promise<boolean> {
    const r = await this.#db
      .updateTable('policies')
      .set(policyToRow(policy))
      .where('account_id', '=', policy.scope.accountId)
      .where('region', '=', policy.scope.region)
      .where('policy_name', '=', policy.policyName)
      .executeTakeFirst();
    return changed(r.numUpdatedRows);
  }

  async deletePolicy(scope: Scope, policyName: string): Promise<boolean> {
    return this.#atomic(async (db) => {
      await db
        .deleteFrom('policy_versions')
        .where('account_id', '=', scope.accountId)
        .where('region', '=', scope.region)
        .where('policy_name', '=', policyName)
        .execute();
      const r = await db
        .deleteFrom('policies')
        .where('account_id', '=', scope.accountId)
        .where('region', '=', scope.region)
        .where('policy_name', '=', policyName)
        .executeTakeFirst();
      return changed(r.numDeletedRows);
    });
  }

  async listPolicies(scope: Scope, request: PageRequest): Promise<Policy[]> {
    const q = this.#db
      .selectFrom('policies')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region);
    const rows = await page(q, 'creation_date', 'policy_name', request).execute();
    return rows.map(policyFromRow);
  }

  async insertPolicyVersion(version: PolicyVersion): Promise<void> {
    await this.#insert(`policy version ${version.policyName}/${version.versionId}`, () =>
      this.#db.insertInto('policy_versions').values(policyVersionToRow(version)).execute(),
    );
  }

  async getPolicyVersion(scope: Scope, policyName: string, versionId: string): Promise<PolicyVersion | undefined> {
    const row = await this.#db
      .selectFrom('policy_versions')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('policy_name', '=', policyName)
      .where('version_id', '=', versionId)
      .executeTakeFirst();
    return row && policyVersionFromRow(row);
  }

  async listPolicyVersions(scope: Scope, policyName: string): Promise<PolicyVersion[]> {
    // Newest first; version ids are decimal strings, so within one millisecond order them numerically.
    const rows = await this.#db
      .selectFrom('policy_versions')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('policy_name', '=', policyName)
      .orderBy('create_date', 'desc')
      .orderBy((eb) => eb.fn('length', ['version_id']), 'desc')
      .orderBy('version_id', 'desc')
      .execute();
    return rows.map(policyVersionFromRow);
  }

  async deletePolicyVersion(scope: Scope, policyName: string, versionId: string): Promise<boolean> {
    const r = await this.#db
      .deleteFrom('policy_versions')
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('policy_name', '=', policyName)
      .where('version_id', '=', versionId)
      .executeTakeFirst();
    return changed(r.numDeletedRows);
  }

  async insertPolicyAttachment(attachment: PolicyAttachment): Promise<void> {
    await this.#insert(`policy ${attachment.policyName} attached to ${attachment.target}`, () =>
      this.#db.insertInto('policy_attachments').values(policyAttachmentToRow(attachment)).execute(),
    );
  }

  async deletePolicyAttachment(scope: Scope, policyName: string, target: string): Promise<boolean> {
    const r = await this.#db
      .deleteFrom('policy_attachments')
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('policy_name', '=', policyName)
      .where('target', '=', target)
      .executeTakeFirst();
    return changed(r.numDeletedRows);
  }

  async listPolicyTargets(scope: Scope, policyName: string, request: PageRequest): Promise<PolicyAttachment[]> {
    const q = this.#db
      .selectFrom('policy_attachments')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('policy_name', '=', policyName);
    const rows = await page(q, 'created_at', 'target', request).execute();
    return rows.map(policyAttachmentFromRow);
  }

  async listAttachedPolicies(scope: Scope, target: string, request: PageRequest): Promise<PolicyAttachment[]> {
    const q = this.#db
      .selectFrom('policy_attachments')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where('target', '=', target);
    const rows = await page(q, 'created_at', 'policy_name', request).execute();
    return rows.map(policyAttachmentFromRow);
  }

  async countAttachedPolicies(scope: Scope, target: string): Promise<number> {
    return this.#countInScope('policy_attachments', scope, 'target', target);
  }

  async countPolicyTargets(scope: Scope, policyName: string): Promise<number> {
    return this.#countInScope('policy_attachments', scope, 'policy_name', policyName);
  }

  // ── provisioning templates ────────────────────────────────────────────────────────────────

  async insertProvisioningTemplate(template: ProvisioningTemplateRecord): Promise<void> {
    await this.#insert(`provisioning template ${template.templateName}`, () => templateQueries.insertProvisioningTemplate(this.#db, template));
  }

  async getProvisioningTemplate(scope: Scope, templateName: string): Promise<ProvisioningTemplateRecord | undefined> {
    return templateQueries.getProvisioningTemplate(this.#db, scope, templateName);
  }

  async updateProvisioningTemplate(template: ProvisioningTemplateRecord): Promise<boolean> {
    return templateQueries.updateProvisioningTemplate(this.#db, template);
  }

  async deleteProvisioningTemplate(scope: Scope, templateName: string): Promise<boolean> {
    return this.#atomic((db) => templateQueries.deleteProvisioningTemplate(db, scope, templateName));
  }

  async listProvisioningTemplates(scope: Scope, limit: number, afterName?: string): Promise<ProvisioningTemplateRecord[]> {
    return templateQueries.listProvisioningTemplates(this.#db, scope, limit, afterName);
  }

  async insertProvisioningTemplateVersion(version: ProvisioningTemplateVersion): Promise<void> {
    await this.#insert(`provisioning template version ${version.templateName}/${version.versionId}`, () =>
      templateQueries.insertProvisioningTemplateVersion(this.#db, version),
    );
  }

  async getProvisioningTemplateVersion(scope: Scope, templateName: string, versionId: number): Promise<ProvisioningTemplateVersion | undefined> {
    return templateQueries.getProvisioningTemplateVersion(this.#db, scope, templateName, versionId);
  }

  async listProvisioningTemplateVersions(scope: Scope, templateName: string): Promise<ProvisioningTemplateVersion[]> {
    return templateQueries.listProvisioningTemplateVersions(this.#db, scope, templateName);
  }

  async deleteProvisioningTemplateVersion(scope: Scope, templateName: string, versionId: number): Promise<boolean> {
    return templateQueries.deleteProvisioningTemplateVersion(this.#db, scope, templateName, versionId);
  }

  /** Rows of `table` in `scope` whose `column` equals `value`. */
  async #countInScope(
    table: 'thing_principals' | 'policy_attachments' | 'certificates',
    scope: Scope,
    column: 'thing_name' | 'principal' | 'target' | 'policy_name' | 'ca_certificate_id',
    value: string,
  ): Promise<number> {
    const row = await this.#db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .where('account_id', '=', scope.accountId)
      .where('region', '=', scope.region)
      .where(column, '=', value)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
