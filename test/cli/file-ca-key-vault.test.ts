import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaKeyDecryptError, FileCaKeyVault, MasterKeyError, loadMasterKey, parseMasterKey } from '../../src/keys/index.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEA\n-----END PRIVATE KEY-----\n';

describe('FileCaKeyVault', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certgate-vault-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a key, stores it only encrypted with mode 0600, and returns undefined for an absent key', async () => {
    const vault = new FileCaKeyVault(join(dir, 'keys'), randomBytes(32));
    await vault.put('root-ca-rsa', PEM);
    assert.equal(await vault.get('root-ca-rsa'), PEM);
    assert.equal(await vault.get('absent'), undefined);
    const file = join(dir, 'keys', 'root-ca-rsa.key.enc');
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /PRIVATE KEY/);
    const envelope = JSON.parse(text) as Record<string, unknown>;
    assert.equal(envelope['v'], 1);
    assert.equal(envelope['alg'], 'AES-256-GCM');
    assert.equal(Buffer.from(envelope['iv'] as string, 'base64').length, 12);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(join(dir, 'keys'))).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
  });

  it('uses a fresh IV per write', async () => {
    const vault = new FileCaKeyVault(join(dir, 'iv'), randomBytes(32));
    await vault.put('a', PEM);
    const first = await readFile(join(dir, 'iv', 'a.key.enc'), 'utf8');
    await vault.put('a', PEM);
    assert.notEqual(await readFile(join(dir, 'iv', 'a.key.enc'), 'utf8'), first);
  });

  it('refuses a wrong master key with the operator-facing message', async () => {
    const keysDir = join(dir, 'wrong');
    await new FileCaKeyVault(keysDir, randomBytes(32)).put('intermediate-ecc', PEM);
    await assert.rejects(new FileCaKeyVault(keysDir, randomBytes(32)).get('intermediate-ecc'), (e: unknown) => {
      assert.ok(e instanceof CaKeyDecryptError);
      assert.match(e.message, /cannot decrypt CA keys: wrong master key\?/);
      return true;
    });
  });

  it('binds the ciphertext to the key name (AAD): a file renamed to another key does not decrypt', async () => {
    const keysDir = join(dir, 'aad');
    const vault = new FileCaKeyVault(keysDir, randomBytes(32));
    await vault.put('root-ca-rsa', PEM);
    await rename(join(keysDir, 'root-ca-rsa.key.enc'), join(keysDir, 'root-ca-ecc.key.enc'));
    await assert.rejects(vault.get('root-ca-ecc'), CaKeyDecryptError);
  });

  it('detects tampering and rejects path-like names', async () => {
    const keysDir = join(dir, 'tamper');
    const vault = new FileCaKeyVault(keysDir, randomBytes(32));
    await vault.put('k', PEM);
    const file = join(keysDir, 'k.key.enc');
    const env = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    const ct = Buffer.from(env['ct']!, 'base64');
    ct[0] = ct[0]! ^ 1;
    await writeFile(file, JSON.stringify({ ...env, ct: ct.toString('base64') }));
    await assert.rejects(vault.get('k'), CaKeyDecryptError);
    await assert.rejects(vault.put('../escape', PEM), /invalid key name/);
  });
});

describe('master key', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certgate-master-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('parses 32 bytes as hex or base64 and rejects anything else', () => {
    const key = randomBytes(32);
    assert.deepEqual(Buffer.from(parseMasterKey(key.toString('hex'))), key);
    assert.deepEqual(Buffer.from(parseMasterKey(key.toString('base64'))), key);
    assert.deepEqual(Buffer.from(parseMasterKey(key.toString('base64url'))), key);
    assert.throws(() => parseMasterKey(randomBytes(16).toString('hex')), MasterKeyError);
    assert.throws(() => parseMasterKey('not a key'), MasterKeyError);
  });

  it('creates master.key with mode 0600 once and reads it back', async () => {
    const file = join(dir, 'master.key');
    const created = await loadMasterKey({ file, create: true });
    assert.equal(created.source, 'created');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const again = await loadMasterKey({ file, create: true });
    assert.equal(again.source, 'file');
    assert.deepEqual(Buffer.from(again.key), Buffer.from(created.key));
  });

  it('uses a given key without touching the file system', async () => {
    const file = join(dir, 'given', 'master.key');
    const key = randomBytes(32);
    const loaded = await loadMasterKey({ file, given: key.toString('hex'), create: true });
    assert.equal(loaded.source, 'given');
    assert.deepEqual(Buffer.from(loaded.key), key);
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  it('refuses to create a new key when told not to, and refuses a group-readable key file', async () => {
    await assert.rejects(loadMasterKey({ file: join(dir, 'missing.key'), create: false }), /missing but encrypted CA keys exist/);
    const loose = join(dir, 'loose.key');
    await writeFile(loose, randomBytes(32).toString('base64'));
    await chmod(loose, 0o644);
    await assert.rejects(loadMasterKey({ file: loose, create: true }), /readable by group or others/);
  });
});
