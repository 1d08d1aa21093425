/**
 * access: "may this certificate connect / publish / subscribe / receive?" → a Decision with reasons,
 * and AWS's TestAuthorization on top of it. Core: imports kernel, pki, policy, registry ports only.
 */
export * from './device-access.js';
export * from './test-authorization.js';
export { createDeviceAccess, DEFAULT_CACHE_TTL_MS, DEFAULT_CACHE_CAPACITY } from './create-device-access.js';
export type { DeviceAccessDeps, CertgateDeviceAccess } from './create-device-access.js';
export { createAccessLog, DEFAULT_ACCESS_LOG_ACCOUNTS, DEFAULT_ACCESS_LOG_CAPACITY } from './access-log.js';
export type { PendingActivationHandler, UnknownCertificateHandler, UnknownCertificateInput } from './unknown-certificate.js';
export type { PeerCertificate } from './peer-certificate.js';
export { certificateIdOf } from './peer-certificate.js';
export { SNI_ONLY_WITHOUT_SNI } from './admit-peer.js';
