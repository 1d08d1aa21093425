/**
 * RFC 5280 path validation of a device (TLS client) certificate up to a trust anchor — the registered CA
 * that signed it (AWS: "you must register the signing CA", device-certs-your-own.html). Pure: `now` comes
 * from the caller; a refusal is a value naming the check and the certificate, for the API error and the
 * access log (`certgate why`).
 *
 * pkijs's CertificateChainValidationEngine builds the path and checks signatures, name chaining, the
 * validity of every certificate, that issuers are CAs with keyCertSign, certificate policies and the name
 * constraints on dNSName, rfc822Name, iPAddress and URI. It does not check pathLenConstraint, the leaf's
 * keyUsage and extendedKeyUsage, unknown critical extensions of the leaf, that the leaf is not a CA, or
 * that no extension appears twice (RFC 5280 §4.2); those are checked here first, each with its own reason.
 * directoryName name constraints are checked here too, instead of by pkijs (see directoryNameConstraints).
 * The trust anchor's own constraints (name constraints, pathLenConstraint) are applied as inputs to the
 * algorithm (RFC 5937), since the operator registered the CA with them.
 */
import type { Extension, X509Certificate } from '@peculiar/x509';
import type { ParsedCertificate } from './parse-certificate.js';
import { ensurePkijsRuntime, ensureX509Runtime } from './x509-runtime.js';
import type { PkijsApi } from './x509-runtime.js';

export const PATH_CHECKS = [
  'CA_CERTIFICATE_AS_DEVICE',
  'KEY_USAGE',
  'EXTENDED_KEY_USAGE',
  'UNKNOWN_CRITICAL_EXTENSION',
  'MALFORMED_EXTENSION',
  'VALIDITY',
  'ISSUER_NOT_CA',
  'ISSUER_KEY_USAGE',
  'PATH_LENGTH',
  'NAME_CONSTRAINTS',
  'POLICY',
  'NO_PATH',
] as const;
export type PathCheck = (typeof PATH_CHECKS)[number];

export type PathValidation =
  | { readonly valid: true }
  | { readonly valid: false; readonly check: PathCheck; readonly reason: string };

export interface PathInput {
  readonly device: ParsedCertificate;
  /** Certificates between the device and the anchor, the device's issuer first. Usually none. */
  readonly intermediates?: readonly ParsedCertificate[];
  /** The registered CA the path ends at. */
  readonly trustAnchor: ParsedCertificate;
  readonly now: Date;
}

const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  inhibitAnyPolicy: '2.5.29.54',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/** Extensions the path validation processes (here or in pkijs); any other critical extension refuses the certificate (RFC 5280 §4.2). */
const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.basicConstraints,
  OID.nameConstraints,
  OID.certificatePolicies,
  OID.policyMappings,
  OID.authorityKeyIdentifier,
  OID.policyConstraints,
  OID.extKeyUsage,
  OID.inhibitAnyPolicy,
]);

/** Names of the extensions a refusal may mention, for readable reasons. */
const EXTENSION_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(OID)
    .filter(([, oid]) => UNDERSTOOD_EXTENSIONS.has(oid))
    .map(([name, oid]) => [oid, name]),
);

const KEY_USAGE = { digitalSignature: 1, keyCertSign: 32 } as const;

const refuse = (check: PathCheck, reason: string): PathValidation => ({ valid: false, check, reason });
const VALID: PathValidation = { valid: true };

interface Extensions {
  readonly all: readonly Extension[];
  readonly isCa: boolean;
  readonly pathLength: number | undefined;
  /** KeyUsageFlags bits, or undefined when the extension is absent. */
  readonly keyUsage: number | undefined;
  /** OIDs, or undefined when the extension is absent. */
  readonly extendedKeyUsage: readonly string[] | undefined;
}

function label(cert: ParsedCertificate, role: string): string {
  return `${role} ${cert.certificateId} (${cert.subject})`;
}

/**
 * The extensions path validation reads, decoded with @peculiar/x509. A present but undecodable one is a
 * refusal, and so is an extension that appears more than once: RFC 5280 §4.2 forbids it, and reading only
 * the first instance (as getExtension does) would judge the certificate on half of what it says.
 */
