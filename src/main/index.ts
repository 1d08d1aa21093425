/**
 * main: the composition root — config → key vault → service CAs → store → registry → data plane (server
 * certificates, access, broker, MQTT listeners) → API listener (+ certgate's access-records route).
 * The only module that wires adapters together; the CLI calls it, nothing else imports it.
 */
export { startCertgate } from './start-certgate.js';
export type { StartedCertgate } from './start-certgate.js';
export { MASTER_KEY_ENV, SETTINGS, resolveAccountsConfig, resolveServeConfig } from './config.js';
export type { AccountsConfig, CertgateConfig, Environment, RawSettings, SettingName } from './config.js';
export { createAccountInDataDir, listAccountsInDataDir } from './accounts.js';
export type { AccountSummary } from './accounts.js';
export { dataDirLayout } from './data-dir-layout.js';
export type { DataDirLayout } from './data-dir-layout.js';
export { ensureServiceCas } from './service-cas.js';
export type { ServiceCa, ServiceCas } from './service-cas.js';
export { StartupError } from './startup-error.js';
export { issueServerCertificates, serverCertificateNames } from './server-certificates.js';
export { startDataPlane } from './start-data-plane.js';
export type { DataPlaneConfig, StartedDataPlane } from './start-data-plane.js';
export { registerAccessRecordsRoute } from './access-records-route.js';
export { fetchAccessRecords } from './access-records-client.js';
export { AccessRecordsRequestError } from './access-records-request-error.js';
export { ACCESS_RECORDS_PATH } from './access-records-wire.js';
export type { AccessRecordView } from './access-records-wire.js';
