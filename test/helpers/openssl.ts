// Test PKI built at run time with the `openssl` CLI (never committed).
// One TestPki = one mkdtemp work directory; every artefact is returned as PEM text and as a file path
// (the aws CLI wants file:// paths). Works with OpenSSL 3.0 (Debian 12): expired certificates are
// made with `openssl ca -startdate/-enddate` because `x509 -req -days` cannot go negative there.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type KeyType = 'rsa' | 'ec';
export type Digest = 'sha256' | 'sha384' | 'sha1';

export interface KeyAndCert {
  readonly keyPem: string;
  readonly certPem: string;
  readonly keyPath: string;
  readonly certPath: string;
}

export interface TestCa extends KeyAndCert {
  readonly cn: string;
}

export interface CsrAndKey {
  readonly csrPem: string;
  readonly keyPem: string;
  readonly csrPath: string;
  readonly keyPath: string;
}

export interface CaOptions {
  readonly cn?: string;
  readonly keyType?: KeyType;
  /** false → basicConstraints CA:FALSE (not a CA). Default true. */
  readonly isCa?: boolean;
  readonly digest?: Digest;
  readonly days?: number;
}

export interface DeviceCertOptions {
  readonly cn?: string;
  readonly keyType?: KeyType;
  readonly digest?: Digest;
  readonly days?: number;
  /** issue with a validity period entirely in the past (2020-01-01 → 2021-01-01) */
  readonly expired?: boolean;
}

const OPENSSL_TIMEOUT_MS = 20_000;

export function runOpenssl(args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', [...args], { cwd, timeout: OPENSSL_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`openssl ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve(stdout);
    });
  });
}

function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f | 0x10; // positive, non-zero leading byte
  return `0x${bytes.toString('hex')}`;
}

function safeCn(cn: string): string {
  // openssl -subj syntax: escape '/' and '='; our CNs are simple anyway
  return cn.replace(/[\\/=+,]/g, (c) => `\\${c}`);
}

const CA_EXT = [
  'basicConstraints=critical,CA:TRUE',
  'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  'subjectKeyIdentifier=hash',
  '',
].join('\n');

const NOT_CA_EXT = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature,keyEncipherment',
  'subjectKeyIdentifier=hash',
  '',
].join('\n');

const LEAF_EXT = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
  '',
].join('\n');