function extensionsOf(cert: ParsedCertificate, role: string): Extensions | PathValidation {
  const x509 = ensureX509Runtime();
  let parsed: X509Certificate;
  try {
    parsed = new x509.X509Certificate(cert.der);
    const seen = new Set<string>();
    for (const { type } of parsed.extensions) {
      if (seen.has(type)) {
        const name = EXTENSION_NAMES[type];
        return refuse(
          'MALFORMED_EXTENSION',
          `the ${label(cert, role)} has more than one ${name === undefined ? '' : `${name} `}extension (${type}); RFC 5280 §4.2 allows one instance of an extension`,
        );
      }
      seen.add(type);
    }
    const basic = parsed.getExtension(x509.BasicConstraintsExtension);
    const ku = parsed.getExtension(x509.KeyUsagesExtension);
    const eku = parsed.getExtension(x509.ExtendedKeyUsageExtension);
    return {
      all: parsed.extensions,
      isCa: basic?.ca === true,
      pathLength: basic?.ca === true ? basic.pathLength : undefined,
      keyUsage: ku === null ? undefined : ku.usages,
      extendedKeyUsage: eku === null ? undefined : eku.usages.map(String),
    };
  } catch {
    return refuse('MALFORMED_EXTENSION', `the ${label(cert, role)} has an extension that cannot be decoded`);
  }
}

function isRefusal(x: Extensions | PathValidation): x is PathValidation {
  return 'valid' in x;
}

function criticalExtensions(cert: ParsedCertificate, role: string, ext: Extensions): PathValidation {
  const unknown = ext.all.filter((e) => e.critical && !UNDERSTOOD_EXTENSIONS.has(e.type)).map((e) => e.type);
  if (unknown.length === 0) return VALID;
  return refuse(
    'UNKNOWN_CRITICAL_EXTENSION',
    `the ${label(cert, role)} has a critical extension certgate does not process (${unknown.join(', ')}); RFC 5280 §4.2 requires refusing it`,
  );
}

/**
 * The rules a device (TLS client) certificate obeys on its own, without its issuer: not a CA
 * (basicConstraints CA:TRUE, or keyUsage keyCertSign), keyUsage when present allows digitalSignature,
 * extendedKeyUsage when present allows clientAuth or anyExtendedKeyUsage, no unknown critical extension.
 * Absent keyUsage / extendedKeyUsage are allowed (RFC 5280 §4.2.1.3, §4.2.1.12).
 */
export function checkDeviceCertificate(device: ParsedCertificate): PathValidation {
  const ext = extensionsOf(device, 'device certificate');
  if (isRefusal(ext)) return ext;
  if (ext.isCa) {
    return refuse(
      'CA_CERTIFICATE_AS_DEVICE',
      `the certificate ${device.certificateId} is a CA certificate (basicConstraints CA:TRUE), not a device certificate`,
    );
  }
  if (ext.keyUsage !== undefined && (ext.keyUsage & KEY_USAGE.keyCertSign) !== 0) {
    return refuse(
      'CA_CERTIFICATE_AS_DEVICE',
      `the certificate ${device.certificateId} asserts keyUsage keyCertSign, which only a CA certificate may (RFC 5280 §4.2.1.3); it is not a device certificate`,
    );
  }
  if (ext.keyUsage !== undefined && (ext.keyUsage & KEY_USAGE.digitalSignature) === 0) {
    return refuse(
      'KEY_USAGE',
      `the certificate ${device.certificateId} has a keyUsage without digitalSignature, so it cannot authenticate a TLS client`,
    );
  }
  if (ext.extendedKeyUsage !== undefined && !ext.extendedKeyUsage.some((u) => u === OID.clientAuth || u === OID.anyExtendedKeyUsage)) {
    return refuse(
      'EXTENDED_KEY_USAGE',
      `the certificate ${device.certificateId} has an extendedKeyUsage without clientAuth (${ext.extendedKeyUsage.join(', ') || 'empty'}), so it is not for TLS client authentication`,
    );
  }
  return criticalExtensions(device, 'device certificate', ext);
}

