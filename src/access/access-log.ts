import type { AccessLog, AccessRecord } from './device-access.js';

/** Records kept by default: bounded memory whatever the traffic. */
export const DEFAULT_ACCESS_LOG_CAPACITY = 10_000;
/** Records `recent()` returns when no limit is given. */
export const DEFAULT_ACCESS_LOG_LIMIT = 100;

/**
 * The access log as a ring buffer: `record` is O(1) and never allocates beyond the slot it fills;
 * `recent` scans newest first and stops at `limit` matches (filters on client id and certificate id are AND-ed).
 */
export function createAccessLog(options: { capacity?: number } = {}): AccessLog {
  const capacity = Math.max(1, Math.floor(options.capacity ?? DEFAULT_ACCESS_LOG_CAPACITY));
  const slots: (AccessRecord | undefined)[] = new Array<AccessRecord | undefined>(capacity);
  let next = 0; // slot the next record goes to
  let size = 0;
  return {
    record(entry) {
      slots[next] = entry;
      next = next + 1 === capacity ? 0 : next + 1;
      if (size < capacity) size++;
    },
    recent(filter) {
      const limit = Math.max(0, Math.floor(filter.limit ?? DEFAULT_ACCESS_LOG_LIMIT));
      const out: AccessRecord[] = [];
      let i = next;
      for (let seen = 0; seen < size && out.length < limit; seen++) {
        i = i === 0 ? capacity - 1 : i - 1;
        const r = slots[i];
        if (r === undefined) continue;
        if (filter.clientId !== undefined && r.clientId !== filter.clientId) continue;
        if (filter.certificateId !== undefined && r.certificateId !== filter.certificateId) continue;
        out.push(r);
      }
      return out;
    },
  };
}
