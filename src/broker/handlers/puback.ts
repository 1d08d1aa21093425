import type { IPubackPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';

/** PUBACK for a message we sent at QoS 1: frees its window slot and sends the next queued one [MQTT-4.3.2]. */
export function handlePuback(conn: Connection, packet: IPubackPacket): void {
  const session = conn.session;
  if (session === undefined || packet.messageId === undefined) return;
  session.acknowledge(packet.messageId, conn.now());
}
