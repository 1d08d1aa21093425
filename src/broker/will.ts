import type { ConnectionAuthorization, ConnectionPeer, DevicePrincipal } from '../access/index.js';
import { epochMs } from '../kernel/index.js';
import type { BrokerContext } from './broker-context.js';
import type { Namespace } from './namespace.js';
import { namespaceKey } from './namespace.js';
import type { BusMessage } from './ports.js';
import { isBasicIngest, reservedPublishProblem } from './topics/reserved-topics.js';

/**
 * Last wills (issue 10 #2): a will is authorized when it is published, days after CONNECT perhaps, through
 * the same steps as a PUBLISH: the certificate still admitted (registered, ACTIVE, in date, in this
 * account), reserved topics, service topics, iot:Publish and iot:RetainPublish under the policies and
 * thing values current at that moment. A connection closed because its certificate was revoked never gets
 * here (publishWill: false), and a delayed will is cancelled with its certificate (Namespace.discardCertificate),
 * as is a will whose authorization is under way at that moment. A delayed will is published early when its
 * session ends (a clean start, another certificate: handlers/connect.ts) [MQTT-3.1.3-9], and its Message
 * Expiry Interval runs from its publication (MQTT 5 §3.1.3.2.4).
 */

/** The connection a will was left by: enough to authorize it again once that connection is gone. */
export interface WillSource {
  readonly principal: DevicePrincipal;
  /** What re-admission needs of the TLS peer (`readmissionPeer`). */
  readonly peer: ConnectionPeer;
  readonly auth: ConnectionAuthorization;
  readonly clientId: string;
}

/** A will as CONNECT left it; its expiry is counted from when it is published (MQTT 5 §3.1.3.2.4). */
export interface LastWill {
  /** The message, `expiresAt` unset. */
  readonly message: BusMessage;
  /** Message Expiry Interval in seconds, if the client set one. */
  readonly expirySeconds: number | undefined;
}

/**
 * The part of a TLS peer kept for re-admission while its connection is gone (offline sessions, delayed
 * wills; up to 7 days): the leaf certificate and where it connected. The device-sent chain is not kept:
 * it serves only to register an unknown certificate (JITR/JITP), which a re-admission must not do.
 */
export function readmissionPeer(peer: ConnectionPeer): ConnectionPeer {
  return {
    certificateDer: peer.certificateDer,
    chainDer: [],
    serverName: peer.serverName,
    remoteAddress: peer.remoteAddress,
    remotePort: peer.remotePort,
    listener: peer.listener,
  };
}

/** Why the will may not be published on `topic` now (undefined: it may); the PUBLISH steps without the socket. */
export function willRefusal(ctx: Pick<BrokerContext, 'serviceTopics'>, auth: ConnectionAuthorization, topic: string, retain: boolean): readonly string[] | undefined {
  const reserved = reservedPublishProblem(topic);
  if (reserved !== undefined) return [reserved];
  // Service topics (fleet provisioning requests and answers) never carry a will: a will on `.../accepted`
  // would hand other devices a certificate and key of the publisher's choosing.
  if (ctx.serviceTopics?.classify(topic) !== undefined) return [`a last will may not be published on the service topic ${JSON.stringify(topic)}`];
  const decision = auth.publish(topic, retain);
  return decision.effect === 'Allow' ? undefined : decision.reasons;
}

/**
 * Authorizes the will now and, when allowed, stores it (retained) and routes it. Never rejects. A will of a
 * certificate discarded while this runs (Namespace.discardCertificate: revoked, no longer admitted) is
 * dropped right before it would be published.
 */
export async function publishWill(ctx: BrokerContext, ns: Namespace, source: WillSource, lastWill: LastWill): Promise<void> {
  const will = lastWill.message;
  const discarded = ns.watchCertificate(source.principal.certificateId);
  const record = (reasons: readonly string[]): void => {
    ctx.record({
      kind: 'publish',
      outcome: 'denied',
      accountId: ns.scope.accountId,
      region: ns.scope.region,
      certificateId: source.principal.certificateId,
      clientId: source.clientId,
      resource: will.topic,
      remoteAddress: source.peer.remoteAddress,
      reasons: ['last will not published', ...reasons],
    });
    ctx.logger.warn({ clientId: source.clientId, willTopic: will.topic, reasons }, 'broker: last will not published');
  };
  try {
    const admission = await ctx.access.admit(source.peer);
    if (!admission.admitted) {
      record([`the certificate is no longer admitted: ${admission.refusal}: ${admission.reason}`]);
      return;
    }
    if (admission.principal.certificateId !== source.principal.certificateId || namespaceKey(admission.principal.scope) !== ns.key) {
      record([`certificate ${source.principal.certificateId} is no longer registered in this account`]);
      return;
    }
    // Thing policy variables as the registry has them now (the connection is gone: no event refreshed them).
    await source.auth.refresh?.();
    const refusal = willRefusal(ctx, source.auth, will.topic, will.retain);
    if (refusal !== undefined) {
      record(refusal);
      return;
    }
    if (discarded.happened) {
      record([`certificate ${source.principal.certificateId} was disconnected (revoked or no longer admitted) while the will was being authorized`]);
      return;
    }
    // Basic Ingest topics go to rules, never to subscribers (as a PUBLISH).
    if (isBasicIngest(will.topic)) return;
    const now = epochMs(ctx.clock);
    const message: BusMessage = { ...will, expiresAt: lastWill.expirySeconds !== undefined ? now + lastWill.expirySeconds * 1000 : undefined };
    if (message.retain) ns.retained.put(message);
    ctx.bus.publish(message);
  } catch (err) {
    ctx.logger.error({ err, clientId: source.clientId, willTopic: will.topic }, 'broker: last will failed');
  } finally {
    discarded.stop();
  }
}
