/**
 * main: the composition root — config → key vault → service CAs → store → registry → API listener.
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
