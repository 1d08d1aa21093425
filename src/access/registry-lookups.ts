import type { Clock, Scope } from '../kernel/index.js';
import type { Account, CaCertificate, Certificate, RegistryStore, Thing, ThingPrincipal } from '../registry/index.js';
import { BoundedMap } from './bounded-map.js';

interface Timed<V> {
  readonly value: V;
  readonly expiresAt: number;
}

export interface RegistryLookupOptions {
  /**
   * Longest time a cached registry read is trusted. Registry events invalidate at once; the TTL only
   * bounds staleness for changes that announce no event (account settings such as strictCaMode,
   * certificate transfers, CA deletion).
   */
  readonly ttlMs: number;
  /** Maximum number of certificate ids (and of accounts/CAs) kept. */
  readonly capacity: number;
}

const scopeKey = (scope: Scope): string => `${scope.accountId}|${scope.region}`;

/**
 * The registry reads admission makes, cached. Only found rows are cached: a certificate that is
 * registered later announces no event, so "unknown" must always ask the store again.
 * Certificate entries are grouped by certificate id so an event for one id drops every lookup of it.
 */
export class RegistryLookups {
  readonly #store: RegistryStore;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  /** certificateId → (lookup key → registrations). */
  readonly #certificates: BoundedMap<string, Map<string, Timed<readonly Certificate[]>>>;
  readonly #accountsByPrefix: BoundedMap<string, Timed<Account>>;
  readonly #accountsById: BoundedMap<string, Timed<Account>>;
  readonly #cas: BoundedMap<string, Timed<CaCertificate>>;
  /** `<scope>|<principal ARN>` → the things linked to it (an empty list too: AttachThingPrincipal announces itself). */
  readonly #principalThings: BoundedMap<string, Timed<readonly ThingPrincipal[]>>;
  /** `<scope>|<thing name>` → the thing (found rows only). */
  readonly #things: BoundedMap<string, Timed<Thing>>;
  /**
   * Bumped by every invalidation. A read records the epoch before asking the store and caches its
   * answer only if no invalidation happened meanwhile: an event that arrives while a lookup is in
   * flight must not be undone by that lookup caching the row it read before the change.
   */
  #epoch = 0;

  constructor(store: RegistryStore, clock: Clock, options: RegistryLookupOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = options.ttlMs;
    this.#certificates = new BoundedMap(options.capacity);
    this.#accountsByPrefix = new BoundedMap(options.capacity);
    this.#accountsById = new BoundedMap(options.capacity);
    this.#cas = new BoundedMap(options.capacity);
    this.#principalThings = new BoundedMap(options.capacity);
    this.#things = new BoundedMap(options.capacity);
  }

  /** Changes whenever anything is invalidated: an admission that saw it change re-checks (see admitPeer). */
  get epoch(): number {
    return this.#epoch;
  }

