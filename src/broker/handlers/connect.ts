import { randomUUID } from 'node:crypto';
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import type { ConnectionAuthorization } from '../../access/index.js';
import type { Connection } from '../connection.js';
import { connectedEvent, lifecycleEventsAllowed } from '../lifecycle-events.js';
import { BROKER_LIMITS, clampKeepAlive } from '../limits.js';
import type { BusMessage, MessageProperties } from '../ports.js';
import { REASON_CODES, V4_CONNACK } from '../reason-codes.js';
import { topicNameProblem } from '../topics/validate-topic.js';
import { readmissionPeer, willRefusal } from '../will.js';
import { drainPending } from './dispatch.js';

/**
 * CONNECT (data-plane.md "MQTT behaviour and limits"): protocol 4 or 5, AWS client-id rules, iot:Connect,
 * the will checked against iot:Publish, takeover of the same client id, keep-alive clamp, persistent
 * sessions with an honest session-present flag, MQTT 5 CONNACK properties.
 */
export function handleConnect(conn: Connection, packet: IConnectPacket): void {
  const version = packet.protocolVersion ?? 4;
  if (version === 5) {
    conn.protocolVersion = 5;
    // Later packets of this connection are parsed as MQTT 5; set synchronously, before the next packet is read.
    (conn.parser as unknown as { settings: { protocolVersion: number } }).settings.protocolVersion = 5;
  } else if (version !== 4) {
    // MQTT 3.1 (MQIsdp): AWS speaks 3.1.1 and 5 only [MQTT-3.1.2-2].
    connackRefusal(conn, V4_CONNACK.UNACCEPTABLE_PROTOCOL_VERSION, REASON_CODES.UNSUPPORTED_PROTOCOL_VERSION, `protocol level ${version} is not supported`);
    return;
  }
  if (version === 5 && packet.properties?.authenticationMethod !== undefined) {
    connackRefusal(conn, V4_CONNACK.NOT_AUTHORIZED, REASON_CODES.BAD_AUTHENTICATION_METHOD, 'enhanced authentication is not supported');
    return;
  }
  // MQTT 5 with an empty client id: the server assigns one and returns it in CONNACK (Assigned Client
  // Identifier), as AWS IoT does [MQTT-3.1.3-6, MQTT-3.2.2-16]. MQTT 3.1.1 still needs one.
  const assigned = version === 5 && packet.clientId.length === 0;
  const clientId = assigned ? `certgate-${randomUUID()}` : packet.clientId;
  const idProblem =
    clientId.length === 0
      ? 'empty client id (MQTT 3.1.1: AWS IoT requires one)'
      : Buffer.byteLength(clientId, 'utf8') > BROKER_LIMITS.maxClientIdBytes
        ? `client id longer than ${BROKER_LIMITS.maxClientIdBytes} bytes`
        : clientId.startsWith('$')
          ? 'client ids starting with $ are reserved'
          : undefined;
  if (idProblem !== undefined) {
    connackRefusal(conn, V4_CONNACK.IDENTIFIER_REJECTED, REASON_CODES.CLIENT_IDENTIFIER_NOT_VALID, idProblem);
    return;
  }
  const will = packet.will;
  if (will !== undefined) {
    const why = topicNameProblem(will.topic);
    if (why !== undefined) {
      connackRefusal(conn, undefined, REASON_CODES.TOPIC_NAME_INVALID, `will topic: ${why}`);
      return;
    }
    const willBytes = Buffer.isBuffer(will.payload) ? will.payload.length : Buffer.byteLength(will.payload);
    if (willBytes > BROKER_LIMITS.maxPayloadBytes) {
      connackRefusal(conn, undefined, REASON_CODES.PACKET_TOO_LARGE, `will payload of ${willBytes} bytes exceeds 128 KiB (AWS IoT limit)`);
      return;
    }
    if ((will.qos ?? 0) > 1) {
      connackRefusal(conn, undefined, REASON_CODES.QOS_NOT_SUPPORTED, 'will QoS 2 is not supported');
      return;
    }
  }
  conn.clientId = clientId;
  conn.state = 'connecting';
  const cleanStart = packet.clean !== false;
  conn.ctx.access
    .authorize(conn.principal, { clientId, cleanStart, hasWill: will !== undefined, protocolVersion: version }, conn.peer)
    .then(
      (auth) => {
        if (conn.state !== 'connecting') return;
        try {
          accept(conn, packet, auth, cleanStart, assigned);
        } catch (err) {
          // Inside a promise callback: uncaught, this would be an unhandled rejection, which ends Node.
          conn.ctx.logger.error({ err, clientId }, 'broker: accepting CONNECT failed');
          if ((conn.state as string) === 'connecting') {
            connackRefusal(conn, V4_CONNACK.SERVER_UNAVAILABLE, REASON_CODES.UNSPECIFIED_ERROR, 'internal error while accepting CONNECT', 'SERVER_ERROR');
          } else {
            conn.terminate({ reason: 'SERVER_ERROR', v5Code: REASON_CODES.UNSPECIFIED_ERROR, publishWill: true, why: 'internal error after CONNECT' });
          }
        }
      },
      (err: unknown) => {
        conn.ctx.logger.error({ err, clientId }, 'broker: authorization failed');
        if (conn.state !== 'connecting') return;
        connackRefusal(conn, V4_CONNACK.SERVER_UNAVAILABLE, REASON_CODES.UNSPECIFIED_ERROR, 'authorization failed', 'SERVER_ERROR');
      },
    );
}

