import type { IUnsubscribePacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { lifecycleEventsAllowed, subscriptionEvent } from '../lifecycle-events.js';
import { REASON_CODES } from '../reason-codes.js';

/** UNSUBSCRIBE → UNSUBACK [MQTT-3.10.4-4]; MQTT 5 says per filter whether a subscription existed. */
export function handleUnsubscribe(conn: Connection, packet: IUnsubscribePacket): void {
  const session = conn.session!;
  const removed: string[] = [];
  const codes: number[] = [];
  for (const raw of packet.unsubscriptions) {
    const existed = conn.ns.removeSubscription(session, raw);
    if (existed) removed.push(raw);
    codes.push(existed ? REASON_CODES.SUCCESS : REASON_CODES.NO_SUBSCRIPTION_EXISTED);
  }
  if (conn.protocolVersion === 5) conn.write({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: codes });
  else conn.write({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: [] });
  if (removed.length > 0 && lifecycleEventsAllowed(conn.clientId)) {
    conn.ctx.publishEvent(
      conn.ns,
      subscriptionEvent(
        'unsubscribed',
        { clientId: conn.clientId, timestamp: conn.now(), sessionIdentifier: conn.sessionIdentifier, principalIdentifier: conn.principal.certificateId },
        removed,
      ),
    );
  }
}
