import { constants as cryptoConstants } from 'node:crypto';
import type { SecureContextOptions, SecureVersion } from 'node:tls';

/**
 * TLS security policies: a name → the protocol versions and cipher suites a listener accepts. One table for
 * every TLS listener certgate opens (MQTT, MQTT with ALPN, the HTTPS API).
 *
 * AWS IoT Core's predefined policies are transcribed from its developer guide, "Transport security in AWS IoT
 * Core" → "Security policies":
 *   https://docs.aws.amazon.com/iot/latest/developerguide/transport-security.html#tls-policy-table
 * and "Configuring TLS settings in domain configurations" (names, regions, default):
 *   https://docs.aws.amazon.com/iot/latest/developerguide/iot-endpoints-tls-config.html
 * Each AWS row below lists the suites AWS's table ticks, in the table's row order (TLS 1.3 suites, then
 * ECDHE-RSA, RSA key exchange, DHE-RSA, ECDHE-ECDSA). The table states membership, not a preference, so the
 * server's preference is certgate's (serverPreferenceOrder below). AWS's names for TLS 1.2 suites are OpenSSL's.
 *
 * What the doc says and this table follows:
 * - AWS IoT Core speaks TLS 1.2 and TLS 1.3 only: even the *_1_0_* policies (named when their minimum was
 *   TLS 1.0) list TLS 1.2 as their only protocol, so no policy here admits TLS 1.0 or 1.1.
 * - IoTSecurityPolicy_TLS12_1_0_2016_01 differs by port: on 443 it also has AES128-SHA256, on 8443/8883 not.
 *   certgate's ALPN listener is its port 443 (tlsPolicyOptions(name, { port443: true })); the MQTT port and
 *   the HTTPS API take the 8443/8883 column.
 * - IoTSecurityPolicy_TLS12_1_0_2015_01 alone has a finite-field DHE suite (DHE-RSA-AES256-SHA): the listener
 *   then needs DH parameters, so its options carry `dhparam: 'auto'` (OpenSSL picks a well-known group as
 *   strong as the server key: 2048 bits for certgate's RSA-2048 key); without them OpenSSL never selects it.
 * - IoTSecurityPolicy_TLS13_1_2_2022_01 is AWS GovCloud (US)'s default (no ChaCha20, no RSA-key-exchange
 *   suites but AES128-SHA and AES256-SHA).
 * Every suite of every policy is offered by Node 20 / OpenSSL 3.0 at its default security level (1): none
 * needs @SECLEVEL=0 (test/data-plane/tls-security-policy.test.ts negotiates each one with `openssl s_client`).
 *
 * certgate's default is not AWS's. AWS's default, IoTSecurityPolicy_TLS13_1_2_2022_10, keeps suites without
 * forward secrecy (RSA key exchange: AES128-GCM-SHA256, AES128-SHA256, AES128-SHA, AES256-GCM-SHA384,
 * AES256-SHA256, AES256-SHA) and CBC suites for older devices. certgate's CertgateSecurityPolicy_TLS13_1_2_FS_2026_12
 * (issue 10 #12): TLS 1.3, and TLS 1.2 with forward-secret AEAD suites only (ECDHE + AES-GCM or
 * ChaCha20-Poly1305). Operators with older clients choose one of AWS's names.
 */
