import { mkdir, readFile, readdir } from 'node:fs/promises';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { createApiServer } from '../api/index.js';
import { DEFAULT_TLS_SECURITY_POLICY, tlsPolicyOptions } from '../broker/listeners/index.js';
import type { TlsPolicyOptions } from '../broker/listeners/index.js';
import { createIotOperations } from '../api/operations/index.js';
import { systemClock } from '../kernel/index.js';
import type { Logger } from '../kernel/index.js';
import { FileCaKeyVault, MasterKeyError, loadMasterKey } from '../keys/index.js';
import { authenticateAccessKey } from '../registry/accounts/authenticate-access-key.js';
import { endpointAddress } from '../registry/accounts/data-endpoint.js';
import { ensureDefaultAccount } from '../registry/accounts/ensure-default-account.js';
import type { Account } from '../registry/entities.js';
import type { RegistryDeps } from '../registry/registry-deps.js';
import { createRegistryEvents } from '../registry/registry-events.js';
import type { RegistryStore } from '../registry/ports.js';
import { createLogger } from '../telemetry/index.js';
import { registerAccessRecordsRoute } from './access-records-route.js';
import { writeAwsProfileFiles, writeCaBundle } from './aws-profile-files.js';
import type { CertgateConfig } from './config.js';
import { dataDirLayout } from './data-dir-layout.js';
import type { DataDirLayout } from './data-dir-layout.js';
import { openRegistryStore } from './open-registry-store.js';
import { DEFAULT_FLEET_LIMITS } from '../provisioning/index.js';
import { createFleetProvisioningService, startUnclaimedCertificateSweeper } from './fleet-provisioning-service.js';
import { issueApiCertificates } from './server-certificates.js';
import { ensureServiceCas } from './service-cas.js';
import type { ServiceCas } from './service-cas.js';
import { startDataPlane } from './start-data-plane.js';
import type { StartedDataPlane } from './start-data-plane.js';
import { StartupError } from './startup-error.js';

export interface StartedCertgate {
  /** e.g. http://127.0.0.1:9080, or https://127.0.0.1:9080 when the API is HTTPS. */
  readonly apiUrl: string;
  /** DATA/ca-bundle.pem when the API is HTTPS with certgate's own certificate (what a client must trust). */
  readonly caBundle: string | undefined;
  /** Plain HTTP beyond loopback (--api-insecure-http). */
  readonly apiInsecure: boolean;
  /** The default account. */
  readonly account: Account;
  readonly region: string;
  readonly domain: string;
  /** `endpointAddress(account, region, domain)` (iot:Data-ATS). */
  readonly dataEndpoint: string;
  /** The MQTT over mutual TLS port actually bound (the real one when 0 was asked for). */
  readonly mqttPort: number;
  /** The ALPN (x-amzn-mqtt-ca) port, when --alpn-port was given. */
  readonly alpnPort: number | undefined;
  /** The host devices connect to (the bind host; 127.0.0.1 for a wildcard bind). */
  readonly mqttHost: string;
  readonly files: DataDirLayout;
  readonly cas: ServiceCas;
  readonly logger: Logger;
  /** Close the HTTP server, then the store. Idempotent. */
  close(): Promise<void>;
}

