import { constants as cryptoConstants } from 'node:crypto';
import type { SecureContextOptions, SecureVersion } from 'node:tls';

/**
 * TLS security policies, modelled on AWS IoT Core's predefined ones (developer guide, "Transport security in
 * AWS IoT Core" → "Security policies", and "Configuring TLS settings in domain configurations"): a name → the
 * protocol versions and the cipher suites (OpenSSL names) a listener accepts. One table for every TLS
 * listener certgate opens (MQTT, MQTT with ALPN, the HTTPS API).
 *
 * certgate's default is stricter than AWS's default (IoTSecurityPolicy_TLS13_1_2_2022_10, which keeps
 * RSA-key-exchange and CBC suites for old devices): TLS 1.3, and TLS 1.2 with forward-secret AEAD suites
 * only (ECDHE + AES-GCM or ChaCha20-Poly1305). Operators with older clients choose one of AWS's names.
 */
export interface TlsSecurityPolicy {
  readonly description: string;
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  /** TLS 1.3 suites (IANA names, as Node takes them). */
  readonly tls13Suites: readonly string[];
  /** TLS 1.2 (and older) suites, OpenSSL names, in server preference order. */
  readonly tls12Suites: readonly string[];
}

const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;

/** Forward-secret (ECDHE) AEAD suites: certgate's default for TLS 1.2. */
const FORWARD_SECRET_AEAD = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

/** The TLS 1.2 suites AWS IoT's 2022-10 policies list: ECDHE first, then RSA key exchange; GCM, then CBC. */
const AWS_TLS12_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES128-SHA256',
  'AES128-SHA',
  'AES256-GCM-SHA384',
  'AES256-SHA256',
  'AES256-SHA',
] as const;

export const TLS_SECURITY_POLICIES = {
  CertgateSecurityPolicy_TLS13_1_2_FS_2026_12: {
    description: "certgate's default: TLS 1.3 and TLS 1.2, forward-secret AEAD suites only",
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls13Suites: TLS13_SUITES,
    tls12Suites: FORWARD_SECRET_AEAD,
  },
  IoTSecurityPolicy_TLS13_1_3_2022_10: {
    description: 'AWS IoT: TLS 1.3 only',
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    tls13Suites: TLS13_SUITES,
    tls12Suites: [],
  },
  IoTSecurityPolicy_TLS13_1_2_2022_10: {
    description: "AWS IoT's default: TLS 1.3 and TLS 1.2, with RSA-key-exchange and CBC suites for older devices",
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls13Suites: TLS13_SUITES,
    tls12Suites: AWS_TLS12_SUITES,
  },
  IoTSecurityPolicy_TLS12_1_2_2022_10: {
    description: 'AWS IoT: TLS 1.2 only, with RSA-key-exchange and CBC suites for older devices',
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    tls13Suites: [],
    tls12Suites: AWS_TLS12_SUITES,
  },
  IoTSecurityPolicy_TLS12_1_0_2016_01: {
    description: 'AWS IoT legacy: TLS 1.0 to 1.2 (for devices that cannot do better; not recommended)',
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.2',
    tls13Suites: [],
    tls12Suites: AWS_TLS12_SUITES,
  },
} as const satisfies Record<string, TlsSecurityPolicy>;

export type TlsSecurityPolicyName = keyof typeof TLS_SECURITY_POLICIES;

export const DEFAULT_TLS_SECURITY_POLICY: TlsSecurityPolicyName = 'CertgateSecurityPolicy_TLS13_1_2_FS_2026_12';

export const TLS_SECURITY_POLICY_NAMES = Object.keys(TLS_SECURITY_POLICIES) as TlsSecurityPolicyName[];

export function isTlsSecurityPolicyName(name: string): name is TlsSecurityPolicyName {
  return Object.hasOwn(TLS_SECURITY_POLICIES, name);
}

/** The node:tls server options that enforce a policy. */
export interface TlsPolicyOptions extends Pick<SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'honorCipherOrder' | 'secureOptions'> {
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  readonly ciphers: string;
  readonly honorCipherOrder: true;
  readonly secureOptions: number;
}

/**
 * Versions and suites of the policy, the server's preference order, and never a client-initiated
 * renegotiation (SSL_OP_NO_RENEGOTIATION: OpenSSL answers a ClientHello after the handshake with a
 * no_renegotiation alert; TLS 1.3 has no renegotiation at all). TLS 1.0/1.1 need OpenSSL security level 0
 * (they sign with SHA-1/MD5), so only a policy that names them lowers it.
 */
export function tlsPolicyOptions(name: TlsSecurityPolicyName): TlsPolicyOptions {
  const p: TlsSecurityPolicy = TLS_SECURITY_POLICIES[name];
  const legacy = p.minVersion === 'TLSv1' || p.minVersion === 'TLSv1.1';
  const suites = [...p.tls13Suites, ...p.tls12Suites];
  return {
    minVersion: p.minVersion,
    maxVersion: p.maxVersion,
    ciphers: suites.join(':') + (legacy ? ':@SECLEVEL=0' : ''),
    honorCipherOrder: true,
    secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
  };
}