function validityOf(cert: ParsedCertificate, role: string, now: Date): PathValidation {
  if (now.getTime() > cert.notAfter.getTime()) return refuse('VALIDITY', `the ${label(cert, role)} expired at ${cert.notAfter.toISOString()}`);
  if (now.getTime() < cert.notBefore.getTime()) return refuse('VALIDITY', `the ${label(cert, role)} is not valid before ${cert.notBefore.toISOString()}`);
  return VALID;
}

/** An issuer asserts CA:TRUE and, when keyUsage is present, keyCertSign (RFC 5280 §4.2.1.3, §4.2.1.9). */
function issuerCapability(cert: ParsedCertificate, role: string, ext: Extensions): PathValidation {
  if (!ext.isCa) return refuse('ISSUER_NOT_CA', `the ${label(cert, role)} is not a CA certificate (basicConstraints CA:TRUE is missing), so it cannot issue certificates`);
  if (ext.keyUsage !== undefined && (ext.keyUsage & KEY_USAGE.keyCertSign) === 0) {
    return refuse('ISSUER_KEY_USAGE', `the ${label(cert, role)} has a keyUsage without keyCertSign, so it cannot issue certificates`);
  }
  return VALID;
}

/**
 * The rules a CA certificate obeys on its own, checked when it is registered (RegisterCACertificate) so that
 * a CA no device path could be validated through is refused then rather than at each of its devices: its
 * extensions decode, basicConstraints asserts CA:TRUE, keyUsage when present allows keyCertSign,
 * pathLenConstraint when present is not negative (RFC 5280 §4.2.1.9: an INTEGER (0..MAX)), and no critical
 * extension certgate does not process. The same checks, with the same names, as validateCertificatePath
 * applies to the trust anchor and intermediates. Validity is checked by checkCertificateAcceptable.
 */
export function checkCaCertificate(ca: ParsedCertificate): PathValidation {
  const role = 'CA certificate';
  const ext = extensionsOf(ca, role);
  if (isRefusal(ext)) return ext;
  const canIssue = issuerCapability(ca, role, ext);
  if (!canIssue.valid) return canIssue;
  if (ext.pathLength !== undefined && ext.pathLength < 0) {
    return refuse('MALFORMED_EXTENSION', `the ${label(ca, role)} has a pathLenConstraint of ${ext.pathLength}, which is negative (RFC 5280 §4.2.1.9)`);
  }
  return criticalExtensions(ca, role, ext);
}

/**
 * Validates the path device ← intermediates ← trustAnchor at `now` (RFC 5280 §6.1). The device's own rules
 * (checkDeviceCertificate) first, then every certificate's validity, the issuers' CA-ness, keyCertSign and
 * pathLenConstraint, then pkijs for signatures, policies and the name constraints other than directoryName,
 * then the directoryName name constraints (directoryNameConstraints).
 */
export async function validateCertificatePath(input: PathInput): Promise<PathValidation> {
  const { device, trustAnchor, now } = input;
  const intermediates = input.intermediates ?? [];

  const own = checkDeviceCertificate(device);
  if (!own.valid) return own;

  // Device first, anchor last: each certificate's role, for the reasons.
  const path: { cert: ParsedCertificate; role: string }[] = [
    { cert: device, role: 'device certificate' },
    ...intermediates.map((cert, i) => ({ cert, role: `intermediate CA certificate ${i + 1}` })),
    { cert: trustAnchor, role: 'CA certificate' },
  ];
  for (const { cert, role } of path) {
    const v = validityOf(cert, role, now);
    if (!v.valid) return v;
  }

  // Issuers: CA:TRUE, keyCertSign when keyUsage is present, no unknown critical extension (the anchor's
  // extensions were accepted when it was registered), and pathLenConstraint from the anchor down.
  const issuers = path.slice(1).reverse(); // anchor first
  let maxPathLength = Number.POSITIVE_INFINITY;
  for (const [i, { cert, role }] of issuers.entries()) {
    const ext = extensionsOf(cert, role);
    if (isRefusal(ext)) return ext;
    const canIssue = issuerCapability(cert, role, ext);
    if (!canIssue.valid) return canIssue;
    const isAnchor = i === 0;
    if (!isAnchor) {
      const critical = criticalExtensions(cert, role, ext);
      if (!critical.valid) return critical;
      const selfIssued = cert.subject === cert.issuer;
      if (!selfIssued) {
        if (maxPathLength <= 0) {
          return refuse(
            'PATH_LENGTH',
            `the ${label(cert, role)} is a CA below a CA whose pathLenConstraint allows no further CA certificates (RFC 5280 §4.2.1.9)`,
          );
        }
        maxPathLength -= 1;
      }
    }
    if (ext.pathLength !== undefined) maxPathLength = Math.min(maxPathLength, ext.pathLength);
  }

  const byPkijs = await pkijsValidation(input, intermediates);
  if (!byPkijs.valid) return byPkijs;
  return directoryNameConstraints(path);
}

