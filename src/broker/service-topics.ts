import type { Scope } from '../kernel/index.js';
import type { Connection } from './connection.js';
import { receiveAllowed } from './route-message.js';
import type { OutboundMessage } from './session/session.js';
import { filterMatches } from './topics/topic-trie.js';

/**
 * Topics certgate answers itself (the fleet provisioning MQTT API): a request is authorized like any PUBLISH,
 * then handed to the service instead of the subscribers; the answer goes back on the same connection only
 * ("results through the same MQTT connection used to publish the API request", fleet-provision-api), and only
 * if that connection subscribed to the answer's topic and iot:Receive allows it. Other subscribers of
 * `/accepted` never see it: it may carry a private key.
 */

export type ServiceTopicClass = { readonly kind: 'request' } | { readonly kind: 'forbidden'; readonly why: string };

export interface ServiceTopicRequest {
  readonly scope: Scope;
  readonly certificateId: string;
  readonly clientId: string;
  readonly topic: string;
  readonly payload: Buffer;
}

export interface ServiceTopicReply {
  readonly topic: string;
  readonly payload: Buffer;
}

/** The broker's port for service topics; main wires the fleet provisioning flow to it. */
export interface ServiceTopics {
  /** undefined: an ordinary topic; 'request': the service answers it; 'forbidden': a service topic devices may not publish on. */
  classify(topic: string): ServiceTopicClass | undefined;
  /** The answer to deliver to the requesting connection (never rejects: failures are answers). */
  handle(request: ServiceTopicRequest): Promise<ServiceTopicReply>;
}

/** Requests one connection may have in progress at once (each may generate an RSA key); more are dropped and recorded. */
export const MAX_SERVICE_REQUESTS_PER_CONNECTION = 4;
const inProgress = new WeakMap<Connection, number>();

/** Hands an authorized request to the service and delivers its answer to `conn` alone. */
export function serveServiceRequest(conn: Connection, services: ServiceTopics, topic: string, payload: Buffer): void {
  const busy = inProgress.get(conn) ?? 0;
  if (busy >= MAX_SERVICE_REQUESTS_PER_CONNECTION) {
    conn.record('publish', 'denied', topic, [`${busy} service requests of this connection are still in progress (at most ${MAX_SERVICE_REQUESTS_PER_CONNECTION}); request dropped`]);
    return;
  }
  inProgress.set(conn, busy + 1);
  const request: ServiceTopicRequest = { scope: conn.principal.scope, certificateId: conn.principal.certificateId, clientId: conn.clientId, topic, payload };
  services
    .handle(request)
    .then(
      (reply) => deliverReply(conn, reply),
      (err: unknown) => conn.ctx.logger.error({ err, topic, clientId: conn.clientId }, 'broker: service topic handler failed'),
    )
    .finally(() => {
      const n = (inProgress.get(conn) ?? 1) - 1;
      if (n <= 0) inProgress.delete(conn);
      else inProgress.set(conn, n);
    });
}

function deliverReply(conn: Connection, reply: ServiceTopicReply): void {
  const session = conn.session;
  if (conn.state === 'closed' || session === undefined || session.sink !== conn) {
    conn.ctx.logger.debug({ clientId: conn.clientId, topic: reply.topic }, 'broker: service answer dropped, the requesting connection is gone');
    return;
  }
  let subscribed = false;
  for (const o of session.subscriptions.values()) {
    if (filterMatches(o.filter, reply.topic)) subscribed = true;
  }
  if (!subscribed) {
    conn.record('receive', 'denied', reply.topic, ['the connection is not subscribed to the answer topic: subscribe to /accepted and /rejected before publishing the request']);
    return;
  }
  const now = conn.now();
  if (!receiveAllowed(conn.ns, session, reply.topic, conn.ctx.accessLog, now)) return;
  // Written on this connection at QoS 0, never through the session: a QoS 1 answer would wait in the session's
  // in-flight window or queue, and whoever resumes the session with this client id (another device holding the
  // same claim certificate, iot:Connect on *) would be sent this device's private key and ownership token.
  // Lost with the connection, like AWS's ("the same MQTT connection"): the device asks again.
  const message: OutboundMessage = { topic: reply.topic, payload: reply.payload, qos: 0, retain: false, properties: {}, expiresAt: undefined };
  if (!conn.writePublish(message, undefined, false)) {
    conn.record('receive', 'denied', reply.topic, ['the answer could not be written: the connection is closing or its write buffer is full; the device may ask again']);
  }
}
