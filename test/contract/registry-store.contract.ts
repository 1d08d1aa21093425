import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newAccessKeyId, newAccountId, newEndpointPrefix, randomHex } from '../../src/kernel/index.js';
import type { Scope } from '../../src/kernel/index.js';
import type {
  Account,
  CaCertificate,
  Certificate,
  Policy,
  PolicyAttachment,
  PolicyVersion,
  Thing,
  ThingPrincipal,
} from '../../src/registry/index.js';
import { DuplicateKeyError } from '../../src/registry/ports.js';
import type { PageCursor, PageRequest, RegistryStore } from '../../src/registry/ports.js';

/**
 * The rules every RegistryStore keeps (src/registry/ports.ts), run over any implementation.
 * Each test works in fresh random account ids, so `open()` may reach a shared, non-empty database.
 */
export interface RegistryStoreContractOptions {
  /** open() reaches the same data each time (a file or server database): also check close + reopen. */
  readonly persistent?: boolean;
}

const REGION = 'us-east-1';
const OTHER_REGION = 'eu-west-1';
const T0 = Date.UTC(2025, 0, 1);
const at = (offsetMs: number): Date => new Date(T0 + offsetMs);

const newScope = (region = REGION): Scope => ({ accountId: newAccountId(), region });
const certArn = (scope: Scope, id: string): string => `arn:aws:iot:${scope.region}:${scope.accountId}:cert/${id}`;

function makeAccount(overrides: Partial<Account> = {}): Account {
  return {
    accountId: newAccountId(),
    name: `acct-${randomHex(6)}`,
    accessKeyId: newAccessKeyId(),
    secretAccessKey: randomHex(20),
    endpointPrefix: newEndpointPrefix(),
    strictCaMode: false,
    createdAt: at(0),
    ...overrides,
  };
}

function makeCertificate(scope: Scope, overrides: Partial<Certificate> = {}): Certificate {
  return {
    scope,
    certificateId: randomHex(32),
    certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    caCertificateId: null,
    status: 'ACTIVE',
    certificateMode: 'DEFAULT',
    ownedBy: scope.accountId,
    previousOwnedBy: null,
    transferTo: null,
    transferData: {},
    creationDate: at(0),
    lastModifiedDate: at(0),
    customerVersion: 1,
    generationId: randomHex(16),
    notBefore: at(-86_400_000),
    notAfter: new Date(Date.UTC(2049, 11, 31, 23, 59, 59)),
    ...overrides,
  };
}

function makeCa(scope: Scope, overrides: Partial<CaCertificate> = {}): CaCertificate {
  return {
    scope,
    certificateId: randomHex(32),
    certificatePem: '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n',
    status: 'ACTIVE',
    autoRegistrationStatus: 'DISABLE',
    certificateMode: 'DEFAULT',
    registrationConfig: null,
    ownedBy: scope.accountId,
    subject: 'CN=Test CA,O=certgate',
    subjectKeyId: randomHex(20),
    creationDate: at(0),
    lastModifiedDate: at(0),
    customerVersion: 1,
    generationId: randomHex(16),
    notBefore: at(0),
    notAfter: at(365 * 86_400_000),
    ...overrides,
  };
}

function makeThing(scope: Scope, thingName: string, overrides: Partial<Thing> = {}): Thing {
  return {
    scope,
    thingName,
    thingId: randomHex(16),
    thingTypeName: null,
    attributes: {},
    version: 1,
    billingGroupName: null,
    creationDate: at(0),
    ...overrides,
  };
}

function makePolicy(scope: Scope, policyName: string, overrides: Partial<Policy> = {}): Policy {
  return {
    scope,
    policyName,
    defaultVersionId: '1',
    nextVersionId: 2,
    creationDate: at(0),
    lastModifiedDate: at(0),
    generationId: randomHex(16),
    ...overrides,
  };
}

function makeVersion(scope: Scope, policyName: string, versionId: string, createDate: Date): PolicyVersion {
  return {
    scope,
    policyName,
    versionId,
    document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] }),
    createDate,
    lastModifiedDate: createDate,
    generationId: randomHex(16),
  };
}

/** Walk every page of a keyset-paged list, checking no page exceeds the limit. */
async function collectPages<T>(
  list: (page: PageRequest) => Promise<T[]>,
  cursorOf: (row: T) => PageCursor,
  limit: number,
  ascending: boolean,
): Promise<T[]> {
  const all: T[] = [];
  let afterCursor: PageCursor | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const rows = await list(afterCursor === undefined ? { limit, ascending } : { limit, ascending, after: afterCursor });
    assert.ok(rows.length <= limit, 'a page never exceeds its limit');
    all.push(...rows);
    const last = rows[rows.length - 1];
    if (rows.length < limit || last === undefined) return all;
    afterCursor = cursorOf(last);
  }
  throw new Error('pagination did not terminate');
}

/** Expected order of rows by (createdAt, key). */
function sortedKeys<T>(rows: readonly T[], cursorOf: (row: T) => PageCursor, ascending: boolean): string[] {
  const sorted = [...rows].sort((a, b) => {
    const ca = cursorOf(a);
    const cb = cursorOf(b);
    const d = ca.createdAt.getTime() - cb.createdAt.getTime() || (ca.key < cb.key ? -1 : ca.key > cb.key ? 1 : 0);
    return ascending ? d : -d;
  });
  return sorted.map((r) => cursorOf(r).key);
}

