import type { AccessLog, AccessLogFilter, AccessRecord } from './device-access.js';

/** Records kept per account by default (and for the records placed in no account): bounded memory whatever the traffic. */
export const DEFAULT_ACCESS_LOG_CAPACITY = 2_000;
/** Accounts whose records are kept at once; past it, the account that recorded least recently is dropped. */
export const DEFAULT_ACCESS_LOG_ACCOUNTS = 500;
/** Records `recent()` returns when no limit is given. */
export const DEFAULT_ACCESS_LOG_LIMIT = 100;

interface Entry {
  readonly seq: number;
  readonly record: AccessRecord;
}

/** One account's records: a ring buffer that grows up to `capacity`, then overwrites its oldest slot. */
class Ring {
  readonly #slots: Entry[] = [];
  readonly #capacity: number;
  #next = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  push(entry: Entry): void {
    if (this.#slots.length < this.#capacity) {
      this.#slots.push(entry);
      return;
    }
    this.#slots[this.#next] = entry;
    this.#next = this.#next + 1 === this.#capacity ? 0 : this.#next + 1;
  }

  /** Newest first, up to `limit` entries matching `keep`. */
  newest(limit: number, keep: (r: AccessRecord) => boolean): Entry[] {
    const out: Entry[] = [];
    const n = this.#slots.length;
    // The newest entry sits just before #next once the ring is full, else at the end.
    let i = n < this.#capacity ? n : this.#next;
    for (let seen = 0; seen < n && out.length < limit; seen++) {
      i = i === 0 ? n - 1 : i - 1;
      const e = this.#slots[i]!;
      if (keep(e.record)) out.push(e);
    }
    return out;
  }
}

/** The bucket of records placed in no account (refused before the certificate could be placed). */
const UNPLACED = '';

/**
 * The access log behind `certgate why`, kept per account (issue 10 #14): every account has its own ring of
 * `capacity` records, so one tenant's flood of denials evicts only its own oldest records, never another
 * account's evidence. Records placed in no account have a ring of their own. At most `accounts` rings are
 * kept: past that, the account that recorded least recently is dropped whole. `record` is O(1);
 * `recent` scans one account's ring newest first (filters on client id and certificate id are AND-ed).
 */
export function createAccessLog(options: { capacity?: number; accounts?: number } = {}): AccessLog {
  const capacity = Math.max(1, Math.floor(options.capacity ?? DEFAULT_ACCESS_LOG_CAPACITY));
  const maxAccounts = Math.max(1, Math.floor(options.accounts ?? DEFAULT_ACCESS_LOG_ACCOUNTS));
  /** Insertion order = least recently recorded first (re-inserted on every record). */
  const rings = new Map<string, Ring>();
  let seq = 0;

  return {
    record(entry) {
      const key = entry.accountId ?? UNPLACED;
      let ring = rings.get(key);
      if (ring === undefined) {
        ring = new Ring(capacity);
      } else {
        rings.delete(key);
      }
      rings.set(key, ring);
      while (rings.size > maxAccounts) {
        // The least recently written ring goes (the unplaced ring counts like any account's), never the one written to.
        const oldest = rings.keys().next();
        if (oldest.done || oldest.value === key) break;
        rings.delete(oldest.value);
      }
      ring.push({ seq: seq++, record: entry });
    },
    recent(filter: AccessLogFilter) {
      const limit = Math.max(0, Math.floor(filter.limit ?? DEFAULT_ACCESS_LOG_LIMIT));
      const keep = (r: AccessRecord): boolean =>
        (filter.clientId === undefined || r.clientId === filter.clientId) && (filter.certificateId === undefined || r.certificateId === filter.certificateId);
      if (filter.accountId !== undefined) {
        const ring = rings.get(filter.accountId ?? UNPLACED);
        return ring === undefined ? [] : ring.newest(limit, keep).map((e) => e.record);
      }
      // Every account (operators' and tests' view): each ring's newest matches, merged newest first.
      const all: Entry[] = [];
      for (const ring of rings.values()) all.push(...ring.newest(limit, keep));
      return all
        .sort((x, y) => y.seq - x.seq)
        .slice(0, limit)
        .map((e) => e.record);
    },
  };
}
