import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { MASTER_KEY_BYTES } from './key-envelope.js';
import { MasterKeyError } from './key-vault-errors.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** 32 bytes given as 64 hex digits or as base64 (standard or url-safe, padding optional). */
export function parseMasterKey(text: string): Uint8Array {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    const bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === MASTER_KEY_BYTES) return bytes;
  }
  throw new MasterKeyError(`master key must be ${MASTER_KEY_BYTES} bytes, given as 64 hex digits or base64`);
}

export interface LoadMasterKeyOptions {
  /** The file holding the key as base64 (created with mode 0600 when absent and `create` is true). */
  readonly file: string;
  /** A key given out of band (CERTGATE_MASTER_KEY): used as is, no file is read or written. */
  readonly given?: string;
  /** May a new key be created when the file is absent? main/ says no when encrypted keys already exist. */
  readonly create: boolean;
}

export async function loadMasterKey(opts: LoadMasterKeyOptions): Promise<{ key: Uint8Array; source: 'given' | 'file' | 'created' }> {
  if (opts.given !== undefined) return { key: parseMasterKey(opts.given), source: 'given' };
  let text: string | undefined;
  try {
    text = await readFile(opts.file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text !== undefined) {
    const st = await stat(opts.file);
    if ((st.mode & 0o077) !== 0) {
      throw new MasterKeyError(`${opts.file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    return { key: parseMasterKey(text), source: 'file' };
  }
  if (!opts.create) {
    throw new MasterKeyError(`${opts.file} is missing but encrypted CA keys exist: restore it or set CERTGATE_MASTER_KEY`);
  }
  const key = randomBytes(MASTER_KEY_BYTES);
  await writeFileAtomic(opts.file, key.toString('base64') + '\n', 0o600);
  return { key, source: 'created' };
}
