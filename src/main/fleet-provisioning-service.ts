import type { ServiceTopics } from '../broker/service-topics.js';
import type { Logger } from '../kernel/index.js';
import {
  createFleetProvisioning,
  createOwnershipTokens,
  deriveOwnershipTokenKey,
  fleetPublishProblem,
  isFleetProvisioningTopic,
  parseFleetRequestTopic,
  registryFleetTemplates,
} from '../provisioning/index.js';
import type { FleetProvisioning } from '../provisioning/index.js';
import type { RegistryDeps } from '../registry/registry-deps.js';
import { createHttpPreProvisioningHook } from './pre-provisioning-hook.js';
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
}

/**
 * Fleet provisioning as main runs it: ownership tokens keyed from the master key (they survive restarts, and
 * no token is stored), templates from the registry, the pre-provisioning hook over HTTP.
 */
export function createFleetProvisioningService(opts: {
  readonly registry: RegistryDeps;
  readonly masterKey: Uint8Array;
  readonly tokenTtlSeconds?: number | undefined;
  /** The HTTP pre-provisioning hook: the hosts it may call (--provisioning-hook-allow; none by default), where refusals are recorded. */
  readonly hook?: HttpPreProvisioningHookOptions | undefined;
}): FleetProvisioningService {
  const tokenTtlMs = (opts.tokenTtlSeconds ?? DEFAULT_FLEET_TOKEN_TTL_SECONDS) * 1000;
  const fleet = createFleetProvisioning({
    registry: opts.registry,
    tokens: createOwnershipTokens(deriveOwnershipTokenKey(opts.masterKey), tokenTtlMs),
    templates: registryFleetTemplates(opts.registry),
    hook: createHttpPreProvisioningHook(opts.hook ?? { allow: [] }),
    tokenTtlMs,
  });
  return { fleet, serviceTopics: fleetServiceTopics(fleet), sweepIntervalMs: sweepIntervalMs(tokenTtlMs) };
}

export function fleetServiceTopics(fleet: FleetProvisioning): ServiceTopics {
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
