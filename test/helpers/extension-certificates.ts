// Certificates with chosen X.509 extensions, made at run time with the openssl CLI in a TestPki's work
// directory (issue 10 #5, #6): CA certificates with pathLenConstraint or name constraints, device
// certificates with odd keyUsage / extendedKeyUsage / unknown critical extensions, CA:TRUE "devices".
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOpenssl } from './openssl.js';
import type { KeyAndCert, TestCa, TestPki } from './openssl.js';

/** A device certificate as AWS and RFC 5280 expect it: CA:FALSE, keyUsage digitalSignature. */
export const DEVICE_EXTENSIONS: readonly string[] = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'];

export const CA_EXTENSIONS: readonly string[] = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature', 'subjectKeyIdentifier=hash'];

const unique = (): string => randomBytes(6).toString('hex');

function subjectArg(subject: Record<string, string>): string {
  return Object.entries(subject)
    .map(([k, v]) => `/${k}=${v.replace(/[\\/=+,]/g, (c) => `\\${c}`)}`)
    .join('');
}

async function csrFor(pki: TestPki, subject: Record<string, string>): Promise<{ keyFile: string; csrFile: string; base: string }> {
  const keyFile = await pki.newKey('rsa');
  const base = `ext-${unique()}`;
  const csrFile = `${base}.csr`;
  await runOpenssl(['req', '-new', '-key', keyFile, '-subj', subjectArg(subject), '-out', csrFile], pki.dir);
  return { keyFile, csrFile, base };
}

async function files(pki: TestPki, keyFile: string, certFile: string): Promise<KeyAndCert> {
  return {
    keyPem: await readFile(join(pki.dir, keyFile), 'utf8'),
    certPem: await readFile(join(pki.dir, certFile), 'utf8'),
    keyPath: join(pki.dir, keyFile),
    certPath: join(pki.dir, certFile),
  };
}

/** A self-signed CA with `extensions` (openssl extfile lines; default CA_EXTENSIONS). */
export async function makeCaWith(pki: TestPki, opts: { subject?: Record<string, string>; extensions?: readonly string[] } = {}): Promise<TestCa> {
  const cn = `certgate ext CA ${unique()}`;
  const { keyFile, csrFile, base } = await csrFor(pki, { ...(opts.subject ?? {}), CN: cn });
  const extFile = `${base}.cnf`;
  await writeFile(join(pki.dir, extFile), `${(opts.extensions ?? CA_EXTENSIONS).join('\n')}\n`);
  const certFile = `${base}.pem`;
  await runOpenssl(['x509', '-req', '-in', csrFile, '-signkey', keyFile, '-days', '3650', '-sha256', '-set_serial', `0x1${unique()}`, '-extfile', extFile, '-out', certFile], pki.dir);
  return { cn, ...(await files(pki, keyFile, certFile)) };
}

/** A certificate signed by `issuer` with exactly `extensions` (openssl extfile lines; default DEVICE_EXTENSIONS). */
export async function signWith(
  pki: TestPki,
  issuer: KeyAndCert,
  opts: { subject?: Record<string, string>; extensions?: readonly string[] } = {},
): Promise<KeyAndCert> {
  const { keyFile, csrFile, base } = await csrFor(pki, opts.subject ?? { CN: `device-${unique()}` });
  const extFile = `${base}.cnf`;
  await writeFile(join(pki.dir, extFile), `${(opts.extensions ?? DEVICE_EXTENSIONS).join('\n')}\n`);
  const certFile = `${base}.pem`;
  await runOpenssl(
    ['x509', '-req', '-in', csrFile, '-CA', issuer.certPath, '-CAkey', issuer.keyPath, '-set_serial', `0x1${unique()}`, '-days', '365', '-sha256', '-extfile', extFile, '-out', certFile],
    pki.dir,
  );
  return files(pki, keyFile, certFile);
}

/** The defective device certificates of issue 10 #6, each with the extension lines that make it so. */
export const DEFECTIVE_DEVICE_EXTENSIONS = {
  'extendedKeyUsage serverAuth only': [...DEVICE_EXTENSIONS, 'extendedKeyUsage=serverAuth'],
  'keyUsage without digitalSignature': ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,keyEncipherment', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'],
  'an unknown critical extension': [...DEVICE_EXTENSIONS, '1.3.6.1.4.1.55555.7=critical,ASN1:NULL'],
} as const satisfies Record<string, readonly string[]>;

