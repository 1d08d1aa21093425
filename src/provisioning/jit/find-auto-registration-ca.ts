import type { Scope } from '../../kernel/index.js';
import { isSignedBy, parseCertificatePem } from '../../pki/index.js';
import type { ParsedCertificate } from '../../pki/index.js';
import type { CaCertificate, RegistryStore } from '../../registry/index.js';

export type CaSearch =
  | { readonly ok: true; readonly ca: CaCertificate; readonly foundBy: 'chain' | 'issuer' }
  | { readonly ok: false; readonly reason: string };

export interface CaSearchInput {
  readonly device: ParsedCertificate;
  /** Further certificates the device sent in its TLS chain (DER), leaf excluded. */
  readonly chainDer: readonly Uint8Array[];
  /** The account SNI named, or undefined (no usable SNI). */
  readonly scope: Scope | undefined;
  readonly region: string;
  /** When several registered CAs verify the certificate, one in date at `now` is preferred. */
  readonly now?: Date | undefined;
}

const where = (scope: Scope): string => `account ${scope.accountId} (${scope.region})`;

function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
}

function parseOrUndefined(pem: string): ParsedCertificate | undefined {
  try {
    return parseCertificatePem(pem);
  } catch {
    return undefined;
  }
}

/** The device certificate's signature verifies with `ca`'s key (and AKI, when both carry one, names it). */
function signs(ca: ParsedCertificate, device: ParsedCertificate): boolean {
  if (device.authorityKeyId !== null && ca.subjectKeyId !== null && device.authorityKeyId !== ca.subjectKeyId) return false;
  try {
    return isSignedBy(device, ca);
  } catch {
    return false;
  }
}

/**
 * The registered CA that signed an unknown device certificate, for just-in-time registration
 * (provisioning.md JITR; aws-reference.md §2.1 step 2): first among the certificates the device sent in its
 * chain (by id), then among registered CAs by issuer name and AKI = SKI — in the SNI's account, or without
 * SNI in every account of the region. The signature must verify with the CA's key. Without SNI, a CA must be
 * placeable: DEFAULT mode and registered in one account only (the certificate inherits its mode).
 * Pure reads; a refusal is a value with the reason, for the access log and `certgate why`.
 */
export async function findAutoRegistrationCa(store: RegistryStore, input: CaSearchInput): Promise<CaSearch> {
  const { device, scope, region } = input;
  let found: CaCertificate[] = [];
  let foundBy: 'chain' | 'issuer' = 'chain';

  for (const der of input.chainDer) {
    const sent = parseOrUndefined(derToPem(der));
    if (sent === undefined || sent.subject !== device.issuer || !signs(sent, device)) continue;
    const registered = scope !== undefined ? [await store.getCaCertificate(scope, sent.certificateId)] : await store.findCaCertificatesInRegion(region, sent.certificateId);
    found = registered.filter((c): c is CaCertificate => c !== undefined && (scope === undefined || c.scope.accountId === scope.accountId));
    if (found.length > 0) break;
  }

  let sameSubject = 0;
  if (found.length === 0) {
    foundBy = 'issuer';
    // One indexed query either way: this account, or (no SNI) every account of the region.
    const candidates = scope !== undefined ? await store.findCaCertificatesBySubject(scope, device.issuer) : await store.findCaCertificatesBySubjectInRegion(region, device.issuer);
    for (const ca of candidates) {
      sameSubject++;
      const parsed = parseOrUndefined(ca.certificatePem);
      if (parsed !== undefined && signs(parsed, device)) found.push(ca);
    }
  }

  const place = scope !== undefined ? where(scope) : `any account in ${region}`;
  if (found.length === 0) {
    if (sameSubject > 0) {
      return {
        ok: false,
        reason: `no CA registered in ${place} with subject ${JSON.stringify(device.issuer)} verifies the certificate's signature (signed by another key)`,
      };
    }
    const hint = input.chainDer.length === 0 ? '; send the CA certificate in the TLS chain or use the account endpoint as SNI' : '';
    return { ok: false, reason: `issuer CA ${JSON.stringify(device.issuer)} is not registered in ${place}${hint}` };
  }
  if (scope === undefined) {
    // Issue 10 #7: DEFAULT mode is unique per region, so SNI_ONLY registrations of the same CA in other
    // accounts (no proof of possession) do not make the DEFAULT one ambiguous.
    if (found.some((c) => c.certificateMode === 'DEFAULT')) found = found.filter((c) => c.certificateMode === 'DEFAULT');
    const accounts = [...new Set(found.map((c) => c.scope.accountId))];
    if (accounts.length > 1) {
      return {
        ok: false,
        reason: `issuer CA ${found[0]!.certificateId} is registered in ${accounts.length} accounts in ${region}; the account endpoint is needed as SNI to choose`,
      };
    }
    const sniOnly = found.find((c) => c.certificateMode === 'SNI_ONLY');
    if (sniOnly !== undefined) {
      return {
        ok: false,
        reason: `issuer CA ${sniOnly.certificateId} is registered in SNI_ONLY mode in ${where(sniOnly.scope)}; a certificate it signs needs the account endpoint as SNI`,
      };
    }
  }
  // Up to 10 CAs with one subject and key may be registered in an account (AWS quota): when several verify,
  // an ACTIVE, auto-registering, in-date one decides, so that a stale duplicate listed first does not refuse.
  return { ok: true, ca: [...found].sort((a, b) => rank(a, input.now) - rank(b, input.now))[0]!, foundBy };
}

function rank(ca: CaCertificate, now: Date | undefined): number {
  const t = now?.getTime();
  const inDate = t === undefined || (t >= ca.notBefore.getTime() && t <= ca.notAfter.getTime());
  return (ca.status === 'ACTIVE' ? 0 : 4) + (ca.autoRegistrationStatus === 'ENABLE' ? 0 : 2) + (inDate ? 0 : 1);
}
