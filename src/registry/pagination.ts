import { invalidRequest } from '../kernel/index.js';
import type { PageCursor, PageRequest } from './ports.js';

/**
 * AWS list markers are opaque base64 strings (model pattern `[A-Za-z0-9+/]+={0,2}`).
 * Ours encode a keyset cursor (creation time, key), so they stay valid while rows are added.
 */

export const DEFAULT_PAGE_SIZE = 25;

export function encodeMarker(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.getTime(), cursor.key]), 'utf8').toString('base64');
}

export function decodeMarker(marker: string): PageCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(marker, 'base64').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') {
      return { createdAt: new Date(parsed[0]), key: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw invalidRequest(`The marker '${marker}' is not valid`);
}

export function pageRequest(input: { pageSize?: number | undefined; marker?: string | undefined; ascendingOrder?: boolean | undefined }): PageRequest {
  const base = { limit: (input.pageSize ?? DEFAULT_PAGE_SIZE) + 1, ascending: input.ascendingOrder ?? false };
  return input.marker ? { ...base, after: decodeMarker(input.marker) } : base;
}

/** Cuts the one-extra row fetched by pageRequest and computes nextMarker. */
export function pageOf<T>(rows: T[], request: PageRequest, cursorOf: (row: T) => PageCursor): { items: T[]; nextMarker?: string } {
  const size = request.limit - 1;
  if (rows.length <= size) return { items: rows };
  const items = rows.slice(0, size);
  return { items, nextMarker: encodeMarker(cursorOf(items[items.length - 1]!)) };
}

/** nextToken paging for name-ordered lists (things, principals): the token is the last name, base64. */
export function encodeNameToken(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64');
}

export function decodeNameToken(token: string): string {
  const name = Buffer.from(token, 'base64').toString('utf8');
  if (name.length === 0 || encodeNameToken(name) !== token) throw invalidRequest(`The nextToken '${token}' is not valid`);
  return name;
}