/** Signatures, name chaining, policies and name constraints (the anchor's as initial inputs), by pkijs. */
async function pkijsValidation(input: PathInput, intermediates: readonly ParsedCertificate[]): Promise<PathValidation> {
  const { pkijs, engine } = ensurePkijsRuntime();
  const toPkijs = (cert: ParsedCertificate): InstanceType<typeof pkijs.Certificate> => pkijs.Certificate.fromBER(cert.der);
  let anchor: InstanceType<typeof pkijs.Certificate>;
  let certs: InstanceType<typeof pkijs.Certificate>[];
  try {
    anchor = toPkijs(input.trustAnchor);
    // pkijs takes the last of `certs` as the end entity.
    certs = [...[...intermediates].reverse().map(toPkijs), toPkijs(input.device)];
  } catch {
    return refuse('MALFORMED_EXTENSION', 'a certificate of the path cannot be decoded for path validation');
  }
  // directoryName constraints are left out of pkijs's inputs: directoryNameConstraints checks them.
  const constraints = anchor.extensions?.find((e) => e.extnID === OID.nameConstraints)?.parsedValue as NameConstraintsValue | undefined;
  const anchorConstraints = constraints === undefined ? undefined : withoutDirectoryNames(constraints);
  for (const cert of certs.slice(0, -1)) {
    for (const e of cert.extensions ?? []) {
      if (e.extnID === OID.nameConstraints && e.parsedValue !== undefined) e.parsedValue = withoutDirectoryNames(e.parsedValue as NameConstraintsValue);
    }
  }
  const engineOfPath = new pkijs.CertificateChainValidationEngine({ trustedCerts: [anchor], certs, checkDate: input.now });
  const result = await engineOfPath.verify(
    {
      ...(anchorConstraints?.permittedSubtrees !== undefined ? { initialPermittedSubtreesSet: anchorConstraints.permittedSubtrees } : {}),
      ...(anchorConstraints?.excludedSubtrees !== undefined ? { initialExcludedSubtreesSet: anchorConstraints.excludedSubtrees } : {}),
    },
    engine,
  );
  if (result.result) return VALID;
  const why = result.resultMessage || 'path validation failed';
  const device = input.device.certificateId;
  switch (result.resultCode) {
    case 41:
    case 42:
      return refuse('NAME_CONSTRAINTS', `the certificate ${device} violates the name constraints of its CA: ${why}`);
    case 0:
    case 98:
    case 99:
      return refuse('POLICY', `the certificate ${device} fails the certificate policies of its path: ${why}`);
    case 8:
      return refuse('VALIDITY', `a certificate of the path of ${device} is not valid at ${input.now.toISOString()}: ${why}`);
    case 3:
    case 4:
    case 5:
    case 14:
      return refuse('ISSUER_NOT_CA', `an issuer in the path of ${device} is not a CA allowed to sign certificates: ${why}`);
    case 6:
      return refuse('UNKNOWN_CRITICAL_EXTENSION', `a certificate in the path of ${device} has a critical extension that cannot be processed: ${why}`);
    default:
      return refuse('NO_PATH', `no valid path from the certificate ${device} to the CA ${input.trustAnchor.certificateId}: ${why}`);
  }
}