function accept(conn: Connection, packet: IConnectPacket, auth: ConnectionAuthorization, cleanStart: boolean, assignedClientId: boolean): void {
  const clientId = conn.clientId;
  const decision = auth.connect();
  if (decision.effect !== 'Allow') {
    conn.record('connect', 'denied', `client/${clientId}`, decision.reasons);
    // Denied: 3.1.1 closes without CONNACK, MQTT 5 answers 0x87 (data-plane.md "Authenticating the device").
    connackRefusal(conn, undefined, REASON_CODES.NOT_AUTHORIZED, 'iot:Connect denied', 'AUTH_ERROR', decision.reasons);
    return;
  }
  conn.record('connect', 'allowed', `client/${clientId}`, decision.reasons);
  conn.auth = auth;
  if (conn.thingValuesChanged && auth.refresh !== undefined) {
    // The registry changed thing values while this CONNECT read them (broker refreshThingValues).
    conn.thingValuesChanged = false;
    auth.refresh().catch((err: unknown) => conn.ctx.logger.error({ err, clientId }, 'broker: refreshing thing policy variables failed'));
  }
  const now = conn.now();
  const v5 = conn.protocolVersion === 5;
  const props = packet.properties;

  // The will, checked now with iot:Publish (+ iot:RetainPublish) on its topic, and again when it is published (will.ts).
  conn.will = undefined;
  const will = packet.will;
  if (will !== undefined) {
    const reasons = willRefusal(conn.ctx, auth, will.topic, will.retain === true);
    if (reasons !== undefined) {
      conn.record('publish', 'denied', will.topic, ['last will refused: it will not be published', ...reasons]);
      conn.ctx.logger.warn({ clientId, willTopic: will.topic, reasons }, 'broker: last will not authorized');
    } else {
      const wp = will.properties;
      const properties: MessageProperties = {
        ...(wp?.payloadFormatIndicator !== undefined ? { payloadFormatIndicator: wp.payloadFormatIndicator } : {}),
        ...(wp?.contentType !== undefined ? { contentType: wp.contentType } : {}),
        ...(wp?.responseTopic !== undefined ? { responseTopic: wp.responseTopic } : {}),
        ...(wp?.correlationData !== undefined ? { correlationData: wp.correlationData } : {}),
        ...(wp?.userProperties !== undefined ? { userProperties: wp.userProperties } : {}),
      };
      const message: BusMessage = {
        namespace: conn.ns.key,
        topic: will.topic,
        payload: Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload),
        qos: will.qos === 1 ? 1 : 0,
        retain: will.retain === true,
        properties,
        expiresAt: undefined,
        originClientId: clientId,
      };
      // Its Message Expiry Interval runs from when it is published (MQTT 5 §3.1.3.2.4), counted in will.ts.
      conn.will = { message, expirySeconds: wp?.messageExpiryInterval };
      conn.willDelaySeconds = wp?.willDelayInterval ?? 0;
    }
  }

  // Takeover: the older connection with this client id is closed first [MQTT-3.1.4-3].
  const previous = conn.ns.online.get(clientId);
  if (previous !== undefined && previous !== conn) void previous.takeOver();

  // Session: clean start discards; otherwise resume [MQTT-3.1.2-4..6].
  const requestedExpiry = v5 ? (props?.sessionExpiryInterval ?? 0) : cleanStart ? 0 : BROKER_LIMITS.defaultSessionExpirySeconds;
  const expiry = Math.min(requestedExpiry, BROKER_LIMITS.maxSessionExpirySeconds);
  conn.connectSessionExpiry = expiry;
  const opened = conn.ns.openSession(clientId, conn.principal.certificateId, cleanStart, expiry);
  const session = opened.session;
  const sessionPresent = opened.present;
  // A will waiting out its Will Delay Interval: dropped only when this CONNECT resumes its session; when the
  // session ended (clean start, or another certificate starting clean) it is due now [MQTT-3.1.3-9],
  // authorized as any will when published (will.ts).
  const pendingWill = conn.ns.takePendingWill(clientId);
  if (pendingWill !== undefined && !sessionPresent) conn.ctx.publishWill(conn.ns, pendingWill.source, pendingWill.will);
  if (opened.tookFromAnotherCertificate) {
    // Not a denial of this connection: the earlier session (another certificate's) was set aside.
    conn.record('connect', 'allowed', `client/${clientId}`, [
      'the persistent session of this client id was opened by another certificate: it was discarded and a clean session started (session present 0)',
    ]);
  }
  conn.session = session;
  session.authorization = auth;
  // Only what re-admission needs: an offline session may be kept for days (issue 10 review #8).
  session.ownerPeer = readmissionPeer(conn.peer);
  if (v5 && props?.receiveMaximum !== undefined) conn.receiveMaximum = Math.min(props.receiveMaximum, BROKER_LIMITS.maxInflightQos1);
  if (v5 && props?.maximumPacketSize !== undefined) conn.clientMaximumPacketSize = props.maximumPacketSize;
  session.sink = conn;
  conn.ns.online.set(clientId, conn);

  const requestedKeepAlive = packet.keepalive ?? 0;
  const keepAlive = clampKeepAlive(requestedKeepAlive);
  conn.startKeepAlive(keepAlive);

  const connack: IConnackPacket = { cmd: 'connack', sessionPresent };
  if (v5) {
    connack.reasonCode = REASON_CODES.SUCCESS;
    connack.properties = {
      maximumQoS: 1,
      retainAvailable: true,
      maximumPacketSize: BROKER_LIMITS.maxPacketBytes,
      topicAliasMaximum: BROKER_LIMITS.topicAliasMaximum,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: false,
      sharedSubscriptionAvailable: true,
      receiveMaximum: BROKER_LIMITS.maxInflightQos1,
      ...(assignedClientId ? { assignedClientIdentifier: clientId } : {}),
      ...(keepAlive !== requestedKeepAlive ? { serverKeepAlive: keepAlive } : {}),
      ...(expiry !== requestedExpiry ? { sessionExpiryInterval: expiry } : {}),
    };
  } else {
    connack.returnCode = V4_CONNACK.ACCEPTED;
  }
  conn.write(connack);
  conn.connackSent = true;
  conn.state = 'connected';
  conn.versionNumber = conn.ns.nextVersion();
  if (lifecycleEventsAllowed(clientId)) {
    conn.ctx.publishEvent(
      conn.ns,
      connectedEvent(
        {
          clientId,
          timestamp: now,
          sessionIdentifier: conn.sessionIdentifier,
          principalIdentifier: conn.principal.certificateId,
          versionNumber: conn.versionNumber,
        },
        conn.peer.remoteAddress,
      ),
    );
  }
  if (sessionPresent) session.resume(now);
  drainPending(conn);
}

/**
 * Refuses a CONNECT: MQTT 5 gets a CONNACK with `v5Code`; MQTT 3.1.1 gets `v4Code`, or no CONNACK at all
 * when `v4Code` is undefined (a denied iot:Connect closes silently, like AWS).
 */
function connackRefusal(
  conn: Connection,
  v4Code: number | undefined,
  v5Code: number,
  why: string,
  reason: 'CLIENT_ERROR' | 'AUTH_ERROR' | 'SERVER_ERROR' = 'CLIENT_ERROR',
  denied?: readonly string[],
): void {
  if (conn.protocolVersion === 5) conn.write({ cmd: 'connack', sessionPresent: false, reasonCode: v5Code });
  else if (v4Code !== undefined) conn.write({ cmd: 'connack', sessionPresent: false, returnCode: v4Code });
  conn.terminate({ reason, publishWill: false, why, ...(denied !== undefined ? { denied } : {}) });
}
