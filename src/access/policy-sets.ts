import type { Logger, Scope } from '../kernel/index.js';
import { compilePolicy, parsePolicyDocument } from '../policy/index.js';
import type { CompiledPolicy } from '../policy/index.js';
import type { PolicyVersion, RegistryStore } from '../registry/index.js';
import { BoundedMap } from './bounded-map.js';

/**
 * The compiled policies of one principal (a certificate ARN), shared by all its connections and kept
 * current by registry events: a connection reads `policies` synchronously at each evaluation.
 */
export interface PolicySet {
  readonly scope: Scope;
  readonly target: string;
  policies: readonly CompiledPolicy[];
  policyNames: ReadonlySet<string>;
  /** Set when the last reload failed: the set is empty (fail closed) and this says why. */
  loadError: string | undefined;
  /** Sequence of the newest reload started / applied: an older reload finishing late is discarded. */
  requested: number;
  applied: number;
  /** The first load; awaited by every authorize() that finds the set still loading. */
  ready: Promise<void>;
}

/** Policies per certificate: AWS allows 10; read generously so a limit change here is not silent. */
const ATTACHED_POLICIES_READ = 1000;

const principalKey = (scope: Scope, target: string): string => `${scope.accountId}|${scope.region}|${target}`;
const policyPrefix = (scope: Scope, policyName: string): string => `${scope.accountId}|${scope.region}|${policyName}|`;

/**
 * Compiled policy versions (shared, keyed by scope, name, version id and generation, so a policy deleted
 * and re-created with the same name never reuses a stale compilation), and the live principals' sets.
 * A set lives as long as a connection holds it (WeakRef): memory follows live connections, and a set
 * nobody holds is simply reloaded on the next authorize().
 */
export class PolicySets {
  readonly #store: RegistryStore;
  readonly #logger: Logger;
  readonly #compiled: BoundedMap<string, CompiledPolicy>;
  readonly #sets = new Map<string, WeakRef<PolicySet>>();
  readonly #finalizer = new FinalizationRegistry<string>((key) => {
    const ref = this.#sets.get(key);
    if (ref !== undefined && ref.deref() === undefined) this.#sets.delete(key);
  });

  constructor(store: RegistryStore, logger: Logger, compiledCapacity: number) {
    this.#store = store;
    this.#logger = logger;
    this.#compiled = new BoundedMap(compiledCapacity);
  }

  /** The principal's set, loaded (from cache when a live connection already holds it). Rejects if the store fails. */
  async get(scope: Scope, target: string): Promise<PolicySet> {
    const key = principalKey(scope, target);
    const live = this.#sets.get(key)?.deref();
    if (live) {
      await live.ready;
      // The last reload failed (fail closed): a new CONNECT retries it, and live connections recover with it.
      if (live.loadError !== undefined) await this.#reload(live, true);
      return live;
    }
    const set: PolicySet = {
      scope,
      target,
      policies: [],
      policyNames: new Set(),
      loadError: 'policies not loaded yet',
      requested: 0,
      applied: 0,
      ready: Promise.resolve(),
    };
    // Registered before loading, so an event arriving during the load triggers a newer reload.
    this.#sets.set(key, new WeakRef(set));
    this.#finalizer.register(set, key);
    set.ready = this.#reload(set, true);
    try {
      await set.ready;
    } catch (e) {
      if (this.#sets.get(key)?.deref() === set) this.#sets.delete(key);
      throw e;
    }
    return set;
  }

  /** policy-changed: reload every live set holding that policy; resolves when they are current. */
  async onPolicyChanged(scope: Scope, policyName: string): Promise<void> {
    const prefix = policyPrefix(scope, policyName);
    this.#compiled.deleteWhere((_v, k) => k.startsWith(prefix));
    const pending: Promise<void>[] = [];
    for (const [key, ref] of this.#sets) {
      const set = ref.deref();
      if (set === undefined) {
        this.#sets.delete(key);
        continue;
      }
      if (!sameScope(set.scope, scope)) continue;
      // A load still in flight may have read the policy before this change without listing it yet.
      if (set.policyNames.has(policyName) || set.requested > set.applied) pending.push(this.#reload(set, false));
    }
    await Promise.all(pending);
  }

  /** policy-attachment-changed: reload that target's set, if live. */
  async onAttachmentChanged(scope: Scope, target: string): Promise<void> {
    const set = this.#sets.get(principalKey(scope, target))?.deref();
    if (set) await this.#reload(set, false);
  }

  /** Number of principals with live sets (for tests and metrics). */
  liveCount(): number {
    let n = 0;
    for (const ref of this.#sets.values()) if (ref.deref() !== undefined) n++;
    return n;
  }

  async #reload(set: PolicySet, rethrow: boolean): Promise<void> {
    const seq = ++set.requested;
    try {
      const policies = await this.#load(set.scope, set.target);
      if (seq > set.applied) {
        set.applied = seq;
        set.policies = policies;
        set.policyNames = new Set(policies.map((p) => p.policyName));
        set.loadError = undefined;
      }
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (seq > set.applied) {
        // Fail closed: nothing is allowed until a later reload succeeds.
        set.applied = seq;
        set.policies = [];
        set.loadError = `the policies of ${set.target} could not be loaded: ${why}`;
        // Keep the names: a later policy-changed event for one of them must still reach this set.
      }
      this.#logger.error({ err: e, target: set.target }, 'access: reloading attached policies failed');
      if (rethrow) throw e;
    }
  }

  async #load(scope: Scope, target: string): Promise<CompiledPolicy[]> {
    const attached = await this.#store.listAttachedPolicies(scope, target, { limit: ATTACHED_POLICIES_READ, ascending: true });
    const policies: CompiledPolicy[] = [];
    for (const { policyName } of attached) {
      const policy = await this.#store.getPolicy(scope, policyName);
      if (!policy) continue; // deleted between the two reads: its detach event follows
      const version = await this.#store.getPolicyVersion(scope, policyName, policy.defaultVersionId);
      if (!version) continue;
      policies.push(this.#compile(version));
    }
    return policies;
  }

  #compile(version: PolicyVersion): CompiledPolicy {
    const key = `${policyPrefix(version.scope, version.policyName)}${version.versionId}|${version.generationId}`;
    const hit = this.#compiled.get(key);
    if (hit) return hit;
    const compiled = compilePolicy(version.policyName, version.versionId, parsePolicyDocument(version.document));
    this.#compiled.set(key, compiled);
    return compiled;
  }
}

const sameScope = (a: Scope, b: Scope): boolean => a.accountId === b.accountId && a.region === b.region;