export interface TlsSecurityPolicy {
  readonly description: string;
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  /** TLS 1.3 suites (IANA names; OpenSSL's "ciphersuites"). */
  readonly tls13Suites: readonly string[];
  /** TLS 1.2 suites, OpenSSL names (OpenSSL's "cipher list"); for AWS's policies, the 8443/8883 column. */
  readonly tls12Suites: readonly string[];
  /** TLS 1.2 suites on port 443 (certgate's ALPN listener), where AWS's table has a separate 443 column. */
  readonly tls12SuitesPort443?: readonly string[];
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

const ECDHE_RSA = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-SHA384', 'ECDHE-RSA-AES256-SHA'] as const;
const ECDHE_ECDSA = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES256-SHA'] as const;

/** AWS's TLS 1.2 rows ticked by the 2022_10 policies and by TLS12_1_0_2016_01 on port 443 (18 suites). */
const AWS_TLS12_2022_10 = [
  ...ECDHE_RSA,
  'AES128-GCM-SHA256',
  'AES128-SHA256',
  'AES128-SHA',
  'AES256-GCM-SHA384',
  'AES256-SHA256',
  'AES256-SHA',
  ...ECDHE_ECDSA,
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
    tls12Suites: AWS_TLS12_2022_10,
  },
  IoTSecurityPolicy_TLS12_1_2_2022_10: {
    description: 'AWS IoT: TLS 1.2 only, with RSA-key-exchange and CBC suites for older devices',
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    tls13Suites: [],
    tls12Suites: AWS_TLS12_2022_10,
  },
  IoTSecurityPolicy_TLS12_1_0_2016_01: {
    description: 'AWS IoT legacy: TLS 1.2 only; AES128-SHA256 on port 443 (the ALPN listener) only',
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    tls13Suites: [],
    tls12Suites: AWS_TLS12_2022_10.filter((s) => s !== 'AES128-SHA256'),
    tls12SuitesPort443: AWS_TLS12_2022_10,
  },
  IoTSecurityPolicy_TLS12_1_0_2015_01: {
    description: 'AWS IoT legacy: TLS 1.2 only, with DHE-RSA-AES256-SHA too',
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    tls13Suites: [],
    tls12Suites: [...ECDHE_RSA, 'AES128-GCM-SHA256', 'AES128-SHA256', 'AES128-SHA', 'AES256-GCM-SHA384', 'AES256-SHA256', 'AES256-SHA', 'DHE-RSA-AES256-SHA', ...ECDHE_ECDSA],
  },
  IoTSecurityPolicy_TLS13_1_2_2022_01: {
    description: "AWS GovCloud (US)'s default: TLS 1.3 and TLS 1.2, no ChaCha20; AES128-SHA and AES256-SHA its only suites without forward secrecy",
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls13Suites: ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'],
    tls12Suites: [...ECDHE_RSA, 'AES128-SHA', 'AES256-SHA', ...ECDHE_ECDSA],
  },
} as const satisfies Record<string, TlsSecurityPolicy>;

export type TlsSecurityPolicyName = keyof typeof TLS_SECURITY_POLICIES;

export const DEFAULT_TLS_SECURITY_POLICY: TlsSecurityPolicyName = 'CertgateSecurityPolicy_TLS13_1_2_FS_2026_12';

export const TLS_SECURITY_POLICY_NAMES = Object.keys(TLS_SECURITY_POLICIES) as TlsSecurityPolicyName[];

export function isTlsSecurityPolicyName(name: string): name is TlsSecurityPolicyName {
  return Object.hasOwn(TLS_SECURITY_POLICIES, name);
}

/** The node:tls server options that enforce a policy. */
export interface TlsPolicyOptions extends Pick<SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'honorCipherOrder' | 'secureOptions' | 'dhparam'> {
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  readonly ciphers: string;
  readonly honorCipherOrder: true;
  readonly secureOptions: number;
}

/**
 * certgate's preference among a policy's TLS 1.2 suites: forward secrecy first (ECDHE, then DHE), AEAD before
 * CBC with SHA-2 before CBC with SHA-1, ECDSA before RSA; the table's order otherwise (a stable sort).
 */
export function serverPreferenceOrder(tls12Suites: readonly string[]): string[] {
  const rank = (s: string): number => {
    const kx = s.startsWith('ECDHE-') ? 0 : s.startsWith('DHE-') ? 1 : 2;
    const mode = /GCM|CHACHA20|CCM/.test(s) ? 0 : /-SHA(256|384)$/.test(s) ? 1 : 2;
    const auth = s.includes('-ECDSA-') ? 0 : 1;
    return kx * 100 + mode * 10 + auth;
  };
  return tls12Suites.map((s, i) => ({ s, i, r: rank(s) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.s);
}

/**
 * Versions and suites of the policy (Node takes both kinds in `ciphers`: names starting TLS_ become OpenSSL's
 * TLS 1.3 "ciphersuites", the rest its TLS 1.2 cipher list), the server's preference order, DH parameters when
 * the policy has a DHE suite, and never a client-initiated renegotiation (SSL_OP_NO_RENEGOTIATION: OpenSSL
 * answers a ClientHello after the handshake with a no_renegotiation alert; TLS 1.3 has no renegotiation).
 * `port443`: the ALPN listener, for policies whose AWS table has a separate port-443 column.
 */
export function tlsPolicyOptions(name: TlsSecurityPolicyName, where: { port443?: boolean } = {}): TlsPolicyOptions {
  const p: TlsSecurityPolicy = TLS_SECURITY_POLICIES[name];
  const tls12 = serverPreferenceOrder(where.port443 === true && p.tls12SuitesPort443 !== undefined ? p.tls12SuitesPort443 : p.tls12Suites);
  return {
    minVersion: p.minVersion,
    maxVersion: p.maxVersion,
    ciphers: [...p.tls13Suites, ...tls12].join(':'),
    honorCipherOrder: true,
    secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
    ...(tls12.some((s) => s.startsWith('DHE-')) ? { dhparam: 'auto' } : {}),
  };
}
