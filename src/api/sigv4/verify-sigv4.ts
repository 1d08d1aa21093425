import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import type { HeaderBag } from '@smithy/protocol-http';
import { ALGORITHM_IDENTIFIER, SignatureV4, UNSIGNED_PAYLOAD, getCanonicalHeaders } from '@smithy/signature-v4';
import type { Clock } from '../../kernel/clock.js';
import { IotError } from '../../kernel/errors.js';
import { API_LIMITS } from '../limits.js';
import { uriEncode } from '../parse-raw-url.js';
import { parseAuthorizationHeader, parsePresignedQuery } from './parse-authorization.js';
import type { SigV4Parts } from './parse-authorization.js';

/** A request as received, for signature verification. */
export interface SignedRequest {
  readonly method: string;
  /** The path exactly as received, still percent-encoded. */
  readonly rawPath: string;
  /** Decoded query parameters (multi-valued), as parsed from the raw query string. */
  readonly query: Readonly<Record<string, readonly string[]>>;
  /** Headers with lower-case names; repeated headers as arrays (node's `headersDistinct`). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Buffer;
}

export interface SigV4Identity {
  readonly secretAccessKey: string;
}

export type SecretLookup<T extends SigV4Identity> = (accessKeyId: string) => Promise<T | undefined>;

export interface VerifiedCaller<T extends SigV4Identity> {
  readonly accessKeyId: string;
  readonly region: string;
  /** What the lookup returned for the access key. */
  readonly identity: T;
  /** Lower-case names of the headers the signature covers. */
  readonly signedHeaders: readonly string[];
}

/**
 * The headers a signature covers, and only those: an operation input bound from a header
 * (x-amzn-principal, …) must come from a signed header, or a header added after signing could change
 * what runs (issue 10 #10). The AWS SDKs and the AWS CLI sign every such header.
 */
export function signedHeadersOnly<H>(headers: Readonly<Record<string, H>>, signed: readonly string[]): Record<string, H> {
  const out: Record<string, H> = {};
  for (const name of signed) {
    const v = headers[name];
    if (v !== undefined && Object.hasOwn(headers, name)) out[name] = v;
  }
  return out;
}

export const SIGV4_SERVICE = 'iot';

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const invalidSignature = (message: string = SIGNATURE_MISMATCH): IotError =>
  new IotError('InvalidSignatureException', message);
const incomplete = (message: string): IotError => new IotError('IncompleteSignatureException', message);

/** Exposes the library's canonical-request and string-to-sign steps to recompute a signature. */
class SignatureRecomputer extends SignatureV4 {
  async recompute(
    request: HttpRequest,
    canonicalHeaders: HeaderBag,
    payloadHash: string,
    longDate: string,
    scope: string,
    signingDate: Date,
    region: string,
  ): Promise<string> {
    const canonicalRequest = this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    const stringToSign = await this.createStringToSign(longDate, scope, canonicalRequest, ALGORITHM_IDENTIFIER);
    return this.sign(stringToSign, { signingDate, signingRegion: region, signingService: SIGV4_SERVICE });
  }
}

function header(req: SignedRequest, name: string): string | undefined {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(',');
}

/** `20240101T120000Z` → Date, or undefined when not in ISO-8601 basic format. */
function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

