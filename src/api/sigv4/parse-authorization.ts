import { IotError } from '../../kernel/errors.js';
import { API_LIMITS } from '../limits.js';

/** The parts of a SigV4 signature, from an Authorization header or presigned query parameters. */
export interface SigV4Parts {
  readonly accessKeyId: string;
  /** `YYYYMMDD` of the credential scope. */
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  /** Lower-case header names, in the order the client listed them. */
  readonly signedHeaders: readonly string[];
  /** Hex signature as sent. */
  readonly signature: string;
}

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

const incomplete = (message: string): IotError => new IotError('IncompleteSignatureException', message);

function parseCredential(credential: string, where: string): Omit<SigV4Parts, 'signedHeaders' | 'signature'> {
  const parts = credential.split('/');
  const [accessKeyId, scopeDate, region, service, terminator] = parts;
  if (
    parts.length !== 5 ||
    accessKeyId === undefined ||
    accessKeyId === '' ||
    scopeDate === undefined ||
    region === undefined ||
    service === undefined ||
    terminator !== 'aws4_request'
  ) {
    throw incomplete(
      `${where} Credential is malformed: expected "<AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request", got "${credential}".`,
    );
  }
  return { accessKeyId, scopeDate, region, service };
}

function parseSignedHeaders(list: string): string[] {
  return list.split(';').map((h) => h.trim().toLowerCase());
}

/**
 * `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex`.
 * Anything malformed → IncompleteSignatureException, as AWS answers.
 */
export function parseAuthorizationHeader(header: string): SigV4Parts {
  if (header.length > API_LIMITS.maxAuthorizationLength) throw incomplete('Authorization header is too long.');
  const space = header.indexOf(' ');
  const algorithm = space === -1 ? header : header.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) {
    throw incomplete(`Unsupported authorization algorithm '${algorithm}': only ${SIGV4_ALGORITHM} is accepted.`);
  }
  const fields = new Map<string, string>();
  for (const item of header.slice(space + 1).split(',')) {
    const trimmed = item.trim();
    const eq = trimmed.indexOf('=');
    if (eq > 0) fields.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !fields.get(k));
  if (missing.length > 0) {
    throw incomplete(missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' '));
  }
  const signature = fields.get('Signature') ?? '';
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incomplete('Authorization header Signature must be 64 lowercase hex digits.');
  return {
    ...parseCredential(fields.get('Credential') ?? '', 'Authorization header'),
    signedHeaders: parseSignedHeaders(fields.get('SignedHeaders') ?? ''),
    signature,
  };
}

/** Presigned query authentication: X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders, -Signature. */
export interface PresignedParts extends SigV4Parts {
  readonly amzDate: string;
  readonly expiresSeconds: number;
}

export function parsePresignedQuery(query: Readonly<Record<string, readonly string[]>>): PresignedParts {
  const get = (name: string): string | undefined => query[name]?.[0];
  const required = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];
  const missing = required.filter((k) => !get(k));
  if (missing.length > 0) {
    throw incomplete(`AWS query-string parameters must include ${missing.map((k) => `'${k}'`).join(', ')}.`);
  }
  if (get('X-Amz-Algorithm') !== SIGV4_ALGORITHM) {
    throw incomplete(`Unsupported X-Amz-Algorithm '${get('X-Amz-Algorithm') ?? ''}': only ${SIGV4_ALGORITHM} is accepted.`);
  }
  const expires = get('X-Amz-Expires') ?? '';
  if (!/^\d{1,7}$/.test(expires) || Number(expires) < 1 || Number(expires) > API_LIMITS.maxPresignedExpiresSeconds) {
    throw incomplete(`X-Amz-Expires must be between 1 and ${API_LIMITS.maxPresignedExpiresSeconds} seconds.`);
  }
  const signature = get('X-Amz-Signature') ?? '';
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incomplete('X-Amz-Signature must be 64 lowercase hex digits.');
  return {
    ...parseCredential(get('X-Amz-Credential') ?? '', 'X-Amz-Credential'),
    signedHeaders: parseSignedHeaders(get('X-Amz-SignedHeaders') ?? ''),
    signature,
    amzDate: get('X-Amz-Date') ?? '',
    expiresSeconds: Number(expires),
  };
}
