import { createHash } from 'node:crypto';
import { parseCertificatePem } from '../pki/index.js';
import type { ParsedCertificate } from '../pki/index.js';
import { certificateContextValues } from '../policy/index.js';
import { BoundedMap } from './bounded-map.js';

/**
 * What admission needs from a presented leaf certificate; immutable, so cacheable by fingerprint.
 * Deliberately small (no PEM/DER/parsed extensions): the cache may hold one per connected device.
 */
export interface PeerCertificate {
  /** Lowercase hex SHA-256 of the DER: AWS's certificateId. */
  readonly certificateId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** iot:Certificate.* policy variables, computed once. */
  readonly certificateValues: Readonly<Record<string, string | readonly string[]>>;
}

export type PeerCertificateResult =
  | { readonly ok: true; readonly certificate: PeerCertificate }
  | { readonly ok: false; readonly certificateId: string; readonly why: string };

/** Lowercase hex SHA-256 of the DER (pure computation). */
export function certificateIdOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * An X.509 certificate is one DER SEQUENCE whose length covers exactly the bytes given: trailing data
 * (which a lenient parser ignores) would give a fingerprint that is no registered certificate id.
 */
export function isSingleDerSequence(der: Uint8Array): boolean {
  if (der.byteLength < 2 || der[0] !== 0x30) return false;
  const first = der[1]!;
  if (first < 0x80) return 2 + first === der.byteLength;
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || der.byteLength < 2 + lengthBytes) return false;
  let length = 0;
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + der[2 + i]!;
  return 2 + lengthBytes + length === der.byteLength;
}

function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function deepFreeze(values: Record<string, string | string[]>): Readonly<Record<string, string | readonly string[]>> {
  for (const v of Object.values(values)) if (Array.isArray(v)) Object.freeze(v);
  return Object.freeze(values);
}

/**
 * Parses presented certificates once per fingerprint: the X.509 decode is the expensive part of an
 * admission (perf-anchors: ASN.1 decoding dominates), and a certificate's content never changes.
 * Malformed input is a value, never an exception; it is not cached (it costs nothing to refuse again).
 */
export class PeerCertificateCache {
  readonly #cache: BoundedMap<string, PeerCertificate>;

  constructor(capacity: number) {
    this.#cache = new BoundedMap(capacity);
  }

  read(der: Uint8Array, certificateId: string = certificateIdOf(der)): PeerCertificateResult {
    const cached = this.#cache.get(certificateId);
    if (cached) return { ok: true, certificate: cached };
    const parsed = parsePeerCertificate(der, certificateId);
    if (!parsed.ok) return parsed;
    const { notBefore, notAfter } = parsed.parsed;
    const certificate: PeerCertificate = { certificateId, notBefore, notAfter, certificateValues: deepFreeze(certificateContextValues(parsed.parsed)) };
    this.#cache.set(certificateId, certificate);
    return { ok: true, certificate };
  }
}

/** Full parse of a presented certificate (the JITR path needs issuer, AKI …); malformed input is a value. */
export function parsePeerCertificate(
  der: Uint8Array,
  certificateId: string = certificateIdOf(der),
): { readonly ok: true; readonly parsed: ParsedCertificate } | { readonly ok: false; readonly certificateId: string; readonly why: string } {
  if (!isSingleDerSequence(der)) {
    return { ok: false, certificateId, why: 'the bytes are not one DER SEQUENCE (bad header, or data after the certificate)' };
  }
  let parsed: ParsedCertificate;
  try {
    parsed = parseCertificatePem(derToPem(der));
  } catch (e) {
    return { ok: false, certificateId, why: e instanceof Error ? e.message : String(e) };
  }
  if (parsed.certificateId !== certificateId) {
    return { ok: false, certificateId, why: 'the certificate DER is not a single canonical X.509 structure' };
  }
  return { ok: true, parsed };
}
