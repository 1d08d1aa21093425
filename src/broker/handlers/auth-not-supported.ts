import type { Connection } from '../connection.js';
import { REASON_CODES } from '../reason-codes.js';

/** AUTH (MQTT 5 enhanced authentication): AWS IoT authenticates by certificate only → DISCONNECT 0x8C. */
export function handleAuth(conn: Connection): void {
  conn.terminate({
    reason: 'CLIENT_ERROR',
    v5Code: REASON_CODES.BAD_AUTHENTICATION_METHOD,
    publishWill: true,
    why: 'AUTH: enhanced authentication is not supported [MQTT-4.12.0-1]',
  });
}
