import { createAccessLog, createDeviceAccess, DEFAULT_CACHE_TTL_MS } from '../access/index.js';
import type { AccessLog } from '../access/index.js';
import { createBroker } from '../broker/index.js';
import type { Broker } from '../broker/index.js';
import { createMqttTlsListener } from '../broker/listeners/index.js';
import type { MqttTlsListener, TlsPolicyOptions } from '../broker/listeners/index.js';
import type { ServiceTopics } from '../broker/service-topics.js';
import type { Clock, Logger, Scope } from '../kernel/index.js';
import { createJitpProvisioner, createJustInTimeRegistration } from '../provisioning/jit/index.js';
import type { StoredJitpTemplate } from '../provisioning/jit/index.js';
import type { RegistryDeps } from '../registry/registry-deps.js';
import type { RegistryEvent, RegistryEventListener } from '../registry/registry-events.js';
import type { RegistryStore } from '../registry/ports.js';
import { issueServerCertificates } from './server-certificates.js';
import type { ServiceCas } from './service-cas.js';
import { StartupError } from './startup-error.js';

export interface DataPlaneConfig {
  readonly host: string;
  readonly mqttPort: number;
  /** Port for MQTT with ALPN x-amzn-mqtt-ca (AWS serves it on 443); undefined = off. */
  readonly alpnPort: number | undefined;
  readonly region: string;
  readonly extraRegions: readonly string[];
  readonly domain: string;
  readonly requireSni: boolean;
  /** Registry read cache lifetime, and the period of the live-connection re-check (default 30 s). */
  readonly registryCacheTtlMs?: number;
  /** --tls-security-policy, as node:tls options; default: certgate's default policy. */
  readonly tlsPolicy?: TlsPolicyOptions;
  /** The ALPN listener's (AWS's port 443 column of the policy, where it differs); default: tlsPolicy. */
  readonly alpnTlsPolicy?: TlsPolicyOptions;
}

export interface StartedDataPlane {
  readonly mqttPort: number;
  readonly alpnPort: number | undefined;
  readonly accessLog: AccessLog;
  /** Every registry event goes here (main subscribes it to the registry's fan-out). */
  readonly onRegistryEvent: RegistryEventListener;
  /** Stop accepting, close every MQTT connection (wills as on a server shutdown), close the listeners. */
  close(): Promise<void>;
}

const PAGE = 250;
/** A strict-mode CA going INACTIVE disconnects at most this many certificates' connections (bounded loop). */
const MAX_CA_CERTIFICATES = 1_000_000;

async function listen(name: 'mqtt' | 'alpn-mqtt', port: number, start: () => Promise<MqttTlsListener>): Promise<MqttTlsListener> {
  try {
    return await start();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new StartupError(`cannot listen for ${name === 'mqtt' ? 'MQTT' : 'MQTT with ALPN'} on port ${port} (${code})`, { cause: e });
    }
    throw e;
  }
}

/**
 * The device-facing half (data-plane.md): fresh server certificates → access core + access log → broker →
 * TLS listener(s); registry events keep the access caches coherent, refresh live connections' thing policy
 * variables, and close connections (and discard sessions) whose certificate (or, in a strict-mode account,
 * whose CA) stopped being ACTIVE.
 */