/** Creation offsets with ties: two rows share each of the first two milliseconds. */
const TIED_OFFSETS = [0, 0, 1, 1, 2] as const;

const isDuplicate = (e: unknown): boolean => e instanceof DuplicateKeyError;
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function registryStoreContract(
  name: string,
  open: () => Promise<RegistryStore>,
  options: RegistryStoreContractOptions = {},
): void {
  describe(`RegistryStore contract: ${name}`, () => {
    let store: RegistryStore;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });

    describe('accounts', () => {
      it('finds an inserted account by id, access key id, endpoint prefix and name', async () => {
        const account = makeAccount({ strictCaMode: true });
        await store.insertAccount(account);
        assert.deepEqual(await store.getAccount(account.accountId), account);
        assert.deepEqual(await store.getAccountByAccessKeyId(account.accessKeyId), account);
        assert.deepEqual(await store.getAccountByEndpointPrefix(account.endpointPrefix), account);
        assert.deepEqual(await store.getAccountByName(account.name), account);
        assert.equal(await store.getAccount(newAccountId()), undefined);
        assert.equal(await store.getAccountByAccessKeyId(newAccessKeyId()), undefined);
      });

      it('refuses a duplicate id, name, access key id or endpoint prefix with DuplicateKeyError', async () => {
        const account = makeAccount();
        await store.insertAccount(account);
        await assert.rejects(store.insertAccount(makeAccount({ accountId: account.accountId })), isDuplicate);
        await assert.rejects(store.insertAccount(makeAccount({ name: account.name })), isDuplicate);
        await assert.rejects(store.insertAccount(makeAccount({ accessKeyId: account.accessKeyId })), isDuplicate);
        await assert.rejects(store.insertAccount(makeAccount({ endpointPrefix: account.endpointPrefix })), isDuplicate);
      });

      it('updates an existing account and returns false for a missing one', async () => {
        const account = makeAccount();
        await store.insertAccount(account);
        const renamed = { ...account, name: `renamed-${randomHex(4)}`, strictCaMode: true };
        assert.equal(await store.updateAccount(renamed), true);
        assert.deepEqual(await store.getAccount(account.accountId), renamed);
        assert.equal(await store.updateAccount(makeAccount()), false);
      });

      it('lists accounts by creation time', async () => {
        const later = makeAccount({ createdAt: at(5000) });
        const earlier = makeAccount({ createdAt: at(4000) });
        await store.insertAccount(later);
        await store.insertAccount(earlier);
        const ids = (await store.listAccounts()).map((a) => a.accountId);
        const i = ids.indexOf(earlier.accountId);
        const j = ids.indexOf(later.accountId);
        assert.ok(i >= 0 && j > i, 'both listed, earlier first');
      });
    });

    describe('registration codes', () => {
      it('puts, replaces, reads and deletes one code per account and region', async () => {
        const scope = newScope();
        const other = { ...scope, region: OTHER_REGION };
        assert.equal(await store.getRegistrationCode(scope), undefined);
        await store.putRegistrationCode(scope, 'code-1');
        await store.putRegistrationCode(scope, 'code-2');
        assert.equal(await store.getRegistrationCode(scope), 'code-2');
        assert.equal(await store.getRegistrationCode(other), undefined);
        assert.equal(await store.deleteRegistrationCode(scope), true);
        assert.equal(await store.deleteRegistrationCode(scope), false);
        assert.equal(await store.getRegistrationCode(scope), undefined);
      });
    });

    describe('certificates', () => {
      it('round-trips every field, including transfer data dates and nulls', async () => {
        const scope = newScope();
        const cert = makeCertificate(scope, {
          caCertificateId: randomHex(32),
          status: 'PENDING_TRANSFER',
          certificateMode: 'SNI_ONLY',
          previousOwnedBy: newAccountId(),
          transferTo: newAccountId(),
          transferData: { transferMessage: 'take it', transferDate: at(123) },
          customerVersion: 7,
        });
        await store.insertCertificate(cert);
        assert.deepEqual(await store.getCertificate(scope, cert.certificateId), cert);
      });

      it('refuses a duplicate (scope, id) with DuplicateKeyError', async () => {
        const scope = newScope();
        const cert = makeCertificate(scope);
        await store.insertCertificate(cert);
        await assert.rejects(store.insertCertificate({ ...cert, status: 'INACTIVE' }), isDuplicate);
        assert.equal((await store.getCertificate(scope, cert.certificateId))?.status, 'ACTIVE');
      });

      it('keeps the same id in two accounts and two regions apart', async () => {
        const a = newScope();
        const b = newScope();
        const aOther = { ...a, region: OTHER_REGION };
        const id = randomHex(32);
        await store.insertCertificate(makeCertificate(a, { certificateId: id, status: 'ACTIVE' }));
        await store.insertCertificate(makeCertificate(b, { certificateId: id, status: 'INACTIVE' }));
        await store.insertCertificate(makeCertificate(aOther, { certificateId: id, status: 'REVOKED' }));
        assert.equal((await store.getCertificate(a, id))?.status, 'ACTIVE');
        assert.equal((await store.getCertificate(b, id))?.status, 'INACTIVE');
        assert.equal((await store.getCertificate(aOther, id))?.status, 'REVOKED');
        assert.equal(await store.deleteCertificate(b, id), true);
        assert.ok(await store.getCertificate(a, id), 'deleting in one account leaves the other');

        const inRegion = await store.findCertificatesInRegion(REGION, id);
        assert.deepEqual(inRegion.map((c) => c.scope), [a]);
        const other = await store.findCertificatesInRegion(OTHER_REGION, id);
        assert.deepEqual(other.map((c) => c.scope), [aOther]);
      });

      it('findCertificatesInRegion returns the registrations of every account', async () => {
        const id = randomHex(32);
        const scopes = [newScope(), newScope(), newScope()];
        for (const s of scopes) await store.insertCertificate(makeCertificate(s, { certificateId: id, certificateMode: 'SNI_ONLY' }));
        const found = await store.findCertificatesInRegion(REGION, id);
        assert.deepEqual(
          found.map((c) => c.scope.accountId).sort(),
          scopes.map((s) => s.accountId).sort(),
        );
        assert.deepEqual(await store.findCertificatesInRegion(REGION, randomHex(32)), []);
      });

      it('one DEFAULT and several SNI_ONLY registrations of an id coexist; each is found with its mode (relied on by issue 10 #7)', async () => {
        const id = randomHex(32);
        const [owner, squatter, other] = [newScope(), newScope(), newScope()];
        await store.insertCertificate(makeCertificate(squatter, { certificateId: id, certificateMode: 'SNI_ONLY' }));
        await store.insertCertificate(makeCertificate(owner, { certificateId: id, certificateMode: 'DEFAULT' }));
        await store.insertCertificate(makeCertificate(other, { certificateId: id, certificateMode: 'SNI_ONLY' }));
        const modes = new Map((await store.findCertificatesInRegion(REGION, id)).map((c) => [c.scope.accountId, c.certificateMode]));
        assert.deepEqual(modes, new Map([[owner.accountId, 'DEFAULT'], [squatter.accountId, 'SNI_ONLY'], [other.accountId, 'SNI_ONLY']]));
        const caId = randomHex(32);
        await store.insertCaCertificate(makeCa(squatter, { certificateId: caId, certificateMode: 'SNI_ONLY' }));
        await store.insertCaCertificate(makeCa(owner, { certificateId: caId, certificateMode: 'DEFAULT' }));
        const caModes = new Map((await store.findCaCertificatesInRegion(REGION, caId)).map((c) => [c.scope.accountId, c.certificateMode]));
        assert.deepEqual(caModes, new Map([[owner.accountId, 'DEFAULT'], [squatter.accountId, 'SNI_ONLY']]));
      });

      it('attachments of a certificate ARN are removed in its own scope only (relied on by issue 10 #8)', async () => {
        const [source, target] = [newScope(), newScope()];
        const id = randomHex(32);
        const arn = certArn(source, id);
        const policyName = `p-${randomHex(4)}`;
        for (const scope of [source, target]) {
          await store.insertPolicyAttachment({ scope, policyName, target: arn, createdAt: at(1) });
          await store.putThingPrincipal({ scope, thingName: 't1', principal: arn, thingPrincipalType: 'NON_EXCLUSIVE_THING', createdAt: at(1) });
        }
        assert.equal(await store.deletePolicyAttachment(source, policyName, arn), true);
        assert.equal(await store.deleteThingPrincipal(source, 't1', arn), true);
        assert.equal(await store.countAttachedPolicies(source, arn), 0);
        assert.equal(await store.countPrincipalThings(source, arn), 0);
        assert.equal(await store.countAttachedPolicies(target, arn), 1, 'the other account keeps its rows');
        assert.equal(await store.countPrincipalThings(target, arn), 1);
      });

      it('updates an existing row and returns false for a missing one', async () => {
        const scope = newScope();
        const cert = makeCertificate(scope);
        await store.insertCertificate(cert);
        const updated: Certificate = { ...cert, status: 'REVOKED', lastModifiedDate: at(99), customerVersion: 2 };
        assert.equal(await store.updateCertificate(updated), true);
        assert.deepEqual(await store.getCertificate(scope, cert.certificateId), updated);
        assert.equal(await store.updateCertificate(makeCertificate(scope)), false);
        assert.equal(await store.updateCertificate(makeCertificate(newScope(), { certificateId: cert.certificateId })), false);
      });

      it('deletes and returns false when already gone', async () => {
        const scope = newScope();
        const cert = makeCertificate(scope);
        await store.insertCertificate(cert);
        assert.equal(await store.deleteCertificate(scope, cert.certificateId), true);
        assert.equal(await store.getCertificate(scope, cert.certificateId), undefined);
        assert.equal(await store.deleteCertificate(scope, cert.certificateId), false);
      });

      it('counts certificates by CA and filters the list by CA', async () => {
        const scope = newScope();
        const ca = randomHex(32);
        const issued = [makeCertificate(scope, { caCertificateId: ca }), makeCertificate(scope, { caCertificateId: ca })];
        for (const c of issued) await store.insertCertificate(c);
        await store.insertCertificate(makeCertificate(scope));
        await store.insertCertificate(makeCertificate(newScope(), { caCertificateId: ca }));
        assert.equal(await store.countCertificatesByCa(scope, ca), 2);
        assert.equal(await store.countCertificatesByCa(scope, randomHex(32)), 0);
        const listed = await store.listCertificates(scope, { caCertificateId: ca }, { limit: 10, ascending: true });
        assert.deepEqual(listed.map((c) => c.certificateId).sort(), issued.map((c) => c.certificateId).sort());
        assert.equal((await store.listCertificates(scope, {}, { limit: 10, ascending: true })).length, 3);
      });

      it('pages by (creationDate, certificateId) in both orders, with ties on creationDate', async () => {
        const scope = newScope();
        const certs = TIED_OFFSETS.map((o) => makeCertificate(scope, { creationDate: at(o) }));
        for (const c of certs) await store.insertCertificate(c);
        const cursor = (c: Certificate): PageCursor => ({ createdAt: c.creationDate, key: c.certificateId });
        for (const ascending of [true, false]) {
          const all = await collectPages((p) => store.listCertificates(scope, {}, p), cursor, 2, ascending);
          assert.deepEqual(all.map((c) => c.certificateId), sortedKeys(certs, cursor, ascending), `ascending=${ascending}`);
        }
      });
    });

    describe('certificate transfers', () => {
      async function offer(): Promise<{ source: Scope; target: Scope; cert: Certificate }> {
        const source = newScope();
        const target = newScope();
        const cert = makeCertificate(source, {
          status: 'PENDING_TRANSFER',
          transferTo: target.accountId,
          transferData: { transferMessage: 'hello', transferDate: at(10) },
        });
        await store.insertCertificate(cert);
        return { source, target, cert };
      }

      it('a pending transfer is visible to its target through getCertificateOfferedTo only', async () => {
        const { source, target, cert } = await offer();
        assert.deepEqual(await store.getCertificateOfferedTo(target, cert.certificateId), cert);
        assert.equal(await store.getCertificate(target, cert.certificateId), undefined);
        assert.equal(await store.getCertificateOfferedTo(newScope(), cert.certificateId), undefined);
        assert.equal(await store.getCertificateOfferedTo({ ...target, region: OTHER_REGION }, cert.certificateId), undefined);
        assert.equal(await store.getCertificateOfferedTo(source, cert.certificateId), undefined);
      });

      it('an offer stops being visible once the certificate leaves PENDING_TRANSFER', async () => {
        const { target, cert } = await offer();
        await store.updateCertificate({ ...cert, status: 'INACTIVE' });
        assert.equal(await store.getCertificateOfferedTo(target, cert.certificateId), undefined);
        assert.deepEqual(await store.listCertificates(target, {}, { limit: 10, ascending: true }), []);
      });

      it('listCertificates of the target includes offered certificates; the source lists them as outgoing', async () => {
        const { source, target, cert } = await offer();
        const owned = makeCertificate(target, { creationDate: at(20) });
        await store.insertCertificate(owned);
        const targetList = await store.listCertificates(target, {}, { limit: 10, ascending: true });
        assert.deepEqual(targetList.map((c) => c.certificateId), [cert.certificateId, owned.certificateId]);
        const sourceList = await store.listCertificates(source, {}, { limit: 10, ascending: true });
        assert.deepEqual(sourceList.map((c) => c.certificateId), [cert.certificateId]);

        await store.insertCertificate(makeCertificate(source, { status: 'INACTIVE' }));
        const outgoing = await store.listOutgoingCertificates(source, { limit: 10, ascending: false });
        assert.deepEqual(outgoing, [cert]);
        assert.deepEqual(await store.listOutgoingCertificates(target, { limit: 10, ascending: false }), []);
      });

      it('accepting moves the row to the target scope via updateCertificate(cert, previousScope)', async () => {
        const { source, target, cert } = await offer();
        const accepted: Certificate = {
          ...cert,
          scope: target,
          status: 'ACTIVE',
          ownedBy: target.accountId,
          previousOwnedBy: source.accountId,
          transferTo: null,
          transferData: { ...cert.transferData, acceptDate: at(30) },
          lastModifiedDate: at(30),
        };
        assert.equal(await store.updateCertificate(accepted, source), true);
        assert.equal(await store.getCertificate(source, cert.certificateId), undefined);
        assert.deepEqual(await store.getCertificate(target, cert.certificateId), accepted);
        assert.equal(await store.getCertificateOfferedTo(target, cert.certificateId), undefined);
        assert.deepEqual(await store.findCertificatesInRegion(REGION, cert.certificateId), [accepted]);
        assert.equal(await store.updateCertificate(accepted, source), false, 'the source row is gone');
      });

      it('moving onto an existing registration throws DuplicateKeyError and changes nothing', async () => {
        const { source, target, cert } = await offer();
        await store.insertCertificate(makeCertificate(target, { certificateId: cert.certificateId, certificateMode: 'SNI_ONLY' }));
        await assert.rejects(store.updateCertificate({ ...cert, scope: target, transferTo: null }, source), isDuplicate);
        assert.deepEqual(await store.getCertificate(source, cert.certificateId), cert);
      });
    });

    describe('CA certificates', () => {
      it('round-trips, refuses duplicates, updates and deletes', async () => {
        const scope = newScope();
        const ca = makeCa(scope, {
          autoRegistrationStatus: 'ENABLE',
          registrationConfig: { templateBody: '{"Resources":{}}', roleArn: 'arn:aws:iam::123456789012:role/x' },
          subjectKeyId: null,
        });
        await store.insertCaCertificate(ca);
        assert.deepEqual(await store.getCaCertificate(scope, ca.certificateId), ca);
        await assert.rejects(store.insertCaCertificate(ca), isDuplicate);
        const inactive: CaCertificate = { ...ca, status: 'INACTIVE', registrationConfig: null, customerVersion: 2 };
        assert.equal(await store.updateCaCertificate(inactive), true);
        assert.deepEqual(await store.getCaCertificate(scope, ca.certificateId), inactive);
        assert.equal(await store.updateCaCertificate(makeCa(scope)), false);
        assert.equal(await store.deleteCaCertificate(scope, ca.certificateId), true);
        assert.equal(await store.deleteCaCertificate(scope, ca.certificateId), false);
        assert.equal(await store.getCaCertificate(scope, ca.certificateId), undefined);
      });

      it('finds a CA across accounts in a region, and by subject within a scope', async () => {
        const a = newScope();
        const b = newScope();
        const id = randomHex(32);
        const subject = `CN=CA ${randomHex(4)},O=certgate`;
        await store.insertCaCertificate(makeCa(a, { certificateId: id, subject, certificateMode: 'SNI_ONLY' }));
        await store.insertCaCertificate(makeCa(b, { certificateId: id, subject, certificateMode: 'SNI_ONLY' }));
        await store.insertCaCertificate(makeCa({ ...a, region: OTHER_REGION }, { certificateId: id, subject }));
        const inRegion = await store.findCaCertificatesInRegion(REGION, id);
        assert.deepEqual(inRegion.map((c) => c.scope.accountId).sort(), [a.accountId, b.accountId].sort());
        const bySubject = await store.findCaCertificatesBySubject(a, subject);
        assert.deepEqual(bySubject.map((c) => [c.scope, c.certificateId]), [[a, id]]);
        assert.deepEqual(await store.findCaCertificatesBySubject(a, 'CN=nobody'), []);
        const regionWide = await store.findCaCertificatesBySubjectInRegion(REGION, subject);
        assert.deepEqual(regionWide.map((c) => c.scope.accountId).sort(), [a.accountId, b.accountId].sort(), 'every account of the region, not the other region');
        assert.deepEqual(await store.findCaCertificatesBySubjectInRegion(REGION, 'CN=nobody'), []);
      });

      it('pages by (creationDate, certificateId) in both orders', async () => {
        const scope = newScope();
        const cas = TIED_OFFSETS.map((o) => makeCa(scope, { creationDate: at(o) }));
        for (const c of cas) await store.insertCaCertificate(c);
        const cursor = (c: CaCertificate): PageCursor => ({ createdAt: c.creationDate, key: c.certificateId });
        for (const ascending of [true, false]) {
          const all = await collectPages((p) => store.listCaCertificates(scope, p), cursor, 2, ascending);
          assert.deepEqual(all.map((c) => c.certificateId), sortedKeys(cas, cursor, ascending));
        }
      });
    });

    describe('things', () => {
      it('round-trips, refuses duplicates, updates and deletes', async () => {
        const scope = newScope();
        const thing = makeThing(scope, 'sensor-1', { thingTypeName: 'Sensor', attributes: { room: 'kitchen', floor: '1' } });
        await store.insertThing(thing);
        assert.deepEqual(await store.getThing(scope, 'sensor-1'), thing);
        await assert.rejects(store.insertThing(makeThing(scope, 'sensor-1')), isDuplicate);
        assert.deepEqual(await store.getThing(scope, 'sensor-1'), thing, 'a refused insert changes nothing');
        const updated: Thing = { ...thing, attributes: { room: 'hall' }, version: 2, billingGroupName: 'bg' };
        assert.equal(await store.updateThing(updated), true);
        assert.deepEqual(await store.getThing(scope, 'sensor-1'), updated);
        assert.equal(await store.updateThing(makeThing(scope, 'missing')), false);
        assert.equal(await store.deleteThing(scope, 'sensor-1'), true);
        assert.equal(await store.deleteThing(scope, 'sensor-1'), false);
        assert.equal(await store.getThing(scope, 'sensor-1'), undefined);
      });

      it('keeps the same thing name in two accounts and two regions apart', async () => {
        const a = newScope();
        const b = newScope();
        await store.insertThing(makeThing(a, 'dev', { version: 1 }));
        await store.insertThing(makeThing(b, 'dev', { version: 2 }));
        await store.insertThing(makeThing({ ...a, region: OTHER_REGION }, 'dev', { version: 3 }));
        assert.equal((await store.getThing(a, 'dev'))?.version, 1);
        assert.equal((await store.getThing(b, 'dev'))?.version, 2);
        assert.equal((await store.getThing({ ...a, region: OTHER_REGION }, 'dev'))?.version, 3);
        assert.deepEqual((await store.listThings(a, {}, 10)).map((t) => t.scope), [a]);
      });

      it('lists by name with type and attribute filters, limit and an exclusive afterName', async () => {
        const scope = newScope();
        await store.insertThing(makeThing(scope, 'c', { thingTypeName: 'Lamp', attributes: { room: 'kitchen' } }));
        await store.insertThing(makeThing(scope, 'a', { thingTypeName: 'Lamp', attributes: { room: 'hall' } }));
        await store.insertThing(makeThing(scope, 'b', { thingTypeName: 'Sensor', attributes: { room: 'kitchen' } }));
        await store.insertThing(makeThing(scope, 'd', { attributes: { floor: 'kitchen' } }));
        const names = async (filter: Parameters<RegistryStore['listThings']>[1], limit = 10, afterName?: string) =>
          (await store.listThings(scope, filter, limit, afterName)).map((t) => t.thingName);
        assert.deepEqual(await names({}), ['a', 'b', 'c', 'd']);
        assert.deepEqual(await names({}, 2), ['a', 'b']);
        assert.deepEqual(await names({}, 2, 'b'), ['c', 'd']);
        assert.deepEqual(await names({ thingTypeName: 'Lamp' }), ['a', 'c']);
        assert.deepEqual(await names({ attributeName: 'room', attributeValue: 'kitchen' }), ['b', 'c']);
        assert.deepEqual(await names({ attributeName: 'room' }), ['a', 'b', 'c']);
        assert.deepEqual(await names({ thingTypeName: 'Lamp', attributeName: 'room', attributeValue: 'kitchen' }), ['c']);
        // the filter follows updates and deletes
        const b = await store.getThing(scope, 'b');
        assert.ok(b);
        await store.updateThing({ ...b, attributes: { room: 'attic' }, version: 2 });
        await store.deleteThing(scope, 'c');
        assert.deepEqual(await names({ attributeName: 'room', attributeValue: 'kitchen' }), []);
        assert.deepEqual(await names({ attributeName: 'room', attributeValue: 'attic' }), ['b']);
      });
    });

    describe('thing principals', () => {
      it('links both ways, upserts the type, counts, pages and deletes', async () => {
        const scope = newScope();
        const p1 = certArn(scope, 'a'.repeat(64));
        const p2 = certArn(scope, 'b'.repeat(64));
        const link = (thingName: string, principal: string, type: ThingPrincipal['thingPrincipalType'] = 'NON_EXCLUSIVE_THING'): ThingPrincipal => ({
          scope,
          thingName,
          principal,
          thingPrincipalType: type,
          createdAt: at(0),
        });
        await store.putThingPrincipal(link('t1', p1));
        await store.putThingPrincipal(link('t1', p2));
        await store.putThingPrincipal(link('t2', p1));
        await store.putThingPrincipal(link('t3', p1));
        await store.putThingPrincipal(link('t1', p1, 'EXCLUSIVE_THING'));

        assert.equal(await store.countThingPrincipals(scope, 't1'), 2);
        assert.equal(await store.countPrincipalThings(scope, p1), 3);
        assert.equal(await store.countPrincipalThings({ ...scope, region: OTHER_REGION }, p1), 0);

        const ofT1 = await store.listThingPrincipals(scope, 't1', 10);
        assert.deepEqual(ofT1, [link('t1', p1, 'EXCLUSIVE_THING'), link('t1', p2)]);
        assert.deepEqual((await store.listThingPrincipals(scope, 't1', 1, p1)).map((l) => l.principal), [p2]);

        assert.deepEqual((await store.listPrincipalThings(scope, p1, 10)).map((l) => l.thingName), ['t1', 't2', 't3']);
        assert.deepEqual((await store.listPrincipalThings(scope, p1, 1, 't1')).map((l) => l.thingName), ['t2']);

        assert.equal(await store.deleteThingPrincipal(scope, 't1', p1), true);
        assert.equal(await store.deleteThingPrincipal(scope, 't1', p1), false);
        assert.equal(await store.countThingPrincipals(scope, 't1'), 1);
        assert.equal(await store.countPrincipalThings(scope, p1), 2);
      });
    });

    describe('policies', () => {
      it('round-trips, refuses duplicates, updates and returns false when missing', async () => {
        const scope = newScope();
        const policy = makePolicy(scope, 'p');
        await store.insertPolicy(policy);
        assert.deepEqual(await store.getPolicy(scope, 'p'), policy);
        await assert.rejects(store.insertPolicy(policy), isDuplicate);
        const next: Policy = { ...policy, defaultVersionId: '2', nextVersionId: 3, lastModifiedDate: at(5) };
        assert.equal(await store.updatePolicy(next), true);
        assert.deepEqual(await store.getPolicy(scope, 'p'), next);
        assert.equal(await store.updatePolicy(makePolicy(scope, 'missing')), false);
        assert.equal(await store.getPolicy({ ...scope, region: OTHER_REGION }, 'p'), undefined);
      });

      it('lists versions newest first (numerically within one millisecond) and deletes one', async () => {
        const scope = newScope();
        await store.insertPolicy(makePolicy(scope, 'p'));
        const versions = [makeVersion(scope, 'p', '1', at(0))];
        for (const id of ['2', '9', '10', '11']) versions.push(makeVersion(scope, 'p', id, at(100)));
        for (const v of versions) await store.insertPolicyVersion(v);
        await assert.rejects(store.insertPolicyVersion(makeVersion(scope, 'p', '2', at(200))), isDuplicate);
        assert.deepEqual((await store.listPolicyVersions(scope, 'p')).map((v) => v.versionId), ['11', '10', '9', '2', '1']);
        assert.deepEqual(await store.getPolicyVersion(scope, 'p', '9'), versions[2]);
        assert.equal(await store.deletePolicyVersion(scope, 'p', '9'), true);
        assert.equal(await store.deletePolicyVersion(scope, 'p', '9'), false);
        assert.equal(await store.getPolicyVersion(scope, 'p', '9'), undefined);
      });

      it('deletePolicy removes the policy and all its versions only', async () => {
        const scope = newScope();
        await store.insertPolicy(makePolicy(scope, 'p'));
        await store.insertPolicy(makePolicy(scope, 'q'));
        await store.insertPolicyVersion(makeVersion(scope, 'p', '1', at(0)));
        await store.insertPolicyVersion(makeVersion(scope, 'p', '2', at(1)));
        await store.insertPolicyVersion(makeVersion(scope, 'q', '1', at(0)));
        assert.equal(await store.deletePolicy(scope, 'p'), true);
        assert.equal(await store.getPolicy(scope, 'p'), undefined);
        assert.deepEqual(await store.listPolicyVersions(scope, 'p'), []);
        assert.equal((await store.listPolicyVersions(scope, 'q')).length, 1);
        assert.equal(await store.deletePolicy(scope, 'p'), false);
        // a policy created again under the same name starts with no versions
        await store.insertPolicy(makePolicy(scope, 'p'));
        assert.deepEqual(await store.listPolicyVersions(scope, 'p'), []);
      });

      it('pages policies by (creationDate, policyName) in both orders', async () => {
        const scope = newScope();
        const policies = TIED_OFFSETS.map((o, i) => makePolicy(scope, `pol-${String.fromCharCode(101 - i)}`, { creationDate: at(o) }));
        for (const p of policies) await store.insertPolicy(p);
        const cursor = (p: Policy): PageCursor => ({ createdAt: p.creationDate, key: p.policyName });
        for (const ascending of [true, false]) {
          const all = await collectPages((p) => store.listPolicies(scope, p), cursor, 2, ascending);
          assert.deepEqual(all.map((p) => p.policyName), sortedKeys(policies, cursor, ascending));
        }
      });
    });

    describe('policy attachments', () => {
      it('attaches once, counts and lists both ways, pages and detaches', async () => {
        const scope = newScope();
        const target = certArn(scope, randomHex(32));
        const otherTarget = certArn(scope, randomHex(32));
        const attach = (policyName: string, t: string, offset: number): PolicyAttachment => ({
          scope,
          policyName,
          target: t,
          createdAt: at(offset),
        });
        const onTarget = TIED_OFFSETS.map((o, i) => attach(`p${i}`, target, o));
        for (const a of onTarget) await store.insertPolicyAttachment(a);
        await store.insertPolicyAttachment(attach('p0', otherTarget, 0));
        await assert.rejects(store.insertPolicyAttachment(attach('p0', target, 50)), isDuplicate);

        assert.equal(await store.countAttachedPolicies(scope, target), 5);
        assert.equal(await store.countPolicyTargets(scope, 'p0'), 2);
        assert.equal(await store.countPolicyTargets({ ...scope, accountId: newAccountId() }, 'p0'), 0);

        const byPolicy = (a: PolicyAttachment): PageCursor => ({ createdAt: a.createdAt, key: a.policyName });
        for (const ascending of [true, false]) {
          const all = await collectPages((p) => store.listAttachedPolicies(scope, target, p), byPolicy, 2, ascending);
          assert.deepEqual(all.map((a) => a.policyName), sortedKeys(onTarget, byPolicy, ascending));
        }
        const targets = [attach('p0', target, 0), attach('p0', otherTarget, 0)];
        const byTarget = (a: PolicyAttachment): PageCursor => ({ createdAt: a.createdAt, key: a.target });
        for (const ascending of [true, false]) {
          const all = await collectPages((p) => store.listPolicyTargets(scope, 'p0', p), byTarget, 1, ascending);
          assert.deepEqual(all.map((a) => a.target), sortedKeys(targets, byTarget, ascending));
        }

        assert.equal(await store.deletePolicyAttachment(scope, 'p0', target), true);
        assert.equal(await store.deletePolicyAttachment(scope, 'p0', target), false);
        assert.equal(await store.countAttachedPolicies(scope, target), 4);
        assert.equal(await store.countPolicyTargets(scope, 'p0'), 1);
      });
    });

    describe('transactions', () => {
      it('commits every write and resolves with fn’s value', async () => {
        const scope = newScope();
        const cert = makeCertificate(scope);
        const result = await store.transaction(async (tx) => {
          await tx.insertCertificate(cert);
          await tx.insertPolicy(makePolicy(scope, 'p'));
          return 42;
        });
        assert.equal(result, 42);
        assert.ok(await store.getCertificate(scope, cert.certificateId));
        assert.ok(await store.getPolicy(scope, 'p'));
      });

      it('a thrown error rolls back every write of the transaction, including updates and deletes', async () => {
        const scope = newScope();
        const kept = makeCertificate(scope);
        await store.insertCertificate(kept);
        const fresh = makeCertificate(scope);
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insertCertificate(fresh);
            await tx.updateCertificate({ ...kept, status: 'REVOKED' });
            await tx.insertThing(makeThing(scope, 't', { attributes: { k: 'v' } }));
            await tx.putRegistrationCode(scope, 'code');
            await tx.deleteCertificate(scope, kept.certificateId);
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await store.getCertificate(scope, fresh.certificateId), undefined);
        assert.deepEqual(await store.getCertificate(scope, kept.certificateId), kept);
        assert.equal(await store.getThing(scope, 't'), undefined);
        assert.deepEqual(await store.listThings(scope, { attributeName: 'k' }, 10), []);
        assert.equal(await store.getRegistrationCode(scope), undefined);
      });

      it('a DuplicateKeyError thrown out of fn rolls back earlier writes', async () => {
        const scope = newScope();
        const existing = makeCertificate(scope);
        await store.insertCertificate(existing);
        const fresh = makeCertificate(scope);
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insertCertificate(fresh);
            await tx.insertCertificate(existing);
          }),
          isDuplicate,
        );
        assert.equal(await store.getCertificate(scope, fresh.certificateId), undefined);
      });

      it('a nested transaction joins the outer one: an outer failure undoes the inner writes', async () => {
        const scope = newScope();
        await assert.rejects(
          store.transaction(async (tx) => {
            const inner = await tx.transaction(async (tx2) => {
              await tx2.insertPolicy(makePolicy(scope, 'inner'));
              return 'ok';
            });
            assert.equal(inner, 'ok');
            assert.ok(await tx.getPolicy(scope, 'inner'), 'visible inside the outer transaction');
            throw new Error('outer fails');
          }),
          /outer fails/,
        );
        assert.equal(await store.getPolicy(scope, 'inner'), undefined);
      });

      it('concurrent transactions do not interleave: one failing leaves the other whole', async () => {
        const scope = newScope();
        const failing = store.transaction(async (tx) => {
          await tx.insertPolicy(makePolicy(scope, 'failing-1'));
          await delay(20);
          await tx.insertPolicy(makePolicy(scope, 'failing-2'));
          throw new Error('fail after yielding');
        });
        const succeeding = store.transaction(async (tx) => {
          await tx.insertPolicy(makePolicy(scope, 'ok-1'));
          await delay(5);
          await tx.insertPolicy(makePolicy(scope, 'ok-2'));
          return 'done';
        });
        // a plain read issued meanwhile never sees uncommitted rows
        const peek = store.getPolicy(scope, 'failing-1');
        const [f, s, seen] = await Promise.allSettled([failing, succeeding, peek]);
        assert.equal(f.status, 'rejected');
        assert.deepEqual(s, { status: 'fulfilled', value: 'done' });
        assert.deepEqual(seen, { status: 'fulfilled', value: undefined });
        const names = (await store.listPolicies(scope, { limit: 10, ascending: true })).map((p) => p.policyName);
        assert.deepEqual(names, ['ok-1', 'ok-2']);
      });

      it('many concurrent transactions each commit atomically', async () => {
        const scope = newScope();
        const runs = Array.from({ length: 8 }, (_, i) =>
          store.transaction(async (tx) => {
            await tx.insertPolicy(makePolicy(scope, `p${i}`));
            await delay(1);
            if (i % 2 === 1) throw new Error(`odd ${i}`);
            await tx.insertPolicyVersion(makeVersion(scope, `p${i}`, '1', at(0)));
          }),
        );
        const results = await Promise.allSettled(runs);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected']);
        const names = (await store.listPolicies(scope, { limit: 20, ascending: true })).map((p) => p.policyName);
        assert.deepEqual(names, ['p0', 'p2', 'p4', 'p6']);
        for (const n of names) assert.equal((await store.listPolicyVersions(scope, n)).length, 1);
      });
    });

    if (options.persistent === true) {
      describe('durability', () => {
        it('committed data survives close and reopen', async () => {
          const scope = newScope();
          const account = makeAccount({ accountId: scope.accountId });
          const cert = makeCertificate(scope);
          const first = await open();
          await first.insertAccount(account);
          await first.transaction(async (tx) => {
            await tx.insertCertificate(cert);
            await tx.insertThing(makeThing(scope, 'kept', { attributes: { a: 'b' } }));
          });
          await first.close();
          const second = await open();
          try {
            assert.deepEqual(await second.getAccount(account.accountId), account);
            assert.deepEqual(await second.getCertificate(scope, cert.certificateId), cert);
            assert.deepEqual((await second.listThings(scope, { attributeName: 'a', attributeValue: 'b' }, 10)).map((t) => t.thingName), ['kept']);
          } finally {
            await second.close();
          }
        });
      });
    }
  });
}