function checkClock(signedAt: Date, amzDate: string, now: Date, expiresSeconds: number | undefined): void {
  const skew = API_LIMITS.clockSkewMs;
  if (expiresSeconds === undefined) {
    if (signedAt.getTime() < now.getTime() - skew) {
      throw invalidSignature(
        `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(now.getTime() - skew))} ` +
          `(${formatAmzDate(now)} - 15 min.)`,
      );
    }
  } else if (signedAt.getTime() + expiresSeconds * 1000 < now.getTime()) {
    throw invalidSignature(
      `Signature expired: ${amzDate} + ${expiresSeconds} s is now earlier than ${formatAmzDate(now)}`,
    );
  }
  if (signedAt.getTime() > now.getTime() + skew) {
    throw invalidSignature(
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(new Date(now.getTime() + skew))} ` +
        `(${formatAmzDate(now)} + 15 min.)`,
    );
  }
}

/**
 * The SigV4 canonical URI of a path exactly as received: each byte URI-encoded once more (so the
 * SDK's `%3A` becomes `%253A`, as non-S3 services sign), `/` kept. Unlike a signer, no dot segments
 * or empty segments are removed: the path that verifies is the path that is routed (issue 10 #10).
 */
export function canonicalUri(rawPath: string): string {
  return uriEncode(rawPath).replace(/%2F/g, '/');
}

const UNSIGNED_PAYLOAD_REFUSED =
  "UNSIGNED-PAYLOAD is not accepted: AWS IoT signs the SHA-256 of the request body; send the body's " +
  'hex SHA-256 (or no x-amz-content-sha256 header) and sign it.';

/**
 * Verify an AWS Signature Version 4 (Authorization header or presigned query), service `iot`.
 * The signature is recomputed with @smithy/signature-v4 over the signed headers only, the path
 * exactly as received (no normalisation: see canonicalUri) and the query as received, then compared
 * in constant time. The body is always signed: the payload hash is the body's SHA-256; an
 * `x-amz-content-sha256` header (or presigned query parameter) must equal it, and UNSIGNED-PAYLOAD is
 * refused, as every AWS service but S3 refuses it. Failures throw IotError with the auth error names
 * the AWS SDKs know.
 */
export async function verifySigV4<T extends SigV4Identity>(
  req: SignedRequest,
  deps: { lookup: SecretLookup<T>; clock: Clock },
): Promise<VerifiedCaller<T>> {
  const authorization = header(req, 'authorization');
  const presigned = authorization === undefined && req.query['X-Amz-Algorithm'] !== undefined;
  if (authorization === undefined && !presigned) {
    throw new IotError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }

  let parts: SigV4Parts;
  let amzDate: string;
  let expiresSeconds: number | undefined;
  if (authorization !== undefined) {
    parts = parseAuthorizationHeader(authorization);
    const dateHeader = header(req, 'x-amz-date');
    if (dateHeader === undefined) {
      throw incomplete("Authorization header requires existence of an 'X-Amz-Date' header.");
    }
    if (!parts.signedHeaders.includes('x-amz-date')) {
      throw incomplete("The 'X-Amz-Date' header must be a SignedHeader in the AWS Authorization.");
    }
    amzDate = dateHeader;
  } else {
    const p = parsePresignedQuery(req.query);
    parts = p;
    amzDate = p.amzDate;
    expiresSeconds = p.expiresSeconds;
  }
  if (!parts.signedHeaders.includes('host')) {
    throw incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);

  const identity = await deps.lookup(parts.accessKeyId);
  if (identity === undefined) {
    throw new IotError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }

  checkClock(signedAt, amzDate, deps.clock.now(), expiresSeconds);
  if (parts.service !== SIGV4_SERVICE) {
    throw invalidSignature(`Credential should be scoped to correct service: '${SIGV4_SERVICE}'. `);
  }
  if (!/^[a-z0-9-]{1,64}$/.test(parts.region)) {
    throw invalidSignature('Credential should be scoped to a valid region. ');
  }
  if (parts.scopeDate !== amzDate.slice(0, 8)) {
    throw invalidSignature(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
        `'${parts.scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }

  // The body must be what was signed: the payload hash is always the body's own SHA-256. Signers
  // put the x-amz-content-sha256 value in the canonical request whenever it is present (a presigner
  // hoists it into the query), so a declared value other than the body's hash is refused here.
  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  const declaredInQuery = Object.entries(req.query).find(([k]) => k.toLowerCase() === 'x-amz-content-sha256')?.[1];
  for (const declared of [header(req, 'x-amz-content-sha256'), ...(declaredInQuery ?? [])]) {
    if (declared === undefined) continue;
    if (declared.toUpperCase().includes(UNSIGNED_PAYLOAD)) {
      throw invalidSignature(UNSIGNED_PAYLOAD_REFUSED);
    }
    if (declared !== bodyHash) {
      throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  }
  const payloadHash = bodyHash;

  const headers: HeaderBag = {};
  for (const name of parts.signedHeaders) {
    const value = header(req, name);
    if (value !== undefined) headers[name] = value;
  }
  const canonicalHeaders = getCanonicalHeaders({ headers } as HttpRequest, undefined, new Set(parts.signedHeaders));
  if (Object.keys(canonicalHeaders).sort().join(';') !== [...parts.signedHeaders].sort().join(';')) {
    throw invalidSignature();
  }

  const query: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.query)) query[k] = [...v];
  // The canonical URI is computed here, and the library told to take it as is (uriEscapePath false),
  // because the library's own path step removes '.', '..' and empty segments before encoding.
  const request = new HttpRequest({ method: req.method.toUpperCase(), path: canonicalUri(req.rawPath), query, headers });
  const signer = new SignatureRecomputer({
    service: SIGV4_SERVICE,
    region: parts.region,
    credentials: { accessKeyId: parts.accessKeyId, secretAccessKey: identity.secretAccessKey },
    sha256: Sha256,
    applyChecksum: false,
    uriEscapePath: false,
  });
  const scope = `${parts.scopeDate}/${parts.region}/${SIGV4_SERVICE}/aws4_request`;
  const expected = await signer.recompute(request, canonicalHeaders, payloadHash, amzDate, scope, signedAt, parts.region);
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(parts.signature, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw invalidSignature();
  return { accessKeyId: parts.accessKeyId, region: parts.region, identity, signedHeaders: [...parts.signedHeaders] };
}