export async function startDataPlane(deps: {
  readonly config: DataPlaneConfig;
  readonly cas: ServiceCas;
  readonly store: RegistryStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Topics certgate answers itself (fleet provisioning MQTT API). */
  readonly serviceTopics?: ServiceTopics | undefined;
  /** Enables just-in-time registration/provisioning (JITR/JITP) of certificates signed by auto-registering CAs. */
  readonly registry?: RegistryDeps | undefined;
  /** JITP templates named by a CA's registrationConfig.templateName. */
  readonly findJitpTemplate?: ((store: RegistryStore, scope: Scope, templateName: string) => Promise<StoredJitpTemplate | undefined>) | undefined;
}): Promise<StartedDataPlane> {
  const { config, store, clock, logger } = deps;
  const regions = [config.region, ...config.extraRegions.filter((r) => r !== config.region)];
  const serverCertificates = await issueServerCertificates({ cas: deps.cas, regions, domain: config.domain, host: config.host, now: clock.now() });
  const credentials = [serverCertificates.rsa, serverCertificates.ecc];

  const jit = deps.registry === undefined
    ? undefined
    : createJustInTimeRegistration({ store, clock, logger, provision: createJitpProvisioner({ registry: deps.registry, findTemplate: deps.findJitpTemplate }) });
  const cacheTtlMs = config.registryCacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
  const access = createDeviceAccess({
    store, clock, domain: config.domain, defaultRegion: config.region, requireSni: config.requireSni, logger, cacheTtlMs, servedRegions: regions,
    ...(jit !== undefined ? { onUnknownCertificate: jit.onUnknownCertificate, onPendingActivation: jit.onPendingActivation } : {}),
  });
  const accessLog = createAccessLog();
  const broker: Broker = createBroker({ access, accessLog, clock, logger, serviceTopics: deps.serviceTopics });

  const tlsPolicy = config.tlsPolicy !== undefined ? { tlsPolicy: config.tlsPolicy } : {};
  const alpnTlsPolicy = config.alpnTlsPolicy !== undefined ? { tlsPolicy: config.alpnTlsPolicy } : tlsPolicy;
  const listeners: MqttTlsListener[] = [];
  try {
    listeners.push(
      await listen('mqtt', config.mqttPort, () =>
        createMqttTlsListener({ host: config.host, port: config.mqttPort, credentials, name: 'mqtt', logger, ...tlsPolicy, onConnection: (socket, peer) => broker.handle(socket, peer) }),
      ),
    );
    if (config.alpnPort !== undefined) {
      const alpnPort = config.alpnPort;
      listeners.push(
        await listen('alpn-mqtt', alpnPort, () =>
          createMqttTlsListener({ host: config.host, port: alpnPort, credentials, alpn: true, name: 'alpn-mqtt', logger, ...alpnTlsPolicy, onConnection: (socket, peer) => broker.handle(socket, peer) }),
        ),
      );
    }
  } catch (e) {
    await Promise.all(listeners.map((l) => l.close()));
    await broker.close();
    throw e;
  }

  const disconnect = async (scope: Scope, certificateId: string, reason: string): Promise<void> => {
    const n = await broker.disconnectCertificate(scope, certificateId, reason);
    if (n > 0) logger.info({ accountId: scope.accountId, region: scope.region, certificateId, connections: n, reason }, 'disconnected certificate');
  };

  /** Strict CA mode (data-plane.md §6): an INACTIVE CA also disconnects the certificates registered under it. */
  const disconnectCaCertificates = async (scope: Scope, caCertificateId: string): Promise<void> => {
    const account = await store.getAccount(scope.accountId);
    if (account === undefined || !account.strictCaMode) return;
    let after: { createdAt: Date; key: string } | undefined;
    for (let seen = 0; seen < MAX_CA_CERTIFICATES; ) {
      const page = await store.listCertificates(scope, { caCertificateId }, { limit: PAGE, ascending: true, ...(after ? { after } : {}) });
      for (const c of page) {
        if (c.scope.accountId !== scope.accountId || c.scope.region !== scope.region) continue; // offered by a transfer: not ours
        await disconnect(c.scope, c.certificateId, `CA ${caCertificateId} is INACTIVE and account ${scope.accountId} is in strict CA mode`);
      }
      seen += page.length;
      const last = page.at(-1);
      if (page.length < PAGE || last === undefined) break;
      after = { createdAt: last.creationDate, key: last.certificateId };
    }
  };

  const onRegistryEvent = async (event: RegistryEvent): Promise<void> => {
    // The access caches first, so that a reconnect racing the disconnect is judged on the new state.
    await access.onRegistryEvent(event);
    switch (event.type) {
      case 'certificate-status-changed':
        if (event.status !== 'ACTIVE') {
          await disconnect(event.scope, event.certificateId, `certificate ${event.certificateId} is now ${event.status} (UpdateCertificate)`);
        }
        return;
      case 'certificate-deleted':
        await disconnect(event.scope, event.certificateId, `certificate ${event.certificateId} was deleted (DeleteCertificate)`);
        return;
      case 'ca-certificate-status-changed':
        if (event.status === 'INACTIVE') await disconnectCaCertificates(event.scope, event.certificateId);
        return;
      case 'policy-changed':
      case 'policy-attachment-changed':
        return; // access applies them to the next action evaluated
      // Live connections read their thing policy variables again (issue 10 #3); the caches were invalidated above.
      case 'thing-principals-changed':
        await broker.refreshThingValues(event.scope, { principal: event.principal });
        return;
      case 'thing-changed':
        await broker.refreshThingValues(event.scope, { thingName: event.thingName });
        return;
    }
  };

  // Live connections are re-admitted once per cache lifetime: what changed without a registry event
  // (another process wrote the store, a certificate expired) reaches them within about two lifetimes.
  let revalidating = false;
  const revalidation = setInterval(() => {
    if (revalidating) return;
    revalidating = true;
    broker
      .revalidateConnections()
      .then(
        (n) => {
          if (n > 0) logger.info({ connections: n }, 'closed connections no longer admitted (periodic re-check)');
        },
        (err: unknown) => logger.error({ err }, 'periodic re-check of connections failed'),
      )
      .finally(() => {
        revalidating = false;
      });
  }, cacheTtlMs);
  revalidation.unref();

  let closing: Promise<void> | undefined;
  return {
    mqttPort: listeners[0]!.port,
    alpnPort: config.alpnPort === undefined ? undefined : listeners[1]?.port,
    accessLog,
    onRegistryEvent,
    close: () =>
      (closing ??= (async () => {
        clearInterval(revalidation);
        // The broker says goodbye to every client (it refuses newcomers while closing); then the listeners
        // stop accepting and drop what is left (clients stuck in their TLS handshake).
        await broker.close();
        await Promise.all(listeners.map((l) => l.close()));
      })()),
  };
}
