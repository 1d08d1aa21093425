import type { IDisconnectPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { BROKER_LIMITS } from '../limits.js';
import { REASON_CODES } from '../reason-codes.js';

/**
 * DISCONNECT from the client: a normal end discards the will [MQTT-3.14.4-3]; MQTT 5 reason 0x04
 * asks for it anyway; a Session Expiry Interval may be changed unless CONNECT set 0 [MQTT-3.14.2-2].
 */
export function handleDisconnect(conn: Connection, packet: IDisconnectPacket): void {
  const code = packet.reasonCode ?? 0;
  const expiry = packet.properties?.sessionExpiryInterval;
  if (conn.protocolVersion === 5 && expiry !== undefined) {
    if (conn.connectSessionExpiry === 0 && expiry !== 0) {
      conn.terminate({
        reason: 'CLIENT_ERROR',
        v5Code: REASON_CODES.PROTOCOL_ERROR,
        publishWill: true,
        why: 'DISCONNECT sets a session expiry after CONNECT set 0 [MQTT-3.14.2-2]',
      });
      return;
    }
    if (conn.session !== undefined) conn.session.expirySeconds = Math.min(expiry, BROKER_LIMITS.maxSessionExpirySeconds);
  }
  conn.terminate({
    reason: 'CLIENT_INITIATED_DISCONNECT',
    clientInitiated: true,
    publishWill: conn.protocolVersion === 5 && code === REASON_CODES.DISCONNECT_WITH_WILL,
    why: `DISCONNECT (reason 0x${code.toString(16).padStart(2, '0')})`,
  });
}
