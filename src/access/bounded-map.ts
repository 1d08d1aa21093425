/**
 * A Map with a maximum size: inserting past it evicts the least recently inserted or read entry.
 * Used for the access caches so that memory stays bounded whatever devices present.
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Reads and marks the entry as recently used. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  /** Deletes every entry for which `predicate` holds; returns how many. */
  deleteWhere(predicate: (value: V, key: K) => boolean): number {
    let n = 0;
    for (const [k, v] of this.#entries) {
      if (predicate(v, k)) {
        this.#entries.delete(k);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.#entries.clear();
  }
}