  #fresh<V>(entry: Timed<V> | undefined): V | undefined {
    return entry !== undefined && entry.expiresAt > this.#clock.now().getTime() ? entry.value : undefined;
  }

  #timed<V>(value: V): Timed<V> {
    return { value, expiresAt: this.#clock.now().getTime() + this.#ttlMs };
  }

  async accountByEndpointPrefix(prefix: string): Promise<Account | undefined> {
    const hit = this.#fresh(this.#accountsByPrefix.get(prefix));
    if (hit) return hit;
    const epoch = this.#epoch;
    const account = await this.#store.getAccountByEndpointPrefix(prefix);
    if (account && epoch === this.#epoch) this.#accountsByPrefix.set(prefix, this.#timed(account));
    return account;
  }

  async accountById(accountId: string): Promise<Account | undefined> {
    const hit = this.#fresh(this.#accountsById.get(accountId));
    if (hit) return hit;
    const epoch = this.#epoch;
    const account = await this.#store.getAccount(accountId);
    if (account && epoch === this.#epoch) this.#accountsById.set(accountId, this.#timed(account));
    return account;
  }

  /** The certificate registered in exactly this account and region (the SNI path). */
  async certificateInScope(scope: Scope, certificateId: string): Promise<Certificate | undefined> {
    const key = `scope|${scopeKey(scope)}`;
    const cached = this.#fresh(this.#certificates.get(certificateId)?.get(key));
    if (cached) return cached[0];
    const epoch = this.#epoch;
    const cert = await this.#store.getCertificate(scope, certificateId);
    // getCertificate may also answer for a certificate offered to this account by a pending transfer:
    // that one is not the account's yet.
    if (!cert || cert.scope.accountId !== scope.accountId || cert.scope.region !== scope.region) return undefined;
    if (epoch === this.#epoch) this.#putCertificate(certificateId, key, [cert]);
    return cert;
  }

  /** Every registration of the certificate in a region, across accounts (the no-SNI path). */
  async certificatesInRegion(region: string, certificateId: string): Promise<readonly Certificate[]> {
    const key = `region|${region}`;
    const cached = this.#fresh(this.#certificates.get(certificateId)?.get(key));
    if (cached) return cached;
    const epoch = this.#epoch;
    const found = await this.#store.findCertificatesInRegion(region, certificateId);
    if (found.length > 0 && epoch === this.#epoch) this.#putCertificate(certificateId, key, found);
    return found;
  }

  #putCertificate(certificateId: string, key: string, value: readonly Certificate[]): void {
    let byKey = this.#certificates.get(certificateId);
    if (!byKey) {
      byKey = new Map();
      this.#certificates.set(certificateId, byKey);
    }
    byKey.set(key, this.#timed(value));
  }

  async caCertificate(scope: Scope, caCertificateId: string): Promise<CaCertificate | undefined> {
    const key = `${scopeKey(scope)}|${caCertificateId}`;
    const hit = this.#fresh(this.#cas.get(key));
    if (hit) return hit;
    const epoch = this.#epoch;
    const ca = await this.#store.getCaCertificate(scope, caCertificateId);
    if (ca && epoch === this.#epoch) this.#cas.set(key, this.#timed(ca));
    return ca;
  }

  /** The things linked to a principal (read at every CONNECT for iot:Connection.Thing.*). */
  async principalThings(scope: Scope, principal: string, limit: number): Promise<readonly ThingPrincipal[]> {
    const key = `${scopeKey(scope)}|${principal}`;
    const hit = this.#fresh(this.#principalThings.get(key));
    if (hit) return hit;
    const epoch = this.#epoch;
    const links = await this.#store.listPrincipalThings(scope, principal, limit);
    if (epoch === this.#epoch) this.#principalThings.set(key, this.#timed(links));
    return links;
  }

  async thing(scope: Scope, thingName: string): Promise<Thing | undefined> {
    const key = `${scopeKey(scope)}|${thingName}`;
    const hit = this.#fresh(this.#things.get(key));
    if (hit) return hit;
    const epoch = this.#epoch;
    const thing = await this.#store.getThing(scope, thingName);
    if (thing && epoch === this.#epoch) this.#things.set(key, this.#timed(thing));
    return thing;
  }

  invalidatePrincipalThings(scope: Scope, principal: string): void {
    this.#epoch++;
    this.#principalThings.delete(`${scopeKey(scope)}|${principal}`);
  }

  invalidateThing(scope: Scope, thingName: string): void {
    this.#epoch++;
    this.#things.delete(`${scopeKey(scope)}|${thingName}`);
  }

  /** Certificate status change or deletion: every cached lookup of that certificate id goes. */
  invalidateCertificate(certificateId: string): void {
    this.#epoch++;
    this.#certificates.delete(certificateId);
  }

  invalidateCaCertificate(scope: Scope, caCertificateId: string): void {
    this.#epoch++;
    this.#cas.delete(`${scopeKey(scope)}|${caCertificateId}`);
  }

  invalidateAccount(accountId: string): void {
    this.#epoch++;
    this.#accountsById.delete(accountId);
    this.#accountsByPrefix.deleteWhere((entry) => entry.value.accountId === accountId);
  }

  clear(): void {
    this.#epoch++;
    this.#certificates.clear();
    this.#accountsByPrefix.clear();
    this.#accountsById.clear();
    this.#cas.clear();
    this.#principalThings.clear();
    this.#things.clear();
  }
}
