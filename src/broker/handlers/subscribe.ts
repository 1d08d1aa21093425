import type { ISubscribePacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { subscriptionEvent, lifecycleEventsAllowed } from '../lifecycle-events.js';
import { BROKER_LIMITS } from '../limits.js';
import { REASON_CODES, V4_SUBACK_FAILURE } from '../reason-codes.js';
import { receiveAllowed } from '../route-message.js';
import type { SubscriptionOptions } from '../session/session.js';
import { parseFilter } from '../topics/validate-topic.js';

/**
 * SUBSCRIBE (data-plane.md): ≤ 8 filters, each validated and authorized with iot:Subscribe on
 * topicfilter/<filter> (denied → 0x80 on 3.1.1, 0x87 on 5, for that filter only); QoS 2 → granted 1;
 * ≤ 50 subscriptions per connection; `$share/<group>/<filter>`; retained messages per Retain Handling.
 */
export function handleSubscribe(conn: Connection, packet: ISubscribePacket): void {
  const v5 = conn.protocolVersion === 5;
  if (v5 && packet.properties?.subscriptionIdentifier !== undefined) {
    conn.terminate({
      reason: 'CLIENT_ERROR',
      v5Code: REASON_CODES.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
      publishWill: true,
      why: 'subscription identifiers are not supported (AWS IoT), CONNACK said so (MQTT 5 §3.2.2.3.12)',
    });
    return;
  }
  const session = conn.session!;
  const auth = conn.auth!;
  const ns = conn.ns;
  const tooMany = packet.subscriptions.length > BROKER_LIMITS.maxFiltersPerSubscribe;
  const granted: number[] = [];
  const added: { options: SubscriptionOptions; existed: boolean }[] = [];
  for (const sub of packet.subscriptions) {
    const raw = sub.topic;
    if (tooMany) {
      conn.record('subscribe', 'denied', raw, [`more than ${BROKER_LIMITS.maxFiltersPerSubscribe} filters in one SUBSCRIBE (AWS IoT limit)`]);
      granted.push(v5 ? REASON_CODES.QUOTA_EXCEEDED : V4_SUBACK_FAILURE);
      continue;
    }
    const parsed = parseFilter(raw);
    if (!parsed.ok) {
      conn.record('subscribe', 'denied', raw, [parsed.why]);
      granted.push(v5 ? REASON_CODES.TOPIC_FILTER_INVALID : V4_SUBACK_FAILURE);
      continue;
    }
    if (v5 && parsed.value.shareGroup !== undefined && sub.nl === true) {
      // No Local on a shared subscription is a protocol error [MQTT-3.8.3-4]: refuse that filter.
      conn.record('subscribe', 'denied', raw, ['No Local on a shared subscription [MQTT-3.8.3-4]']);
      granted.push(REASON_CODES.TOPIC_FILTER_INVALID);
      continue;
    }
    const decision = auth.subscribe(raw);
    if (decision.effect !== 'Allow') {
      conn.record('subscribe', 'denied', raw, decision.reasons);
      granted.push(v5 ? REASON_CODES.NOT_AUTHORIZED : V4_SUBACK_FAILURE);
      continue;
    }
    const existed = session.subscriptions.has(raw);
    if (!existed && session.subscriptions.size >= BROKER_LIMITS.maxSubscriptionsPerConnection) {
      conn.record('subscribe', 'denied', raw, [`more than ${BROKER_LIMITS.maxSubscriptionsPerConnection} subscriptions per connection (AWS IoT limit)`]);
      granted.push(v5 ? REASON_CODES.QUOTA_EXCEEDED : V4_SUBACK_FAILURE);
      continue;
    }
    // QoS 2 is granted as 1: AWS IoT's maximum; a server may grant less than asked.
    const qos: 0 | 1 = sub.qos === 0 ? 0 : 1;
    const options: SubscriptionOptions = {
      rawFilter: raw,
      filter: parsed.value.filter,
      shareGroup: parsed.value.shareGroup,
      qos,
      noLocal: v5 && sub.nl === true,
      retainAsPublished: v5 && sub.rap === true,
      retainHandling: v5 ? (sub.rh ?? 0) : 0,
    };
    ns.addSubscription(session, options);
    added.push({ options, existed });
    granted.push(qos);
  }
  conn.write({ cmd: 'suback', messageId: packet.messageId ?? 0, granted });

  const now = conn.now();
  // Retained messages after the SUBACK [MQTT-3.3.1-9]: not for shared subscriptions [MQTT-4.8.2], per Retain Handling [MQTT-3.3.1-9..11].
  for (const { options, existed } of added) {
    if (options.shareGroup !== undefined) continue;
    if (options.retainHandling === 2 || (options.retainHandling === 1 && existed)) continue;
    for (const m of ns.retained.matching(options.filter, now)) {
      if (!receiveAllowed(ns, session, m.topic, conn.ctx.accessLog, now)) continue;
      session.deliver(
        { topic: m.topic, payload: m.payload, qos: Math.min(m.qos, options.qos) as 0 | 1, retain: true, properties: m.properties, expiresAt: m.expiresAt },
        now,
      );
    }
  }
  if (added.length > 0 && lifecycleEventsAllowed(conn.clientId)) {
    conn.ctx.publishEvent(
      ns,
      subscriptionEvent(
        'subscribed',
        { clientId: conn.clientId, timestamp: now, sessionIdentifier: conn.sessionIdentifier, principalIdentifier: conn.principal.certificateId },
        added.map((a) => a.options.rawFilter),
      ),
    );
  }
}
