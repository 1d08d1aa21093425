import { isIP } from 'node:net';
import { createServerCertificate } from '../pki/index.js';
import type { ServiceCa, ServiceCas } from './service-cas.js';

/** A TLS server credential for the MQTT listeners: leaf + intermediate (never the root), key in memory only. */
export interface ServerCertificate {
  readonly keyType: 'RSA' | 'EC';
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** Short-lived on purpose: a fresh pair is issued at every start and the keys are never written. */
const SERVER_CERTIFICATE_DAYS = 90;

function ensureTrailingNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/**
 * The names the MQTT listeners answer to: `*.iot.<region>.<domain>` for every served region (matches
 * each account's `<prefix>-ats.iot.<region>.<domain>` and legacy `<prefix>.iot.<region>.<domain>`),
 * `localhost`, 127.0.0.1, ::1, and the bind host when it is a name or a specific IP.
 */
export function serverCertificateNames(opts: { regions: readonly string[]; domain: string; host: string }): {
  dnsNames: string[];
  ipAddresses: string[];
} {
  const dnsNames = new Set<string>();
  for (const region of opts.regions) dnsNames.add(`*.iot.${region}.${opts.domain}`);
  dnsNames.add('localhost');
  const ipAddresses = new Set<string>(['127.0.0.1', '::1']);
  const host = opts.host.toLowerCase();
  if (isIP(host) !== 0) {
    if (host !== '0.0.0.0' && host !== '::') ipAddresses.add(host);
  } else if (host !== '') {
    dnsNames.add(host);
  }
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

async function issueOne(keyType: 'RSA' | 'EC', issuer: ServiceCa, names: { dnsNames: string[]; ipAddresses: string[] }, now: Date): Promise<ServerCertificate> {
  const member = await createServerCertificate(
    { certificatePem: issuer.certificatePem, privateKeyPem: issuer.privateKeyPem },
    { keyType, commonName: names.dnsNames[0] ?? 'localhost', dnsNames: names.dnsNames, ipAddresses: names.ipAddresses, now, days: SERVER_CERTIFICATE_DAYS },
  );
  return {
    keyType,
    certificateChainPem: ensureTrailingNewline(member.certificatePem) + ensureTrailingNewline(issuer.certificatePem),
    privateKeyPem: member.privateKeyPem,
    dnsNames: names.dnsNames,
    ipAddresses: names.ipAddresses,
  };
}

/**
 * Issues a fresh RSA server certificate (under the RSA intermediate, like Amazon Root CA 1) and a fresh
 * ECC one (under the ECC intermediate, like Amazon Root CA 3). Both are loaded into one secure context,
 * so OpenSSL picks per client (data-plane.md "The server's certificates").
 */
export async function issueServerCertificates(opts: {
  cas: Pick<ServiceCas, 'intermediateRsa' | 'intermediateEcc'>;
  regions: readonly string[];
  domain: string;
  host: string;
  now: Date;
}): Promise<{ rsa: ServerCertificate; ecc: ServerCertificate }> {
  return issuePair(opts.cas, serverCertificateNames(opts), opts.now);
}

/**
 * The names the HTTPS API answers to: localhost, 127.0.0.1, ::1, the --api-host when it is a name or a specific
 * IP, and the configured domain (an operator puts the API behind that name).
 */
export function apiCertificateNames(opts: { apiHost: string; domain: string }): { dnsNames: string[]; ipAddresses: string[] } {
  const names = serverCertificateNames({ regions: [], domain: opts.domain, host: opts.apiHost });
  const dnsNames = new Set<string>(names.dnsNames);
  dnsNames.add(opts.domain);
  return { dnsNames: [...dnsNames], ipAddresses: names.ipAddresses };
}

/**
 * A fresh RSA and ECC certificate for the HTTPS API, issued like the MQTT ones (under certgate's intermediates,
 * keys in memory only, at every start): a client trusts it through DATA/ca-bundle.pem (certgate's two roots).
 */
export async function issueApiCertificates(opts: {
  cas: Pick<ServiceCas, 'intermediateRsa' | 'intermediateEcc'>;
  apiHost: string;
  domain: string;
  now: Date;
}): Promise<{ rsa: ServerCertificate; ecc: ServerCertificate }> {
  return issuePair(opts.cas, apiCertificateNames(opts), opts.now);
}

/** One RSA certificate under the RSA intermediate and one ECC under the ECC intermediate, for the same names. */
async function issuePair(
  cas: Pick<ServiceCas, 'intermediateRsa' | 'intermediateEcc'>,
  names: { dnsNames: string[]; ipAddresses: string[] },
  now: Date,
): Promise<{ rsa: ServerCertificate; ecc: ServerCertificate }> {
  const [rsa, ecc] = await Promise.all([issueOne('RSA', cas.intermediateRsa, names, now), issueOne('EC', cas.intermediateEcc, names, now)]);
  return { rsa, ecc };
}
