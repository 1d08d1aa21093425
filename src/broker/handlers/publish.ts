import type { IPublishPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { BROKER_LIMITS } from '../limits.js';
import type { BusMessage, MessageProperties } from '../ports.js';
import { REASON_CODES } from '../reason-codes.js';
import { serveServiceRequest } from '../service-topics.js';
import { isBasicIngest, reservedPublishProblem } from '../topics/reserved-topics.js';
import { topicNameProblem } from '../topics/validate-topic.js';

/**
 * PUBLISH from a client (data-plane.md "Authorization points", "MQTT behaviour and limits"):
 * QoS 0/1 only; inbound topic aliases (v5); topic and payload limits; reserved `$` topics;
 * iot:Publish (+ iot:RetainPublish) — denied: v5 PUBACK 0x87 (QoS 1) or drop (QoS 0), 3.1.1 close
 * (disconnectReason FORBIDDEN_ACCESS); then retained store and routing through the MessageBus.
 */
export function handlePublish(conn: Connection, packet: IPublishPacket): void {
  const v5 = conn.protocolVersion === 5;
  if (packet.qos === 2) {
    // AWS sends no PUBACK for QoS 2; v5 CONNACK said Maximum QoS 1 → DISCONNECT 0x9B [MQTT-3.2.2-11].
    conn.terminate({ reason: 'CLIENT_ERROR', v5Code: REASON_CODES.QOS_NOT_SUPPORTED, publishWill: true, why: 'PUBLISH QoS 2 is not supported' });
    return;
  }
  let topic = packet.topic;
  const props = packet.properties;
  if (v5 && props?.topicAlias !== undefined) {
    const alias = props.topicAlias;
    if (alias === 0 || alias > BROKER_LIMITS.topicAliasMaximum) {
      conn.terminate({ reason: 'CLIENT_ERROR', v5Code: REASON_CODES.TOPIC_ALIAS_INVALID, publishWill: true, why: `topic alias ${alias} out of 1..${BROKER_LIMITS.topicAliasMaximum} [MQTT-3.3.2-9]` });
      return;
    }
    if (topic === '') {
      const known = conn.topicAliases.get(alias);
      if (known === undefined) {
        conn.terminate({ reason: 'CLIENT_ERROR', v5Code: REASON_CODES.PROTOCOL_ERROR, publishWill: true, why: `unknown topic alias ${alias} [MQTT-3.3.2-8]` });
        return;
      }
      topic = known;
    } else {
      conn.topicAliases.set(alias, topic);
    }
  }
  const topicProblem = topicNameProblem(topic);
  if (topicProblem !== undefined) {
    conn.terminate({ reason: 'CLIENT_ERROR', v5Code: REASON_CODES.TOPIC_NAME_INVALID, publishWill: true, why: topicProblem });
    return;
  }
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  if (payload.length > BROKER_LIMITS.maxPayloadBytes) {
    conn.terminate({
      reason: 'CLIENT_ERROR',
      v5Code: REASON_CODES.PACKET_TOO_LARGE,
      publishWill: true,
      why: `payload of ${payload.length} bytes exceeds 128 KiB (AWS IoT limit)`,
    });
    return;
  }
  const auth = conn.auth!;
  const services = conn.ctx.serviceTopics;
  const service = services?.classify(topic);
  const reserved = reservedPublishProblem(topic) ?? (service?.kind === 'forbidden' ? service.why : undefined);
  const decision = reserved === undefined ? auth.publish(topic, packet.retain) : undefined;
  if (decision === undefined || decision.effect !== 'Allow') {
    const reasons = decision === undefined ? [reserved!] : decision.reasons;
    conn.record('publish', 'denied', topic, reasons);
    if (v5) {
      if (packet.qos === 1 && packet.messageId !== undefined) conn.write({ cmd: 'puback', messageId: packet.messageId, reasonCode: REASON_CODES.NOT_AUTHORIZED });
      return;
    }
    conn.terminate({ reason: 'FORBIDDEN_ACCESS', publishWill: true, why: `iot:Publish denied on ${topic}`, denied: reasons });
    return;
  }

  if (services !== undefined && service?.kind === 'request') {
    // Answered by certgate on this connection only, never routed to subscribers (fleet-provision-api).
    if (packet.qos === 1 && packet.messageId !== undefined) conn.write({ cmd: 'puback', messageId: packet.messageId });
    serveServiceRequest(conn, services, topic, payload);
    return;
  }

  const now = conn.now();
  const properties: MessageProperties = v5 && props !== undefined ? passThrough(props) : {};
  const message: BusMessage = {
    namespace: conn.ns.key,
    topic,
    payload,
    qos: packet.qos,
    retain: packet.retain,
    properties,
    expiresAt: v5 && props?.messageExpiryInterval !== undefined ? now + props.messageExpiryInterval * 1000 : undefined,
    originClientId: conn.clientId,
  };
  if (!isBasicIngest(topic)) {
    // A retained message is stored (or cleared, empty payload) before fan-out [MQTT-3.3.1-5/10].
    if (packet.retain) conn.ns.retained.put(message);
    conn.ctx.bus.publish(message);
  }
  if (packet.qos === 1 && packet.messageId !== undefined) conn.write({ cmd: 'puback', messageId: packet.messageId });
}

function passThrough(p: NonNullable<IPublishPacket['properties']>): MessageProperties {
  return {
    ...(p.payloadFormatIndicator !== undefined ? { payloadFormatIndicator: p.payloadFormatIndicator } : {}),
    ...(p.contentType !== undefined ? { contentType: p.contentType } : {}),
    ...(p.responseTopic !== undefined ? { responseTopic: p.responseTopic } : {}),
    ...(p.correlationData !== undefined ? { correlationData: p.correlationData } : {}),
    ...(p.userProperties !== undefined ? { userProperties: p.userProperties } : {}),
  };
}
