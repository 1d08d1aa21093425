/**
 * provisioning/fleet: fleet provisioning by claim over MQTT — topics, JSON/CBOR payloads, ownership tokens,
 * CreateKeysAndCertificate / CreateCertificateFromCsr / RegisterThing and the unclaimed-certificate sweeper.
 * Core: imports kernel and registry; templates and the pre-provisioning hook come through ports.ts.
 */
export * from './fleet-topics.js';
export * from './fleet-rejection.js';
export * from './fleet-payload.js';
export * from './ownership-token.js';
export * from './ports.js';
export * from './fleet-provisioning.js';
export * from './fleet-limits.js';
export * from './registry-fleet-templates.js';
