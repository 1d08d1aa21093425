import type { Scope } from '../../kernel/index.js';

/**
 * Per-account limits of fleet provisioning by claim (issue 10 #14): a claim certificate is shared by a whole
 * production line, so without an account-wide limit a few connections mint certificates without end.
 * - a request rate (token bucket per account and region, bursts up to one second's worth, at least one);
 * - a ceiling on certificates created over MQTT and not yet provisioned by RegisterThing ("pending"), per
 *   account and region. They leave the count when provisioned, deleted, activated elsewhere, or when their
 *   ownership token expires (the sweeper deletes them then).
 * AWS IoT Core applies per-account TPS quotas to the fleet provisioning MQTT API (CreateKeysAndCertificate,
 * CreateCertificateFromCsr, RegisterThing) and answers over quota on /rejected; certgate does the same.
 */
export interface FleetLimits {
  /** Requests per second per account and region, all three operations together (may be fractional). */
  readonly requestsPerSecond: number;
  /** Certificates created over MQTT and not yet provisioned, per account and region. */
  readonly pendingCertificates: number;
}

/**
 * certgate's defaults: 10 requests per second (the order of AWS IoT Core's per-account TPS quotas for these MQTT
 * operations, "AWS IoT Core endpoints and quotas"; operators raise it as AWS customers ask for an increase),
 * and 1,000 certificates awaiting RegisterThing (AWS publishes no such ceiling; it bounds what one token
 * lifetime of unfinished requests can leave behind).
 */
export const DEFAULT_FLEET_LIMITS: FleetLimits = { requestsPerSecond: 10, pendingCertificates: 1_000 };

export const scopeKey = (scope: Scope): string => `${scope.accountId}|${scope.region}`;

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per key: `rate` tokens per second, holding at most `burst`. Time comes from the caller. */
export class RequestRate {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(rate: number) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
    this.#rate = rate;
    this.#burst = Math.max(1, rate);
  }

  /** Takes one token for `key` at `nowMs`: false when the bucket is empty (the request is over the rate). */
  take(key: string, nowMs: number): boolean {
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.#burst, at: nowMs };
      this.#buckets.set(key, b);
      if (this.#buckets.size > 10_000) this.#forgetFull(nowMs);
    }
    b.tokens = Math.min(this.#burst, b.tokens + (Math.max(0, nowMs - b.at) / 1000) * this.#rate);
    b.at = Math.max(b.at, nowMs);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** A full bucket is the same as no bucket: forgotten, so the map stays as small as the busy accounts. */
  #forgetFull(nowMs: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + (Math.max(0, nowMs - b.at) / 1000) * this.#rate >= this.#burst) this.#buckets.delete(k);
    }
  }
}

/** Certificates created over MQTT and not yet provisioned, per key, each until its token expires; plus slots reserved by requests in progress. */
export class PendingCertificates {
  readonly #pending = new Map<string, Map<string, number>>();
  readonly #reserved = new Map<string, number>();
  readonly #checkedAt = new Map<string, number>();

  /**
   * Whether the caller should re-read `key`'s pending certificates from the store now (they may have been
   * activated or deleted through the API): at most once per second per key, so that requests refused at the
   * ceiling cost no more than one pass over the store per second.
   */
  recheckDue(key: string, nowMs: number): boolean {
    const last = this.#checkedAt.get(key);
    if (last !== undefined && nowMs - last < 1000 && nowMs >= last) return false;
    this.#checkedAt.set(key, nowMs);
    if (this.#checkedAt.size > 10_000) this.#checkedAt.clear();
    return true;
  }

  /** Pending (unexpired) plus reserved, for `key` at `nowMs`. */
  count(key: string, nowMs: number): number {
    const ids = this.#pending.get(key);
    if (ids !== undefined) {
      for (const [id, expiresAt] of ids) if (expiresAt <= nowMs) ids.delete(id);
      if (ids.size === 0) this.#pending.delete(key);
    }
    return (this.#pending.get(key)?.size ?? 0) + (this.#reserved.get(key) ?? 0);
  }

  ids(key: string): string[] {
    return [...(this.#pending.get(key)?.keys() ?? [])];
  }

  reserve(key: string): void {
    this.#reserved.set(key, (this.#reserved.get(key) ?? 0) + 1);
  }

  /** Ends a reservation; with a certificate id, that certificate is now pending until `expiresAt`. */
  release(key: string, created?: { certificateId: string; expiresAt: number }): void {
    const n = (this.#reserved.get(key) ?? 1) - 1;
    if (n <= 0) this.#reserved.delete(key);
    else this.#reserved.set(key, n);
    if (created === undefined) return;
    let ids = this.#pending.get(key);
    if (ids === undefined) this.#pending.set(key, (ids = new Map()));
    ids.set(created.certificateId, created.expiresAt);
  }

  delete(key: string, certificateId: string): void {
    const ids = this.#pending.get(key);
    if (ids === undefined) return;
    ids.delete(certificateId);
    if (ids.size === 0) this.#pending.delete(key);
  }
}
