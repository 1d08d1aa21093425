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
 * RFC 3986 URI encoding as SigV4 and the AWS SDKs do it: every byte outside the unreserved set
 * `A-Z a-z 0-9 - _ . ~` becomes `%XX` with upper-case hex (`encodeURIComponent` leaves `!'()*`,
 * which are encoded here too). The SDKs encode each path label this way (smithy's
 * `extendedEncodeURIComponent`, botocore's `percent_encode`).
 */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const notCanonical = (why: string) =>
  invalidRequest(
    `The request path is not in canonical form: ${why}. Send each path segment percent-encoded once ` +
      `(every byte outside A-Z a-z 0-9 - _ . ~ as %XX with upper-case hex), with no empty, '.' or '..' segments, ` +
      `as the AWS SDKs and the AWS CLI do.`,
  );

/**
 * Refuse a request path that is not the one spelling the AWS SDKs and the AWS CLI send for it, so that
 * the path that is signed, routed and decoded is the same string and no two spellings name one
 * resource: an absolute path, no empty segment (`//`, a trailing `/`), no `.` or `..` segment (SigV4
 * signers drop those before signing, a router does not), and each segment equal to the URI encoding
 * of its decoded value (no lower-case hex, no encoded unreserved byte such as `%61`, no raw reserved
 * byte such as `:` or `+`). `%2F` inside a segment is canonical: an ARN label carries it.
 */
export function assertCanonicalPath(rawPath: string): void {
  if (!rawPath.startsWith('/')) throw notCanonical('it does not start with /');
  if (rawPath === '/') return;
  const segments = rawPath.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    const n = i + 1;
    if (segment === '') throw notCanonical(`segment ${n} is an empty segment`);
    const decoded = decodeUriComponentStrict(segment);
    if (decoded === '.' || decoded === '..') throw notCanonical(`segment ${n} is '.' or '..'`);
    if (uriEncode(decoded) !== segment) throw notCanonical(`segment ${n} is not percent-encoded canonically`);
  }
}

/**
 * Split a raw request target (`/path?query`) without normalising it, refusing a path that is not in
 * canonical form (assertCanonicalPath). `+` in the query stays a literal plus: the AWS SDKs
 * percent-encode spaces as `%20`, and SigV4 canonicalises the same way.
 */
export function parseRawUrl(url: string): RawUrl {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  assertCanonicalPath(rawPath);
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
