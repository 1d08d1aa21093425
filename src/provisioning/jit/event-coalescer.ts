/**
 * "Many connections with the same new certificate at once register it once and emit one event"
 * (provisioning.md), while AWS also re-publishes the event each time a still-PENDING_ACTIVATION
 * certificate is presented. The rule certgate applies: one event per certificate per window — a
 * presentation within `windowMs` of the last event for that certificate is coalesced into it; a later
 * one publishes again. Bounded memory: entries older than the window are pruned.
 */
export class EventCoalescer {
  readonly #windowMs: number;
  readonly #capacity: number;
  readonly #last = new Map<string, number>();

  constructor(windowMs: number, capacity = 100_000) {
    this.#windowMs = windowMs;
    this.#capacity = capacity;
  }

  /** True (and the time recorded) when an event for `key` may be published at `nowMs`. */
  claim(key: string, nowMs: number): boolean {
    const last = this.#last.get(key);
    if (last !== undefined && nowMs - last >= 0 && nowMs - last < this.#windowMs) return false;
    this.#last.delete(key);
    this.#last.set(key, nowMs);
    if (this.#last.size > this.#capacity) this.#prune(nowMs);
    return true;
  }

  #prune(nowMs: number): void {
    for (const [key, at] of this.#last) {
      if (this.#last.size <= this.#capacity && nowMs - at < this.#windowMs) break;
      this.#last.delete(key);
    }
  }
}
