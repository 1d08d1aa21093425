import type { Packet } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { BROKER_LIMITS } from '../limits.js';
import { REASON_CODES } from '../reason-codes.js';
import { handleAuth } from './auth-not-supported.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handlePingreq } from './pingreq.js';
import { handlePuback } from './puback.js';
import { handlePublish } from './publish.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

/**
 * Routes each parsed packet to its handler. CONNECT must come first [MQTT-3.1.0-1] and only once
 * [MQTT-3.1.0-2]; packets that arrive while CONNECT is being authorized wait, in order.
 */
export function dispatch(conn: Connection, packet: Packet): void {
  if (conn.state === 'closed') return;
  if (conn.state === 'connecting') {
    if (conn.pending.length >= BROKER_LIMITS.maxPendingDuringConnect) {
      conn.terminate({ reason: 'CLIENT_ERROR', publishWill: false, why: 'too many packets before CONNACK' });
      return;
    }
    conn.pending.push(packet);
    return;
  }
  conn.touch();
  if (conn.state === 'awaiting-connect') {
    if (packet.cmd !== 'connect') {
      conn.terminate({ reason: 'CLIENT_ERROR', publishWill: false, why: `${packet.cmd} before CONNECT [MQTT-3.1.0-1]` });
      return;
    }
    handleConnect(conn, packet);
    return;
  }
  switch (packet.cmd) {
    case 'publish':
      return handlePublish(conn, packet);
    case 'puback':
      return handlePuback(conn, packet);
    case 'subscribe':
      return handleSubscribe(conn, packet);
    case 'unsubscribe':
      return handleUnsubscribe(conn, packet);
    case 'pingreq':
      return handlePingreq(conn);
    case 'disconnect':
      return handleDisconnect(conn, packet);
    case 'auth':
      return handleAuth(conn);
    case 'connect':
      return conn.terminate({ reason: 'CLIENT_ERROR', v5Code: REASON_CODES.PROTOCOL_ERROR, publishWill: true, why: 'second CONNECT [MQTT-3.1.0-2]' });
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return conn.terminate({ reason: 'CLIENT_ERROR', v5Code: REASON_CODES.QOS_NOT_SUPPORTED, publishWill: true, why: `${packet.cmd}: QoS 2 is not supported (AWS IoT Core)` });
    default:
      return conn.terminate({ reason: 'CLIENT_ERROR', v5Code: REASON_CODES.PROTOCOL_ERROR, publishWill: true, why: `${packet.cmd} is a server-to-client packet` });
  }
}

/** Handles the packets held back during CONNECT, now that the connection is set up. */
export function drainPending(conn: Connection): void {
  const held = conn.pending;
  conn.pending = [];
  for (const p of held) {
    if (conn.state !== 'connected') return;
    try {
      dispatch(conn, p);
    } catch (err) {
      // Run from CONNECT's promise callback, outside the parser's try/catch (connection.ts): handled the same way.
      conn.ctx.logger.error({ err, clientId: conn.clientId, cmd: p.cmd }, 'broker: handler failed');
      conn.terminate({ reason: 'SERVER_ERROR', v5Code: REASON_CODES.UNSPECIFIED_ERROR, publishWill: true, why: 'internal error' });
      return;
    }
  }
}
