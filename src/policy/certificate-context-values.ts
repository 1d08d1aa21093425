/**
 * Builds the `iot:Certificate.*` policy variables from a parsed certificate, with AWS's attribute
 * names. Attribute keys may be short names (CN, O, …, case-insensitive) or OIDs; unknown ones are
 * ignored. Multi-valued attributes stay arrays (truncated to 5, as AWS does); the evaluator gives
 * the bare name the first value, `.N` the N-th (from zero) and `.List` all of them.
 */

export interface CertificateNames {
  readonly dns: readonly string[];
  readonly email: readonly string[];
  readonly uri: readonly string[];
  readonly ip: readonly string[];
  readonly directoryName: readonly string[];
}

export interface CertificateForContext {
  readonly subjectAttributes: Readonly<Record<string, readonly string[]>>;
  readonly issuerAttributes: Readonly<Record<string, readonly string[]>>;
  readonly subjectAltNames: CertificateNames;
  readonly issuerAltNames: CertificateNames;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** AWS's maximum number of values kept for a multi-valued attribute. */
export const MAX_ATTRIBUTE_VALUES = 5;

/** Short name or OID (lower-cased) → AWS attribute name. */
export const DN_ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  c: 'Country',
  '2.5.4.6': 'Country',
  o: 'Organization',
  '2.5.4.10': 'Organization',
  ou: 'OrganizationalUnit',
  '2.5.4.11': 'OrganizationalUnit',
  st: 'State',
  s: 'State',
  '2.5.4.8': 'State',
  cn: 'CommonName',
  '2.5.4.3': 'CommonName',
  serialnumber: 'SerialNumber',
  '2.5.4.5': 'SerialNumber',
  dnqualifier: 'DistinguishedNameQualifier',
  '2.5.4.46': 'DistinguishedNameQualifier',
  title: 'Title',
  '2.5.4.12': 'Title',
  sn: 'Surname',
  surname: 'Surname',
  '2.5.4.4': 'Surname',
  gn: 'GivenName',
  g: 'GivenName',
  givenname: 'GivenName',
  '2.5.4.42': 'GivenName',
  initials: 'Initials',
  '2.5.4.43': 'Initials',
  pseudonym: 'Pseudonym',
  '2.5.4.65': 'Pseudonym',
  generationqualifier: 'GenerationQualifier',
  '2.5.4.44': 'GenerationQualifier',
};

const ALT_NAME_KINDS = {
  email: 'RFC822Name',
  dns: 'DNSName',
  directoryName: 'DirectoryName',
  uri: 'UniformResourceIdentifier',
  ip: 'IPAddress',
} as const satisfies Record<keyof CertificateNames, string>;

export function certificateContextValues(cert: CertificateForContext): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const put = (key: string, values: readonly string[]): void => {
    if (values.length === 0) return;
    const existing = out[key];
    const merged = Array.isArray(existing) ? [...existing, ...values] : [...values];
    out[key] = merged.slice(0, MAX_ATTRIBUTE_VALUES);
  };
  const addDn = (side: 'Subject' | 'Issuer', attributes: Readonly<Record<string, readonly string[]>>): void => {
    for (const [shortName, values] of Object.entries(attributes)) {
      const name = DN_ATTRIBUTE_NAMES[shortName.toLowerCase()];
      if (name !== undefined) put(`iot:Certificate.${side}.${name}`, values);
    }
  };
  const addAlt = (side: 'Subject' | 'Issuer', names: CertificateNames): void => {
    for (const kind of Object.keys(ALT_NAME_KINDS) as (keyof CertificateNames)[]) {
      put(`iot:Certificate.${side}.AlternativeName.${ALT_NAME_KINDS[kind]}`, names[kind]);
    }
  };
  addDn('Subject', cert.subjectAttributes);
  addDn('Issuer', cert.issuerAttributes);
  addAlt('Subject', cert.subjectAltNames);
  addAlt('Issuer', cert.issuerAltNames);
  if (cert.serialNumber !== '') out['iot:Certificate.SerialNumber'] = cert.serialNumber;
  const available = Object.keys(out);
  available.push('iot:Certificate.AvailableKeys');
  out['iot:Certificate.AvailableKeys'] = available;
  return out;
}
