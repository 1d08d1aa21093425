import type { DisconnectReason } from './reason-codes.js';

/**
 * AWS IoT lifecycle events (developer guide "Lifecycle events"): presence on
 * `$aws/events/presence/{connected|disconnected}/<clientId>`, subscriptions on
 * `$aws/events/subscriptions/{subscribed|unsubscribed}/<clientId>`. No events for client ids
 * containing `#` or `+` (data-plane.md "Reserved topics").
 */

export function lifecycleEventsAllowed(clientId: string): boolean {
  return !clientId.includes('#') && !clientId.includes('+');
}

export interface PresenceFields {
  readonly clientId: string;
  readonly timestamp: number;
  readonly sessionIdentifier: string;
  readonly principalIdentifier: string;
  readonly versionNumber: number;
}

export interface LifecycleEvent {
  readonly topic: string;
  readonly body: Record<string, unknown>;
}

export function connectedEvent(f: PresenceFields, ipAddress: string): LifecycleEvent {
  return {
    topic: `$aws/events/presence/connected/${f.clientId}`,
    body: {
      clientId: f.clientId,
      timestamp: f.timestamp,
      eventType: 'connected',
      sessionIdentifier: f.sessionIdentifier,
      principalIdentifier: f.principalIdentifier,
      ipAddress,
      versionNumber: f.versionNumber,
    },
  };
}

export function disconnectedEvent(f: PresenceFields, clientInitiatedDisconnect: boolean, disconnectReason: DisconnectReason): LifecycleEvent {
  return {
    topic: `$aws/events/presence/disconnected/${f.clientId}`,
    body: {
      clientId: f.clientId,
      timestamp: f.timestamp,
      eventType: 'disconnected',
      sessionIdentifier: f.sessionIdentifier,
      principalIdentifier: f.principalIdentifier,
      clientInitiatedDisconnect,
      disconnectReason,
      versionNumber: f.versionNumber,
    },
  };
}

export function subscriptionEvent(
  kind: 'subscribed' | 'unsubscribed',
  f: Omit<PresenceFields, 'versionNumber'>,
  topics: readonly string[],
): LifecycleEvent {
  return {
    topic: `$aws/events/subscriptions/${kind}/${f.clientId}`,
    body: {
      clientId: f.clientId,
      timestamp: f.timestamp,
      eventType: kind,
      sessionIdentifier: f.sessionIdentifier,
      principalIdentifier: f.principalIdentifier,
      topics: [...topics],
    },
  };
}