type PkijsSubtree = InstanceType<PkijsApi['GeneralSubtree']>;
type PkijsNames = InstanceType<PkijsApi['RelativeDistinguishedNames']>;
type PkijsCertificate = InstanceType<PkijsApi['Certificate']>;

/** A decoded nameConstraints extension, as pkijs parses it. */
interface NameConstraintsValue {
  permittedSubtrees?: PkijsSubtree[];
  excludedSubtrees?: PkijsSubtree[];
}

const GENERAL_NAME = { directoryName: 4 } as const;

/** The same constraints without their directoryName subtrees, for pkijs (a property stays absent when it was). */
function withoutDirectoryNames(constraints: NameConstraintsValue): NameConstraintsValue {
  const keep = (subtrees: PkijsSubtree[]) => subtrees.filter((t) => t.base.type !== GENERAL_NAME.directoryName);
  return {
    ...(constraints.permittedSubtrees !== undefined ? { permittedSubtrees: keep(constraints.permittedSubtrees) } : {}),
    ...(constraints.excludedSubtrees !== undefined ? { excludedSubtrees: keep(constraints.excludedSubtrees) } : {}),
  };
}

/** A distinguished name RDN by RDN, each RDN its attributes as (type, value) pairs, values as @peculiar/x509 renders them. */
type Dn = readonly (readonly { readonly type: string; readonly value: string }[])[];

interface NamedDn {
  readonly dn: Dn;
  readonly text: string;
}

function dnOfDer(der: ArrayBuffer | Uint8Array): NamedDn {
  const name = new (ensureX509Runtime().Name)(der);
  const dn = name.toJSON().map((rdn) => Object.entries(rdn).flatMap(([type, values]) => values.map((value) => ({ type, value }))));
  return { dn, text: name.toString() };
}

function dnOfPkijs(names: PkijsNames): NamedDn {
  return dnOfDer(names.valueBeforeDecode.byteLength > 0 ? names.valueBeforeDecode : names.toSchema().toBER());
}

/**
 * An attribute value prepared for comparison as RFC 5280 §7.1 requires: the LDAP string preparation of
 * RFC 4518 (map, case fold, NFKC, insignificant space handling), as for caseIgnoreMatch, which is the
 * matching rule of the DirectoryString attributes and of countryName, emailAddress and domainComponent.
 * Values of other ASN.1 types arrive as "#" and their DER in hex, and compare as such. The prohibit and
 * bidi steps are not applied: a value with such characters then compares on its characters as they are.
 */
function prepared(value: string): string {
  return value
    .replace(/[\t\n\v\f\r\u0085]/gu, ' ')
    .replace(/[\u00AD\u1806\u034F\u180B-\u180D\uFE00-\uFE0F\uFFFC\u200B\p{Cc}\p{Cf}]/gu, '')
    .replace(/[\p{Zs}\p{Zl}\p{Zp}]/gu, ' ')
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC')
    .trim()
    .replace(/ +/g, ' ');
}

/** RFC 5280 §7.1: two RDNs match when they have as many attributes, each matching one of the other (same type, same prepared value). */
function rdnMatches(a: Dn[number], b: Dn[number]): boolean {
  if (a.length !== b.length) return false;
  const unused = b.map((attr) => ({ type: attr.type, value: prepared(attr.value) }));
  return a.every((attr) => {
    const value = prepared(attr.value);
    const i = unused.findIndex((u) => u.type === attr.type && u.value === value);
    if (i < 0) return false;
    unused.splice(i, 1);
    return true;
  });
}

/** RFC 5280 §7.1: a DN is within the subtree of `base` when `base` is its prefix, RDN by RDN. */
function withinSubtree(name: Dn, base: Dn): boolean {
  return name.length >= base.length && base.every((rdn, i) => rdnMatches(name[i] ?? [], rdn));
}

