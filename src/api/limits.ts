/** Limits of the HTTP API adapter, in one table. */
export const API_LIMITS = {
  /** Largest request body accepted (bytes); larger → 413 RequestEntityTooLargeException. */
  bodyLimit: 256 * 1024,
  /** Longest path label (characters, still percent-encoded); an encoded certificate ARN is ~130. */
  maxParamLength: 2048,
  /** Accepted clock skew between x-amz-date and the server's clock (SigV4). */
  clockSkewMs: 15 * 60 * 1000,
  /** Longest lifetime of a presigned URL (X-Amz-Expires, seconds), as in SigV4. */
  maxPresignedExpiresSeconds: 7 * 24 * 60 * 60,
  /** Longest Authorization header accepted before parsing (characters). */
  maxAuthorizationLength: 4096,
} as const;
