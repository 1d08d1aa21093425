import { invalidRequest } from '../kernel/errors.js';

/** A request target as received: the path still percent-encoded, the query decoded and multi-valued. */
export interface RawUrl {
  /** The path exactly as received (still percent-encoded), e.g. `/attached-policies/arn%3Aaws%3A...`. */
  readonly rawPath: string;
  /** Decoded query parameters in arrival order; a name given twice has two values. */
  readonly query: Readonly<Record<string, readonly string[]>>;
}

/** Percent-decode one URI component; a malformed escape is the client's error. */
export function decodeUriComponentStrict(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalidRequest('The request URI contains an invalid percent-encoding.');
  }
}

/**
 * Split a raw request target (`/path?query`) without normalising it. `+` stays a literal plus:
 * the AWS SDKs percent-encode spaces as `%20`, and SigV4 canonicalises the same way.
 */
export function parseRawUrl(url: string): RawUrl {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  if (q !== -1) {
    for (const part of url.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const name = decodeUriComponentStrict(eq === -1 ? part : part.slice(0, eq));
      const value = eq === -1 ? '' : decodeUriComponentStrict(part.slice(eq + 1));
      (query[name] ??= []).push(value);
    }
  }
  return { rawPath, query };
}