/** What certgate's refusal names for each defect (CertificateValidationException message, `certgate why`). */
export const DEFECT_REASON: Record<keyof typeof DEFECTIVE_DEVICE_EXTENSIONS, RegExp> = {
  'extendedKeyUsage serverAuth only': /extendedKeyUsage without clientAuth/,
  'keyUsage without digitalSignature': /keyUsage without digitalSignature/,
  'an unknown critical extension': /critical extension certgate does not process \(1\.3\.6\.1\.4\.1\.55555\.7\)/,
};

/**
 * A self-signed CA valid only between `startDate` and `endDate` (openssl `ca` dates, YYYYMMDDHHMMSSZ),
 * with CA_EXTENSIONS: expired or not yet valid CAs (OpenSSL 3.0's `x509 -days` cannot go negative).
 */
export async function makeCaValidBetween(pki: TestPki, startDate: string, endDate: string): Promise<TestCa> {
  const cn = `certgate dated CA ${unique()}`;
  const { keyFile, csrFile, base } = await csrFor(pki, { CN: cn });
  const cnfFile = `${base}-ca.cnf`;
  await writeFile(join(pki.dir, `${base}-index.txt`), '');
  await writeFile(join(pki.dir, `${base}-serial`), `10${unique()}\n`);
  await writeFile(
    join(pki.dir, cnfFile),
    [
      '[ca]',
      'default_ca = dated',
      '[dated]',
      `database = ${join(pki.dir, `${base}-index.txt`)}`,
      `new_certs_dir = ${pki.dir}`,
      `serial = ${join(pki.dir, `${base}-serial`)}`,
      'default_md = sha256',
      'policy = anything',
      'unique_subject = no',
      'copy_extensions = none',
      '[anything]',
      'commonName = supplied',
      '[ca_ext]',
      ...CA_EXTENSIONS,
      '',
    ].join('\n'),
  );
  const certFile = `${base}.pem`;
  await runOpenssl(
    ['ca', '-batch', '-selfsign', '-config', cnfFile, '-in', csrFile, '-keyfile', keyFile, '-out', certFile, '-startdate', startDate, '-enddate', endDate, '-extensions', 'ca_ext', '-notext'],
    pki.dir,
  );
  return { cn, ...(await files(pki, keyFile, certFile)) };
}

/** CA certificates RegisterCACertificate refuses for their own extensions, each with the lines that make it so. */
export const DEFECTIVE_CA_EXTENSIONS = {
  'a keyUsage without keyCertSign': ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature,cRLSign', 'subjectKeyIdentifier=hash'],
  'an unknown critical extension': [...CA_EXTENSIONS, '1.3.6.1.4.1.55555.7=critical,ASN1:NULL'],
  'a negative pathLenConstraint': ['2.5.29.19=critical,DER:30:06:01:01:FF:02:01:FF', ...CA_EXTENSIONS.slice(1)],
  'a basicConstraints that cannot be decoded': ['2.5.29.19=critical,DER:04:00', ...CA_EXTENSIONS.slice(1)],
} as const satisfies Record<string, readonly string[]>;

/** What RegisterCACertificate's CertificateValidationException names for each defect. */
export const CA_DEFECT_REASON: Record<keyof typeof DEFECTIVE_CA_EXTENSIONS, RegExp> = {
  'a keyUsage without keyCertSign': /keyUsage without keyCertSign/,
  'an unknown critical extension': /critical extension certgate does not process \(1\.3\.6\.1\.4\.1\.55555\.7\)/,
  'a negative pathLenConstraint': /pathLenConstraint .*negative/,
  'a basicConstraints that cannot be decoded': /extension that cannot be decoded/,
};

/**
 * A CA whose nameConstraints permit the directoryName subtree C=US, O=Acme (openssl dirName section, RDNs
 * in that order), and the subjects of devices inside it and of one that puts an RDN of another type before
 * the constrained ones (issue 10 review #1: not within the subtree, RFC 5280 §7.1).
 */
export const ACME_US_CA = {
  subject: { C: 'US', O: 'Acme' },
  extensions: [...CA_EXTENSIONS, 'nameConstraints=critical,permitted;dirName:acme_us_dn', '[acme_us_dn]', 'C=US', 'O=Acme'],
  inside: { C: 'US', O: 'Acme', OU: 'Lab', CN: 'sensor-inside' },
  prepended: { OU: 'Evil', C: 'US', O: 'Acme', CN: 'sensor-prepended' },
} as const;
