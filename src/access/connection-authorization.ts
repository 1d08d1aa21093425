import { dependsOnTime, evaluate } from '../policy/index.js';
import type { CompiledPolicy, Decision, PolicyContext } from '../policy/index.js';
import { bothMustAllow } from './combine-decisions.js';
import { THING_VALUE_PREFIX } from './connection-context.js';
import type { ConnectionClock, ContextValue } from './connection-context.js';
import type { ConnectionAuthorization, DevicePrincipal } from './device-access.js';
import type { PolicySet } from './policy-sets.js';

/** Cached publish / receive decisions per connection and action (topics beyond this start the cache afresh). */
const DECISIONS_PER_CONNECTION = 256;

/** A mutable request reused for every evaluation of one connection (evaluate() reads it synchronously). */
interface ReusableRequest {
  action: string;
  resource: string;
  readonly context: PolicyContext;
}

/**
 * One connection's authorization (data-plane.md "Authorization points"): synchronous, no store access,
 * no parsing. It reads the principal's shared PolicySet at each call, so a policy change applied by a
 * registry event governs the very next action. Resources are
 * `arn:aws:iot:<region>:<account>:client/<clientId>`, `topic/<topic>`, `topicfilter/<filter>`.
 */
export function connectionAuthorization(
  principal: DevicePrincipal,
  clientId: string,
  set: PolicySet,
  values: Record<string, ContextValue>,
  clock: ConnectionClock,
  /** Reads the registry-derived values (iot:Connection.Thing.*) again; absent: they never change. */
  readThingValues?: () => Promise<Record<string, ContextValue>>,
): ConnectionAuthorization {
  const arnPrefix = `arn:aws:iot:${principal.scope.region}:${principal.scope.accountId}:`;
  const clientResource = `${arnPrefix}client/${clientId}`;
  const topicPrefix = `${arnPrefix}topic/`;
  const filterPrefix = `${arnPrefix}topicfilter/`;
  const request: ReusableRequest = { action: '', resource: '', context: { values } };

  const check = (action: string, resource: string): Decision => {
    clock.tick();
    request.action = action;
    request.resource = resource;
    const decision = evaluate(set.policies, request);
    if (set.loadError !== undefined && decision.effect !== 'Allow') {
      return { ...decision, reasons: [set.loadError, ...decision.reasons] };
    }
    return decision;
  };

  // Publish and receive decisions per topic, reused while the principal's policies are the same array
  // (a reload replaces it), the values are the same (a refresh bumps `valuesVersion`) and none depends
  // on the clock.
  // Profiled: evaluation was ~8% of a QoS 0 delivery; devices use few topics. Bounded per connection.
  let cachedFor: readonly CompiledPolicy[] | undefined;
  let cachedForValues = 0;
  let valuesVersion = 0;
  let cacheable = false;
  const published = new Map<string, Decision>();
  const received = new Map<string, Decision>();
  const cached = (cache: Map<string, Decision>, action: string, topic: string): Decision => {
    const policies = set.policies;
    if (policies !== cachedFor || cachedForValues !== valuesVersion) {
      cachedFor = policies;
      cachedForValues = valuesVersion;
      cacheable = set.loadError === undefined && !dependsOnTime(policies);
      published.clear();
      received.clear();
    }
    if (!cacheable) return check(action, topicPrefix + topic);
    let decision = cache.get(topic);
    if (decision === undefined) {
      decision = check(action, topicPrefix + topic);
      if (cache.size >= DECISIONS_PER_CONNECTION) cache.clear();
      cache.set(topic, decision);
    }
    return decision;
  };

  let refreshesStarted = 0;
  let refreshApplied = 0;

  return {
    connect: () => check('iot:Connect', clientResource),
    publish(topic, retain) {
      const publish = cached(published, 'iot:Publish', topic);
      if (!retain) return publish;
      // Publishing a retained message needs iot:RetainPublish as well (AWS IoT policy actions).
      return bothMustAllow(publish, check('iot:RetainPublish', topicPrefix + topic));
    },
    subscribe: (filter) => check('iot:Subscribe', filterPrefix + filter),
    receive: (topic) => cached(received, 'iot:Receive', topic),
    async refresh() {
      if (readThingValues === undefined) return;
      // Overlapping refreshes (a registry event and the periodic re-check) may finish out of order: only a
      // read started after the one last applied replaces the values.
      const sequence = ++refreshesStarted;
      const fresh = await readThingValues();
      if (sequence < refreshApplied) return;
      refreshApplied = sequence;
      // Swapped in one synchronous step: an evaluation never sees half old, half new thing values.
      for (const key of Object.keys(values)) if (key.startsWith(THING_VALUE_PREFIX)) delete values[key];
      Object.assign(values, fresh);
      valuesVersion++;
    },
    thingName() {
      const name = values['iot:Connection.Thing.ThingName'];
      return typeof name === 'string' ? name : undefined;
    },
  };
}
