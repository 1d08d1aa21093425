import { silentLogger } from '../kernel/index.js';
import type { Clock, Logger } from '../kernel/index.js';
import type { RegistryEvent, RegistryStore } from '../registry/index.js';
import { admitPeer } from './admit-peer.js';
import type { AdmissionDeps } from './admit-peer.js';
import { connectionAuthorization } from './connection-authorization.js';
import { ConnectionClock, connectionValues, thingValues } from './connection-context.js';
import type { ContextValue } from './connection-context.js';
import type { ConnectInfo, ConnectionPeer, DeviceAccess, DevicePrincipal } from './device-access.js';
import { PeerCertificateCache } from './peer-certificate.js';
import { PolicySets } from './policy-sets.js';
import { RegistryLookups } from './registry-lookups.js';
import { refuseUnknownCertificate } from './unknown-certificate.js';
import type { PendingActivationHandler, UnknownCertificateHandler } from './unknown-certificate.js';

export interface DeviceAccessDeps {
  readonly store: RegistryStore;
  readonly clock: Clock;
  /** certgate's DNS domain: endpoints are `<prefix>-ats.iot.<region>.<domain>`. */
  readonly domain: string;
  /** Region a connection without a usable SNI is placed in. */
  readonly defaultRegion: string;
  /** --require-sni: refuse every connection whose SNI is not an account endpoint. */
  readonly requireSni: boolean;
  /** Regions served (--region plus --extra-regions); an SNI naming another region is refused. Absent = any. */
  readonly servedRegions?: readonly string[];
  readonly logger?: Logger;
  /** JITR/JITP seam; default: unknown certificates are refused. */
  readonly onUnknownCertificate?: UnknownCertificateHandler;
  /** JITR seam for certificates still PENDING_ACTIVATION; default: plain refusal. */
  readonly onPendingActivation?: PendingActivationHandler;
  /** Longest trust in a cached registry read that no event invalidates (default 30 s). */
  readonly cacheTtlMs?: number;
  /** Bound of each cache (certificates, accounts, CAs, compiled policy versions); default 100,000. */
  readonly cacheCapacity?: number;
}

export interface CertgateDeviceAccess extends DeviceAccess {
  /** Registry events → cache invalidation and policy reloads; resolves once they are done. */
  onRegistryEvent(event: RegistryEvent): Promise<void>;
  /** Drop every cached registry read (e.g. after an account setting changed). Policy sets stay live. */
  clearCaches(): void;
}

export const DEFAULT_CACHE_TTL_MS = 30_000;
/** A CONNECT's thing values are read at most this many times when registry events keep invalidating them. */
export const MAX_THING_VALUE_READS = 4;
export const DEFAULT_CACHE_CAPACITY = 100_000;

/**
 * The data plane's access core: admission of TLS peers and per-connection authorization,
 * with caches kept coherent by registry events. Storage only through the RegistryStore port.
 */
export function createDeviceAccess(deps: DeviceAccessDeps): CertgateDeviceAccess {
  const logger = deps.logger ?? silentLogger;
  const capacity = deps.cacheCapacity ?? DEFAULT_CACHE_CAPACITY;
  const lookups = new RegistryLookups(deps.store, deps.clock, { ttlMs: deps.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, capacity });
  const policySets = new PolicySets(deps.store, logger, capacity);
  const admission: AdmissionDeps = {
    lookups,
    certificates: new PeerCertificateCache(capacity),
    clock: deps.clock,
    domain: deps.domain,
    defaultRegion: deps.defaultRegion,
    requireSni: deps.requireSni,
    servedRegions: deps.servedRegions,
    onUnknownCertificate: deps.onUnknownCertificate ?? refuseUnknownCertificate,
    onPendingActivation: deps.onPendingActivation,
    logger,
  };

  /**
   * The CONNECT's policy variables. A registry event handled while they were read (UpdateThing,
   * AttachThingPrincipal, ...) may have made the thing values stale, and the connection, not yet set up,
   * misses the refresh that event triggers: the read is re-run, as admission does (admit-peer.ts).
   * Bounded: under a storm of events the last read stands, and the periodic re-check refreshes it.
   */
  async function currentConnectionValues(...args: [DevicePrincipal, ConnectInfo, ConnectionPeer]): Promise<Record<string, ContextValue>> {
    let values: Record<string, ContextValue> | undefined;
    for (let attempt = 0; attempt < MAX_THING_VALUE_READS; attempt++) {
      const epoch = lookups.epoch;
      values = await connectionValues(lookups, deps.domain, ...args);
      if (lookups.epoch === epoch) return values;
    }
    return values!;
  }

  return {
    admit: (peer) => admitPeer(admission, peer),

    async authorize(principal, connect, peer) {
      const [set, values] = await Promise.all([
        policySets.get(principal.scope, principal.certificateArn),
        currentConnectionValues(principal, connect, peer),
      ]);
      return connectionAuthorization(principal, connect.clientId, set, values, new ConnectionClock(deps.clock, values), () =>
        thingValues(lookups, principal, connect.clientId),
      );
    },

    async onRegistryEvent(event) {
      switch (event.type) {
        case 'certificate-status-changed':
        case 'certificate-deleted':
          lookups.invalidateCertificate(event.certificateId);
          return;
        case 'ca-certificate-status-changed':
          lookups.invalidateCaCertificate(event.scope, event.certificateId);
          return;
        case 'policy-changed':
          await policySets.onPolicyChanged(event.scope, event.policyName);
          return;
        case 'policy-attachment-changed':
          await policySets.onAttachmentChanged(event.scope, event.target);
          return;
        case 'thing-principals-changed':
          lookups.invalidatePrincipalThings(event.scope, event.principal);
          return;
        case 'thing-changed':
          lookups.invalidateThing(event.scope, event.thingName);
          return;
      }
    },

    clearCaches: () => lookups.clear(),
  };
}
