/** The port for CA private keys: an encrypted file today, an HSM later. Keys are PKCS#8 PEM strings. */
export interface CaKeyVault {
  /** The key stored under `name`, or undefined when there is none. Throws CaKeyDecryptError when it cannot be decrypted. */
  get(name: string): Promise<string | undefined>;
  /** Store (or replace) the key under `name`. Never written in clear. */
  put(name: string, privateKeyPem: string): Promise<void>;
}
