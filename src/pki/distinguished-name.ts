import type { Name } from '@peculiar/x509';
import { invalidRequest } from '../kernel/index.js';
import { ensureX509Runtime } from './x509-runtime.js';

/** Attribute short name → values, in order of appearance in the DN. */
export interface DnAttributes {
  [shortName: string]: string[];
}

/** Short names for attribute OIDs, used for DnAttributes keys (the DN string keeps x509's own names). */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  serialNumber: '2.5.4.5',
  dnQualifier: '2.5.4.46',
  title: '2.5.4.12',
  SN: '2.5.4.4',
  GN: '2.5.4.42',
  initials: '2.5.4.43',
  pseudonym: '2.5.4.65',
  generationQualifier: '2.5.4.44',
  emailAddress: '1.2.840.113549.1.9.1',
  street: '2.5.4.9',
  postalCode: '2.5.4.17',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
};

/** DnAttributes of a DER-encoded Name; attributes without a known short name are keyed by OID. */
export function dnAttributesOf(nameDer: ArrayBuffer | Uint8Array): DnAttributes {
  const x509 = ensureX509Runtime();
  const name = new x509.Name(nameDer, ATTRIBUTE_NAMES);
  const out: DnAttributes = {};
  for (const rdn of name.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) {
      (out[type] ??= []).push(...values);
    }
  }
  return out;
}

/** The DN string of a DER-encoded Name: @peculiar/x509's `Name.toString()`, used for subject and issuer alike. */
export function formatDistinguishedName(nameDer: ArrayBuffer | Uint8Array): string {
  return new (ensureX509Runtime().Name)(nameDer).toString();
}

/**
 * A Name from (type, value) pairs, one RDN each, e.g. [['CN', 'Root, "A"'], ['O', 'x']]. Values are
 * taken verbatim (no DN-string escaping involved): PrintableString when they fit, else UTF8String.
 */
export function nameFromParts(parts: readonly (readonly [type: string, value: string])[]): Name {
  const x509 = ensureX509Runtime();
  return new x509.Name(
    parts.map(([type, value]) => ({
      [type]: [x509.Name.isPrintableString(value) ? { printableString: value } : { utf8String: value }],
    })),
  );
}

/** Parses a DN string like 'CN=certgate Root CA, O=certgate' → InvalidRequestException if it can't. */
export function parseDistinguishedName(dn: string): Name {
  const x509 = ensureX509Runtime();
  let name: Name;
  try {
    name = new x509.Name(dn);
  } catch {
    throw invalidRequest(`The distinguished name "${dn.slice(0, 200)}" is not valid`);
  }
  if (name.toJSON().length === 0 && dn.trim() !== '') {
    throw invalidRequest(`The distinguished name "${dn.slice(0, 200)}" is not valid`);
  }
  return name;
}