/**
 * directoryName name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b), (c)), checked here rather than by pkijs,
 * which matches a constraint's attributes in order anywhere in the subject (so RDNs of other types may be
 * put before them), takes the union of the CAs' permitted subtrees rather than their intersection, ignores
 * directoryName entries of the subjectAltName, and excludes an empty subject. Here every CA's permitted and
 * excluded directoryName subtrees apply to each certificate below it (the device and the intermediates,
 * except self-issued intermediates): its subject, when not empty (an empty subject names the certificate by
 * its subjectAltName, RFC 5280 §4.2.1.6), and every directoryName of its subjectAltName, must be within one
 * of the permitted subtrees of each CA that has some, and within none of the excluded ones.
 */
function directoryNameConstraints(path: readonly { cert: ParsedCertificate; role: string }[]): PathValidation {
  const { pkijs } = ensurePkijsRuntime();
  try {
    const decoded = path.map(({ cert, role }) => ({ cert, role, pkijs: pkijs.Certificate.fromBER(cert.der) }));
    const subtreesOf = (cert: PkijsCertificate, which: 'permittedSubtrees' | 'excludedSubtrees'): NamedDn[] | undefined => {
      const value = cert.extensions?.find((e) => e.extnID === OID.nameConstraints)?.parsedValue as NameConstraintsValue | undefined;
      const dns = value?.[which]?.filter((t) => t.base.type === GENERAL_NAME.directoryName).map((t) => dnOfPkijs(t.base.value as PkijsNames));
      return dns === undefined || dns.length === 0 ? undefined : dns;
    };
    // Names are decoded only when some CA of the path constrains them.
    const constraining = decoded.slice(1).some((ca) => subtreesOf(ca.pkijs, 'permittedSubtrees') !== undefined || subtreesOf(ca.pkijs, 'excludedSubtrees') !== undefined);
    if (!constraining) return VALID;
    for (const [i, below] of decoded.entries()) {
      const isLast = i === decoded.length - 1;
      if (isLast) break; // the anchor is not constrained by anything
      const selfIssuedIntermediate = i > 0 && below.cert.subject === below.cert.issuer;
      if (selfIssuedIntermediate) continue;
      const names: { what: string; name: NamedDn }[] = [];
      if (below.pkijs.subject.typesAndValues.length > 0) names.push({ what: 'subject', name: dnOfPkijs(below.pkijs.subject) });
      const san = below.pkijs.extensions?.find((e) => e.extnID === OID.subjectAltName)?.parsedValue as
        | { altNames?: InstanceType<PkijsApi['GeneralName']>[] }
        | undefined;
      for (const alt of san?.altNames ?? []) {
        if (alt.type === GENERAL_NAME.directoryName) names.push({ what: 'subjectAltName directoryName', name: dnOfPkijs(alt.value as PkijsNames) });
      }
      if (names.length === 0) continue;
      for (const ca of decoded.slice(i + 1)) {
        const permitted = subtreesOf(ca.pkijs, 'permittedSubtrees');
        const excluded = subtreesOf(ca.pkijs, 'excludedSubtrees') ?? [];
        for (const { what, name } of names) {
          if (permitted !== undefined && !permitted.some((base) => withinSubtree(name.dn, base.dn))) {
            return refuse(
              'NAME_CONSTRAINTS',
              `the ${label(below.cert, below.role)} violates the name constraints of its CA: its ${what} ${name.text} is not within the permitted directoryName subtrees of the ${label(ca.cert, ca.role)} (${permitted.map((p) => p.text).join('; ')}) (RFC 5280 §4.2.1.10)`,
            );
          }
          const hit = excluded.find((base) => withinSubtree(name.dn, base.dn));
          if (hit !== undefined) {
            return refuse(
              'NAME_CONSTRAINTS',
              `the ${label(below.cert, below.role)} violates the name constraints of its CA: its ${what} ${name.text} is within the excluded directoryName subtree ${hit.text} of the ${label(ca.cert, ca.role)} (RFC 5280 §4.2.1.10)`,
            );
          }
        }
      }
    }
    return VALID;
  } catch {
    return refuse('MALFORMED_EXTENSION', 'a name or the name constraints of a certificate of the path cannot be decoded');
  }
}
