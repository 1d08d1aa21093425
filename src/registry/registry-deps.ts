import type { Clock, Logger } from '../kernel/index.js';
import type { IssuerCredentials } from '../pki/index.js';
import type { RegistryStore } from './ports.js';
import type { RegistryEvents } from './registry-events.js';

/** What every registry use case needs. Built once by main/. */
export interface RegistryDeps {
  readonly store: RegistryStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** certgate's device-issuing CA (CreateKeysAndCertificate, CreateCertificateFromCsr). */
  readonly deviceIssuer: IssuerCredentials;
  /** DNS domain under which data endpoints live: `<prefix>-ats.iot.<region>.<domain>`. */
  readonly domain: string;
  readonly events: RegistryEvents;
}
