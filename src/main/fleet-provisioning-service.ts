import type { AccessLog } from '../access/index.js';
import type { ServiceTopics } from '../broker/service-topics.js';
import type { Clock, Logger } from '../kernel/index.js';
import {
  createFleetProvisioning,
  createOwnershipTokens,
  deriveOwnershipTokenKey,
  fleetPublishProblem,
  isFleetProvisioningTopic,
  parseFleetRequestTopic,
  registryFleetTemplates,
} from '../provisioning/index.js';
import type { FleetLimits, FleetProvisioning } from '../provisioning/index.js';
import type { RegistryDeps } from '../registry/registry-deps.js';
import { createHttpPreProvisioningHook, formatHookAllowEntry, PROVISIONING_HOOK_ALLOW_FLAG } from './pre-provisioning-hook.js';
import type { HttpPreProvisioningHookOptions } from './pre-provisioning-hook.js';

/**
 * Wires fleet provisioning into the broker (its ServiceTopics port) and runs the sweeper that deletes
 * certificates created over MQTT and not provisioned within the ownership token's lifetime.
 */

/** AWS: a certificateOwnershipToken lives one hour. */
export const DEFAULT_FLEET_TOKEN_TTL_SECONDS = 3600;

export interface FleetProvisioningService {
  readonly fleet: FleetProvisioning;
  readonly serviceTopics: ServiceTopics;
  readonly sweepIntervalMs: number;
  /** From now on, every /rejected answer is also recorded here, for `certgate why` (the data plane's log). */
  recordTo(log: AccessLog): void;
}

/**
 * Fleet provisioning as main runs it: ownership tokens keyed from the master key (they survive restarts, and
 * no token is stored), templates from the registry, the pre-provisioning hook over HTTP.
 */
export function createFleetProvisioningService(opts: {
  readonly registry: RegistryDeps;
  readonly masterKey: Uint8Array;
  readonly tokenTtlSeconds?: number | undefined;
  /** The HTTP pre-provisioning hook: what it may call (--provisioning-hook-allow; nothing by default). Its refusals go to the log given to recordTo. */
  readonly hook?: HttpPreProvisioningHookOptions | undefined;
  /** Per-account limits (--fleet-request-rate, --fleet-pending-certificates); default DEFAULT_FLEET_LIMITS. */
  readonly limits?: FleetLimits | undefined;
}): FleetProvisioningService {
  const tokenTtlMs = (opts.tokenTtlSeconds ?? DEFAULT_FLEET_TOKEN_TTL_SECONDS) * 1000;
  // Said whenever there is such an entry, not only when several accounts exist now: accounts can be created
  // while certgate runs, and the entry would silently become shared.
  const shared = (opts.hook?.allow ?? []).filter((e) => e.accountId === undefined);
  if (shared.length > 0) {
    opts.registry.logger.warn(
      { entries: shared.map(formatHookAllowEntry) },
      `${PROVISIONING_HOOK_ALLOW_FLAG}: entries without an account are shared by every account: any account's template may call them and use their answers; write <account-id>=<entry> to allow a hook to one account`,
    );
  }
  // One log for everything fleet provisioning records (hook refusals, /rejected answers): the data plane's, set by recordTo.
  let log: AccessLog | undefined;
  const clock = opts.registry.clock;
  const fleet = createFleetProvisioning({
    registry: opts.registry,
    tokens: createOwnershipTokens(deriveOwnershipTokenKey(opts.masterKey), tokenTtlMs),
    templates: registryFleetTemplates(opts.registry),
    hook: createHttpPreProvisioningHook({ now: () => clock.now(), ...opts.hook, allow: opts.hook?.allow ?? [], record: (r) => log?.record(r) }),
    tokenTtlMs,
    limits: opts.limits,
  });
  const serviceTopics = fleetServiceTopics(fleet, { clock, accessLog: () => log });
  return {
    fleet,
    serviceTopics,
    sweepIntervalMs: sweepIntervalMs(tokenTtlMs),
    recordTo(accessLog) {
      log = accessLog;
    },
  };
}

/**
 * The broker's ServiceTopics port over fleet provisioning. A rejected request is recorded (when a log is given)
 * under the claim certificate's account, certificate id and client id, with what /rejected told the device:
 * `certgate why <clientId>` explains a throttled or refused provisioning.
 */
export function fleetServiceTopics(fleet: FleetProvisioning, record?: { clock: Clock; accessLog: () => AccessLog | undefined }): ServiceTopics {
  return {
    classify(topic) {
      if (!isFleetProvisioningTopic(topic)) return undefined;
      const problem = fleetPublishProblem(topic);
      return problem === undefined ? { kind: 'request' } : { kind: 'forbidden', why: problem };
    },
    async handle(request) {
      const parsed = parseFleetRequestTopic(request.topic);
      if (parsed === undefined) throw new Error(`not a fleet provisioning request topic: ${request.topic}`);
      const answer = await fleet.handle({
        scope: request.scope,
        claimCertificateId: request.certificateId,
        clientId: request.clientId,
        request: parsed,
        payload: request.payload,
      });
      const log = record?.accessLog();
      if (answer.rejection !== undefined && log !== undefined && record !== undefined) {
        const r = answer.rejection;
        log.record({
          at: record.clock.now(),
          kind: 'publish',
          outcome: 'denied',
          accountId: request.scope.accountId,
          region: request.scope.region,
          certificateId: request.certificateId,
          clientId: request.clientId,
          resource: request.topic,
          reasons: [`fleet provisioning ${parsed.api} rejected on ${answer.topic}: ${r.statusCode} ${r.errorCode}: ${r.errorMessage}`],
        });
      }
      return { topic: answer.topic, payload: answer.payload };
    },
  };
}

export interface UnclaimedCertificateSweeper {
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

/** How often to sweep for a token lifetime: half of it, between 250 ms and one minute. */
export function sweepIntervalMs(tokenTtlMs: number): number {
  return Math.min(60_000, Math.max(250, Math.floor(tokenTtlMs / 2)));
}

/** Sweeps on an unref'd timer (never keeps the process alive); one sweep at a time. */
export function startUnclaimedCertificateSweeper(fleet: FleetProvisioning, intervalMs: number, logger: Logger): UnclaimedCertificateSweeper {
  let running: Promise<void> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (running !== undefined || stopped) return;
    running = fleet
      .sweepUnclaimed()
      .then(
        (n) => {
          if (n > 0) logger.info({ deleted: n }, 'fleet provisioning: unclaimed certificates deleted');
        },
        (err: unknown) => logger.error({ err }, 'fleet provisioning: sweep failed'),
      )
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
