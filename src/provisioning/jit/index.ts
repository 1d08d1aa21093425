/**
 * provisioning/jit: just-in-time registration (JITR) and provisioning (JITP) of device certificates signed by
 * a registered CA, behind access/'s unknown-certificate seams. Core: imports kernel, pki, registry and access
 * types; never an adapter. The broker publishes the events it returns; main/ wires it.
 */
export { createJustInTimeRegistration, DEFAULT_EVENT_WINDOW_MS } from './just-in-time-registration.js';
export type { JitpProvisioner, JustInTimeDeps, JustInTimeRegistration } from './just-in-time-registration.js';
export { findAutoRegistrationCa } from './find-auto-registration-ca.js';
export { registeredEvent, registeredEventTopic } from './registered-event.js';
export { EventCoalescer } from './event-coalescer.js';
export { createJitpProvisioner } from './jitp-provisioner.js';
export type { JitpProvisionerDeps, StoredJitpTemplate } from './jitp-provisioner.js';
export { certificateParameters } from './certificate-parameters.js';
