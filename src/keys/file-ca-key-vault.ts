import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaKeyVault } from './ca-key-vault.js';
import { openKey, sealKey } from './key-envelope.js';
import { CaKeyDecryptError } from './key-vault-errors.js';
import { writeFileAtomic } from './write-file-atomic.js';

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const SUFFIX = '.key.enc';

/** CA keys as `<dir>/<name>.key.enc`, each sealed with AES-256-GCM under the master key (AAD = name). */
export class FileCaKeyVault implements CaKeyVault {
  readonly #dir: string;
  readonly #masterKey: Uint8Array;

  constructor(dir: string, masterKey: Uint8Array) {
    this.#dir = dir;
    this.#masterKey = Uint8Array.from(masterKey);
  }

  fileOf(name: string): string {
    if (!NAME_RE.test(name)) throw new Error(`invalid key name '${name}'`);
    return join(this.#dir, name + SUFFIX);
  }

  async get(name: string): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.fileOf(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      return openKey(this.#masterKey, name, text);
    } catch (e) {
      throw new CaKeyDecryptError(name, { cause: e });
    }
  }

  async put(name: string, privateKeyPem: string): Promise<void> {
    const file = this.fileOf(name);
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, sealKey(this.#masterKey, name, privateKeyPem), 0o600);
  }

  /** Names of the stored keys. */
  async list(): Promise<string[]> {
    try {
      const entries = await readdir(this.#dir);
      return entries.filter((f) => f.endsWith(SUFFIX)).map((f) => f.slice(0, -SUFFIX.length)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
}
