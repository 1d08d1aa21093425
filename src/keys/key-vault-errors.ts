/** A stored key exists but does not decrypt (wrong master key, or a tampered/corrupt file). */
export class CaKeyDecryptError extends Error {
  readonly keyName: string;
  constructor(keyName: string, options?: { cause?: unknown }) {
    super(`cannot decrypt CA keys: wrong master key? (key '${keyName}' failed authentication)`, options);
    this.name = 'CaKeyDecryptError';
    this.keyName = keyName;
  }
}

/** The master key is malformed, missing, or its file is unsafe. */
export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}
