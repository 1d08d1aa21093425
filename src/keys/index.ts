/**
 * keys: the CA key vault port and its encrypted-file implementation (AES-256-GCM under a master key),
 * plus atomic file writes. An adapter: imports node:crypto/node:fs only, never another adapter.
 */
export type { CaKeyVault } from './ca-key-vault.js';
export { FileCaKeyVault } from './file-ca-key-vault.js';
export { CaKeyDecryptError, MasterKeyError } from './key-vault-errors.js';
export { loadMasterKey, parseMasterKey } from './master-key.js';
export type { LoadMasterKeyOptions } from './master-key.js';
export { openKey, sealKey, MASTER_KEY_BYTES } from './key-envelope.js';
export type { KeyEnvelopeV1 } from './key-envelope.js';
export { writeFileAtomic } from './write-file-atomic.js';