async function hasEncryptedKeys(keysDir: string): Promise<boolean> {
  try {
    return (await readdir(keysDir)).some((f) => f.endsWith('.key.enc'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * The API's HTTPS options: certgate's own certificate (issued at every start under its intermediates, keys in
 * memory only) or the operator's files, with the TLS security policy. undefined = plain HTTP.
 */
async function apiHttpsOptions(config: CertgateConfig, cas: ServiceCas, policy: TlsPolicyOptions, now: Date): Promise<HttpsServerOptions | undefined> {
  const transport = config.apiTransport;
  if (transport.kind === 'http') return undefined;
  let cert: string | string[];
  let key: string | string[];
  if (transport.certificate === 'certgate') {
    const issued = await issueApiCertificates({ cas, apiHost: config.apiHost, domain: config.domain, now });
    cert = [issued.rsa.certificateChainPem, issued.ecc.certificateChainPem];
    key = [issued.rsa.privateKeyPem, issued.ecc.privateKeyPem];
  } else {
    const read = async (file: string, flag: string): Promise<string> => {
      try {
        return await readFile(file, 'utf8');
      } catch (e) {
        throw new StartupError(`${flag}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
      }
    };
    cert = await read(transport.certFile, '--api-tls-cert');
    key = await read(transport.keyFile, '--api-tls-key');
    try {
      createSecureContext({ cert, key });
    } catch (e) {
      throw new StartupError(`--api-tls-cert/--api-tls-key: ${transport.certFile} and ${transport.keyFile} are not a PEM certificate chain and its private key (${(e as Error).message})`, { cause: e });
    }
  }
  return { cert, key, ...policy };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The composition root: config → master key → CA key vault → service CAs → store → default account →
 * AWS profile files → registry deps → data plane (server certificates, access, broker, MQTT listeners,
 * registry events) → operations → HTTP API (+ certgate's access-records route). Anything the operator can fix fails with a
 * StartupError before a file is overwritten.
 */
export async function startCertgate(config: CertgateConfig, options: { logger?: Logger } = {}): Promise<StartedCertgate> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const clock = systemClock;
  const files = dataDirLayout(config.dataDir);

  await mkdir(files.dataDir, { recursive: true, mode: 0o700 });
  await mkdir(files.keysDir, { recursive: true, mode: 0o700 });
  await mkdir(files.caDir, { recursive: true, mode: 0o755 });

  let masterKey: Uint8Array;
  try {
    const loaded = await loadMasterKey({
      file: files.masterKey,
      ...(config.masterKey !== undefined ? { given: config.masterKey } : {}),
      create: !(await hasEncryptedKeys(files.keysDir)),
    });
    masterKey = loaded.key;
    if (loaded.source === 'created') logger.info({ file: files.masterKey }, 'created master key');
  } catch (e) {
    if (e instanceof MasterKeyError) throw new StartupError(e.message, { cause: e });
    throw e;
  }
  const vault = new FileCaKeyVault(files.keysDir, masterKey);
  const cas = await ensureServiceCas({ layout: files, vault, now: clock.now(), logger });

  const store: RegistryStore = await openRegistryStore(files.dataDir);
  // What startup has opened or started so far, closed in reverse order when a later step fails: otherwise the
  // open listeners keep the process alive and `certgate serve` hangs instead of exiting with the error.
  const opened: Array<() => Promise<void> | void> = [];
  try {
    const { account, created } = await ensureDefaultAccount({ store, clock });
    if (created) logger.info({ accountId: account.accountId }, 'created default account');
    await writeCaBundle(files, [cas.rootRsa.certificatePem, cas.rootEcc.certificatePem]);
    const servedRegions = [config.region, ...(config.extraRegions ?? []).filter((r) => r !== config.region)];
    const tlsPolicyName = config.tlsSecurityPolicy ?? DEFAULT_TLS_SECURITY_POLICY;
    const tlsPolicy = tlsPolicyOptions(tlsPolicyName);
    // --tls-security-policy is the data endpoints' setting, as AWS's security policies are domain
    // configurations'; the control plane (it returns private keys) always keeps certgate's default.
    const https = await apiHttpsOptions(config, cas, tlsPolicyOptions(DEFAULT_TLS_SECURITY_POLICY), clock.now());

    const events = createRegistryEvents((e) => logger.error({ err: e }, 'registry event listener failed'));
    const deps: RegistryDeps = {
      store,
      clock,
      logger,
      deviceIssuer: { certificatePem: cas.deviceIssuer.certificatePem, privateKeyPem: cas.deviceIssuer.privateKeyPem },
      domain: config.domain,
      events,
    };
    const fleetProvisioning = createFleetProvisioningService({
      registry: deps,
      masterKey,
      tokenTtlSeconds: config.fleetTokenTtlSeconds,
      hook: { allow: config.provisioningHookAllow ?? [] },
      limits: {
        requestsPerSecond: config.fleetRequestRate ?? DEFAULT_FLEET_LIMITS.requestsPerSecond,
        pendingCertificates: config.fleetPendingCertificates ?? DEFAULT_FLEET_LIMITS.pendingCertificates,
      },
    });
    const dataPlane: StartedDataPlane = await startDataPlane({
      config: {
        host: config.host,
        mqttPort: config.mqttPort,
        alpnPort: config.alpnPort,
        region: config.region,
        extraRegions: config.extraRegions ?? [],
        domain: config.domain,
        requireSni: config.requireSni === true,
        tlsPolicy,
        alpnTlsPolicy: tlsPolicyOptions(tlsPolicyName, { port443: true }),
        ...(config.registryCacheTtlSeconds !== undefined ? { registryCacheTtlMs: config.registryCacheTtlSeconds * 1000 } : {}),
      },
      cas,
      store,
      clock,
      logger,
      registry: deps,
      serviceTopics: fleetProvisioning.serviceTopics,
    });
    opened.push(() => dataPlane.close());
    fleetProvisioning.recordTo(dataPlane.accessLog);
    const sweeper = startUnclaimedCertificateSweeper(fleetProvisioning.fleet, fleetProvisioning.sweepIntervalMs, logger);
    opened.push(() => sweeper.stop());
    // Certificate revocations, deletions, strict-mode CA changes and policy changes reach the data plane
    // before the API call answers (registry events are awaited).
    const unsubscribeEvents = events.subscribe(dataPlane.onRegistryEvent);
    opened.push(unsubscribeEvents);
    const authenticate = async (accessKeyId: string): Promise<{ accountId: string; secretAccessKey: string } | undefined> => {
      const found = await authenticateAccessKey({ store }, accessKeyId);
      return found ? { accountId: found.accountId, secretAccessKey: found.secretAccessKey } : undefined;
    };
    const app = createApiServer({ operations: createIotOperations(deps), authenticate, clock, logger, servedRegions, ...(https !== undefined ? { https } : {}) });
    opened.push(() => app.close());
    registerAccessRecordsRoute(app, { accessLog: dataPlane.accessLog, authenticate, clock, logger, operatorAccountId: account.accountId, servedRegions });
    try {
      await app.listen({ host: config.apiHost, port: config.apiPort });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new StartupError(`cannot listen on ${config.apiHost}:${config.apiPort} (${code})`, { cause: e });
      }
      throw e;
    }
    const address = app.server.address() as AddressInfo;
    const apiUrl = `${https !== undefined ? 'https' : 'http'}://${urlHost(config.apiHost)}:${address.port}`;
    const caBundle = config.apiTransport.kind === 'https' && config.apiTransport.certificate === 'certgate' ? files.caBundle : undefined;
    const apiInsecure = config.apiTransport.kind === 'http' && config.apiTransport.beyondLoopback;
    // DATA/config names what a client needs: region, endpoint, and the CA bundle when certgate issued the API certificate.
    try {
      await writeAwsProfileFiles(files, account, { region: config.region, endpointUrl: apiUrl, ...(caBundle !== undefined ? { caBundle } : {}) });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === undefined) throw e;
      throw new StartupError(`cannot write the AWS profile files ${files.credentials} and ${files.awsConfig}: ${err.message}`, { cause: e });
    }
    logger.info({ apiUrl, accountId: account.accountId, region: config.region, servedRegions, ...(caBundle !== undefined ? { caBundle } : {}) }, 'control plane listening');
    if (apiInsecure) {
      logger.warn(
        { apiUrl, apiHost: config.apiHost },
        'INSECURE: the control plane listens beyond loopback over plain HTTP (--api-insecure-http): access keys, request signatures and the private keys CreateKeysAndCertificate returns travel in clear',
      );
    }
    logger.info({ host: config.host, mqttPort: dataPlane.mqttPort, alpnPort: dataPlane.alpnPort, requireSni: config.requireSni === true }, 'data plane listening');

    let closing: Promise<void> | undefined;
    return {
      apiUrl,
      caBundle,
      apiInsecure,
      account,
      region: config.region,
      domain: config.domain,
      dataEndpoint: endpointAddress(account, config.region, config.domain),
      mqttPort: dataPlane.mqttPort,
      alpnPort: dataPlane.alpnPort,
      mqttHost: urlHost(config.host).replace(/^\[|\]$/g, ''),
      files,
      cas,
      logger,
      close: () =>
        (closing ??= (async () => {
          try {
            await app.close();
            unsubscribeEvents();
            await sweeper.stop();
            await dataPlane.close();
          } finally {
            await store.close();
          }
          logger.info({}, 'stopped');
        })()),
    };
  } catch (e) {
    for (const close of opened.reverse()) {
      try {
        await close();
      } catch (closeError) {
        logger.error({ err: closeError }, 'closing after a failed start failed');
      }
    }
    await store.close().catch(() => undefined);
    throw e;
  }
}
