import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CaKeyDecryptError, writeFileAtomic } from '../keys/index.js';
import type { CaKeyVault } from '../keys/index.js';
import type { Logger } from '../kernel/index.js';
import { createIntermediateCa, createRootCa, isSignedBy, parseCertificatePem } from '../pki/index.js';
import type { ParsedCertificate } from '../pki/index.js';
import type { DataDirLayout } from './data-dir-layout.js';
import { StartupError } from './startup-error.js';

/** One of certgate's own CAs: certificate (PEM file under the data dir) + private key (in the vault). */
export interface ServiceCa {
  readonly keyName: string;
  readonly certificateFile: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly certificate: ParsedCertificate;
}

export interface ServiceCas {
  /** Trust anchors for the MQTT listener's server certificates (20 years). */
  readonly rootRsa: ServiceCa;
  readonly rootEcc: ServiceCa;
  /** Sign the MQTT listener's server certificates (10 years, pathLength 0). */
  readonly intermediateRsa: ServiceCa;
  readonly intermediateEcc: ServiceCa;
  /** Self-signed, issues device certificates (CreateKeysAndCertificate, CreateCertificateFromCsr). */
  readonly deviceIssuer: ServiceCa;
}

type Role = keyof ServiceCas;

interface CaSpec {
  readonly role: Role;
  readonly keyName: string;
  readonly file: (l: DataDirLayout) => string;
  readonly keyType: 'RSA' | 'EC';
  readonly commonName: string;
  readonly years: number;
  readonly issuer?: Role;
}

const ORGANIZATION = 'certgate';

/** Issuers before the CAs they sign. */
const CA_SPECS: readonly CaSpec[] = [
  { role: 'rootRsa', keyName: 'root-ca-rsa', file: (l) => l.rootCaRsa, keyType: 'RSA', commonName: 'certgate Root CA RSA', years: 20 },
  { role: 'rootEcc', keyName: 'root-ca-ecc', file: (l) => l.rootCaEcc, keyType: 'EC', commonName: 'certgate Root CA ECC', years: 20 },
  { role: 'intermediateRsa', keyName: 'intermediate-rsa', file: (l) => l.intermediateRsa, keyType: 'RSA', commonName: 'certgate Intermediate CA RSA', years: 10, issuer: 'rootRsa' },
  { role: 'intermediateEcc', keyName: 'intermediate-ecc', file: (l) => l.intermediateEcc, keyType: 'EC', commonName: 'certgate Intermediate CA ECC', years: 10, issuer: 'rootEcc' },
  { role: 'deviceIssuer', keyName: 'device-issuing-ca', file: (l) => l.deviceIssuingCa, keyType: 'RSA', commonName: 'certgate Device Issuing CA', years: 20 },
];

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function vaultGet(vault: CaKeyVault, name: string): Promise<string | undefined> {
  try {
    return await vault.get(name);
  } catch (e) {
    if (e instanceof CaKeyDecryptError) {
      throw new StartupError(`cannot decrypt CA keys: wrong master key? (key '${name}' does not decrypt; check CERTGATE_MASTER_KEY or master.key)`, { cause: e });
    }
    throw e;
  }
}

function keyMatches(certificatePem: string, privateKeyPem: string): boolean {
  try {
    return new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(privateKeyPem));
  } catch {
    return false;
  }
}

/**
 * Load certgate's CAs from the data dir, creating the missing ones. Reads (and decrypts) everything
 * first, so a wrong master key fails before anything is written. An existing certificate whose key is
 * missing, undecryptable or not its own is an error, never a reason to regenerate.
 */
export async function ensureServiceCas(opts: {
  readonly layout: DataDirLayout;
  readonly vault: CaKeyVault;
  readonly now: Date;
  readonly logger: Logger;
}): Promise<ServiceCas> {
  const { layout, vault, now, logger } = opts;

  // Phase 1: read and check what exists. No writes.
  const loaded = new Map<Role, ServiceCa>();
  for (const spec of CA_SPECS) {
    const file = spec.file(layout);
    const pem = await readIfExists(file);
    const key = await vaultGet(vault, spec.keyName);
    if (pem === undefined) continue;
    if (key === undefined) {
      throw new StartupError(
        `${file} exists but its private key '${spec.keyName}' is missing from ${layout.keysDir}; restore it (or move the certificate away to create a new CA)`,
      );
    }
    let certificate: ParsedCertificate;
    try {
      certificate = parseCertificatePem(pem);
    } catch (e) {
      throw new StartupError(`${file} is not a valid PEM certificate`, { cause: e });
    }
    if (!keyMatches(certificate.pem, key)) {
      throw new StartupError(`${file} does not match its private key '${spec.keyName}'`);
    }
    loaded.set(spec.role, { keyName: spec.keyName, certificateFile: file, certificatePem: pem, privateKeyPem: key, certificate });
  }
  for (const spec of CA_SPECS) {
    const ca = loaded.get(spec.role);
    const issuer = spec.issuer === undefined ? undefined : loaded.get(spec.issuer);
    if (ca && spec.issuer !== undefined && (!issuer || !isSignedBy(ca.certificate, issuer.certificate))) {
      throw new StartupError(`${ca.certificateFile} is not signed by ${spec.issuer === 'rootRsa' ? layout.rootCaRsa : layout.rootCaEcc}`);
    }
  }

  // Phase 2: create what is missing (key first, then certificate, each written atomically).
  const result = new Map<Role, ServiceCa>(loaded);
  for (const spec of CA_SPECS) {
    if (result.has(spec.role)) continue;
    const subject = { keyType: spec.keyType, commonName: spec.commonName, organization: ORGANIZATION, now, years: spec.years };
    let member: { certificatePem: string; privateKeyPem: string };
    if (spec.issuer === undefined) {
      member = await createRootCa(subject);
    } else {
      const issuer = result.get(spec.issuer);
      if (!issuer) throw new Error(`internal: issuer ${spec.issuer} of ${spec.role} not ready`);
      member = await createIntermediateCa({ certificatePem: issuer.certificatePem, privateKeyPem: issuer.privateKeyPem }, subject);
    }
    const file = spec.file(layout);
    await vault.put(spec.keyName, member.privateKeyPem);
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, member.certificatePem, 0o644);
    result.set(spec.role, {
      keyName: spec.keyName,
      certificateFile: file,
      certificatePem: member.certificatePem,
      privateKeyPem: member.privateKeyPem,
      certificate: parseCertificatePem(member.certificatePem),
    });
    logger.info({ ca: spec.keyName, file }, 'created CA');
  }

  const get = (role: Role): ServiceCa => {
    const ca = result.get(role);
    if (!ca) throw new Error(`internal: CA ${role} missing`);
    return ca;
  };
  return {
    rootRsa: get('rootRsa'),
    rootEcc: get('rootEcc'),
    intermediateRsa: get('intermediateRsa'),
    intermediateEcc: get('intermediateEcc'),
    deviceIssuer: get('deviceIssuer'),
  };
}
