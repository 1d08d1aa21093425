import { evaluate } from '../policy/index.js';
import type { AuthRequest, Decision, PolicyContext } from '../policy/index.js';
import { bothMustAllow } from './combine-decisions.js';
import type { ConnectionClock, ContextValue } from './connection-context.js';
import type { ConnectionAuthorization, DevicePrincipal } from './device-access.js';
import type { PolicySet } from './policy-sets.js';

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

  return {
    connect: () => check('iot:Connect', clientResource),
    publish(topic, retain) {
      const resource = topicPrefix + topic;
      const publish = check('iot:Publish', resource);
      if (!retain) return publish;
      // Publishing a retained message needs iot:RetainPublish as well (AWS IoT policy actions).
      return bothMustAllow(publish, check('iot:RetainPublish', resource));
    },
    subscribe: (filter) => check('iot:Subscribe', filterPrefix + filter),
    receive: (topic) => check('iot:Receive', topicPrefix + topic),
  };
}