export class TestPki {
  readonly dir: string;
  #counter = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(): Promise<TestPki> {
    const dir = await mkdtemp(join(tmpdir(), 'certgate-pki-'));
    const pki = new TestPki(dir);
    await writeFile(join(dir, 'ca-ext.cnf'), CA_EXT);
    await writeFile(join(dir, 'not-ca-ext.cnf'), NOT_CA_EXT);
    await writeFile(join(dir, 'leaf-ext.cnf'), LEAF_EXT);
    return pki;
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  #name(prefix: string): string {
    this.#counter += 1;
    return `${prefix}-${this.#counter}`;
  }

  async #openssl(args: readonly string[]): Promise<string> {
    return runOpenssl(args, this.dir);
  }

  async #read(file: string): Promise<string> {
    return readFile(join(this.dir, file), 'utf8');
  }

  /** a new private key file (PKCS#8 PEM); returns the file name */
  async newKey(keyType: KeyType | 'ed25519' = 'rsa', opts: { bits?: number; curve?: string } = {}): Promise<string> {
    const file = `${this.#name('key')}.pem`;
    if (keyType === 'rsa') {
      await this.#openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${opts.bits ?? 2048}`, '-out', file]);
    } else if (keyType === 'ec') {
      await this.#openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${opts.curve ?? 'P-256'}`, '-out', file]);
    } else {
      await this.#openssl(['genpkey', '-algorithm', 'ED25519', '-out', file]);
    }
    return file;
  }

  async #csr(keyFile: string, cn: string, digest?: Digest): Promise<string> {
    const file = `${this.#name('csr')}.pem`;
    const args = ['req', '-new', '-key', keyFile, '-subj', `/CN=${safeCn(cn)}`, '-out', file];
    if (digest !== undefined) args.push(`-${digest}`);
    await this.#openssl(args);
    return file;
  }

  async #files(keyFile: string, certFile: string): Promise<KeyAndCert> {
    return {
      keyPem: await this.#read(keyFile),
      certPem: await this.#read(certFile),
      keyPath: join(this.dir, keyFile),
      certPath: join(this.dir, certFile),
    };
  }

  /** a self-signed CA certificate (CA:TRUE unless isCa false) */
  async makeCa(opts: CaOptions = {}): Promise<TestCa> {
    const cn = opts.cn ?? `certgate test CA ${randomBytes(6).toString('hex')}`;
    const keyFile = await this.newKey(opts.keyType ?? 'rsa');
    const csrFile = await this.#csr(keyFile, cn);
    const certFile = `${this.#name('ca')}.pem`;
    await this.#openssl([
      'x509', '-req', '-in', csrFile, '-signkey', keyFile, '-days', String(opts.days ?? 3650),
      `-${opts.digest ?? 'sha256'}`, '-set_serial', randomSerialHex(),
      '-extfile', opts.isCa === false ? 'not-ca-ext.cnf' : 'ca-ext.cnf', '-out', certFile,
    ]);
    return { cn, ...(await this.#files(keyFile, certFile)) };
  }

  async #signCsr(csrFile: string, ca: KeyAndCert, digest: Digest, days: number, extFile = 'leaf-ext.cnf'): Promise<string> {
    const certFile = `${this.#name('cert')}.pem`;
    await this.#openssl([
      'x509', '-req', '-in', csrFile, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', randomSerialHex(),
      '-days', String(days), `-${digest}`, '-extfile', extFile, '-out', certFile,
    ]);
    return certFile;
  }

  /** a device (leaf) certificate signed by `ca` */
  async makeDeviceCert(ca: KeyAndCert, opts: DeviceCertOptions = {}): Promise<KeyAndCert> {
    const cn = opts.cn ?? `device-${randomBytes(6).toString('hex')}`;
    const keyFile = await this.newKey(opts.keyType ?? 'rsa');
    const csrFile = await this.#csr(keyFile, cn);
    const digest = opts.digest ?? 'sha256';
    if (opts.expired === true) {
      const certFile = await this.#signWithOpensslCa(csrFile, ca, digest, '20200101000000Z', '20210101000000Z');
      return this.#files(keyFile, certFile);
    }
    const certFile = await this.#signCsr(csrFile, ca, digest, opts.days ?? 365);
    return this.#files(keyFile, certFile);
  }

  /** the proof-of-possession certificate for RegisterCACertificate: CN = registration code, signed by the CA key */
  async makeVerificationCert(ca: KeyAndCert, registrationCode: string): Promise<KeyAndCert> {
    const keyFile = await this.newKey('rsa');
    const csrFile = await this.#csr(keyFile, registrationCode);
    const certFile = await this.#signCsr(csrFile, ca, 'sha256', 30);
    return this.#files(keyFile, certFile);
  }

  /** a CSR: RSA of `bits` bits or EC on `curve` */
  async makeCsr(spec: { keyType: 'rsa'; bits?: number } | { keyType: 'ec'; curve?: string }, cn = 'csr-device'): Promise<CsrAndKey> {
    const keyFile = spec.keyType === 'rsa'
      ? await this.newKey('rsa', { bits: spec.bits ?? 2048 })
      : await this.newKey('ec', { curve: spec.curve ?? 'P-256' });
    const csrFile = await this.#csr(keyFile, cn);
    return {
      csrPem: await this.#read(csrFile),
      keyPem: await this.#read(keyFile),
      csrPath: join(this.dir, csrFile),
      keyPath: join(this.dir, keyFile),
    };
  }

  /** a self-signed leaf certificate (no CA), e.g. for RegisterCertificateWithoutCA */
  async makeSelfSigned(opts: { cn?: string; keyType?: KeyType; digest?: Digest } = {}): Promise<KeyAndCert> {
    const keyFile = await this.newKey(opts.keyType ?? 'rsa');
    const csrFile = await this.#csr(keyFile, opts.cn ?? `self-${randomBytes(6).toString('hex')}`);
    const certFile = `${this.#name('self')}.pem`;
    await this.#openssl([
      'x509', '-req', '-in', csrFile, '-signkey', keyFile, '-days', '365', `-${opts.digest ?? 'sha256'}`,
      '-set_serial', randomSerialHex(), '-extfile', 'not-ca-ext.cnf', '-out', certFile,
    ]);
    return this.#files(keyFile, certFile);
  }

  /** a self-signed Ed25519 certificate (signature algorithm ED25519) */
  async makeEd25519Cert(cn = `ed25519-${randomBytes(6).toString('hex')}`): Promise<KeyAndCert> {
    const keyFile = await this.newKey('ed25519');
    const csrFile = await this.#csr(keyFile, cn);
    const certFile = `${this.#name('ed')}.pem`;
    await this.#openssl([
      'x509', '-req', '-in', csrFile, '-signkey', keyFile, '-days', '365', '-set_serial', randomSerialHex(),
      '-extfile', 'not-ca-ext.cnf', '-out', certFile,
    ]);
    return this.#files(keyFile, certFile);
  }

  /** `openssl ca` with explicit start/end dates (works on OpenSSL 3.0, unlike -not_before/-not_after) */
  async #signWithOpensslCa(csrFile: string, ca: KeyAndCert, digest: Digest, start: string, end: string): Promise<string> {
    const base = this.#name('opensslca');
    const dbFile = `${base}-index.txt`;
    const cnfFile = `${base}.cnf`;
    const certFile = `${base}.pem`;
    await writeFile(join(this.dir, dbFile), '');
    await writeFile(join(this.dir, cnfFile), [
      '[ca]',
      'default_ca = testca',
      '[testca]',
      `database = ${join(this.dir, dbFile)}`,
      `new_certs_dir = ${this.dir}`,
      `serial = ${join(this.dir, `${base}-serial`)}`,
      `default_md = ${digest}`,
      'policy = anything',
      'unique_subject = no',
      'email_in_dn = no',
      'copy_extensions = none',
      '[anything]',
      'commonName = supplied',
      '[leaf]',
      ...LEAF_EXT.trim().split('\n'),
      '',
    ].join('\n'));
    await writeFile(join(this.dir, `${base}-serial`), `${randomSerialHex().slice(2)}\n`);
    await this.#openssl([
      'ca', '-batch', '-config', cnfFile, '-in', csrFile, '-out', certFile, '-cert', ca.certPath, '-keyfile', ca.keyPath,
      '-startdate', start, '-enddate', end, '-md', digest, '-extensions', 'leaf', '-notext',
    ]);
    return certFile;
  }
}
