import type { ConnectionAuthorization, ConnectionPeer } from '../../access/index.js';
import { BROKER_LIMITS } from '../limits.js';
import type { MessageProperties } from '../ports.js';

/**
 * One client's MQTT session in one namespace: its subscriptions, its outbound QoS 1 messages in flight
 * (sent, not yet PUBACKed) and queued (beyond the window, or while offline). Survives the connection
 * when persistent (clean session 0 / clean start 0 with a session expiry), [MQTT-3.1.2-4/5], [MQTT-4.4.0-1].
 */

export interface SubscriptionOptions {
  /** The filter as the client sent it (with `$share/<group>/` when shared). */
  readonly rawFilter: string;
  /** The matching part of the filter. */
  readonly filter: string;
  readonly shareGroup: string | undefined;
  readonly qos: 0 | 1;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: number;
}

export interface OutboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  readonly properties: MessageProperties;
  readonly expiresAt: number | undefined;
}

/** Where a session writes when its client is online (the connection). */
export interface SessionSink {
  /**
   * iot:Receive on this topic for the principal of this connection, asked now (a denial is recorded).
   * Every PUBLISH the session writes (live, queued, in flight again with DUP, retained) passes here first:
   * AWS checks iot:Receive "every time a message is delivered to a client".
   */
  mayReceive(topic: string): boolean;
  /** Write one PUBLISH; `packetId` for QoS 1. Returns false when the message was dropped (QoS 0, slow client). */
  writePublish(message: OutboundMessage, packetId: number | undefined, dup: boolean): boolean;
  /** Outbound QoS 1 window: min(client Receive Maximum, 100). */
  readonly receiveMaximum: number;
}

export class Session {
  readonly clientId: string;
  /**
   * The certificate that opened the session (the namespace is its account and region). Only that
   * certificate resumes it; another one starts clean (Namespace.openSession).
   */
  readonly ownerCertificateId: string;
  readonly subscriptions = new Map<string, SubscriptionOptions>();
  readonly inflight = new Map<number, OutboundMessage>();
  queue: OutboundMessage[] = [];
  /** Seconds the session outlives its connection; 0: it ends with the connection. */
  expirySeconds: number;
  sink: SessionSink | undefined = undefined;
  /** The latest connection's authorization: iot:Receive is asked at each delivery, also while offline. */
  authorization: ConnectionAuthorization | undefined = undefined;
  /** The TLS peer of the latest connection: the periodic re-check re-admits an offline session's owner with it. */
  ownerPeer: ConnectionPeer | undefined = undefined;
  expiryTimer: NodeJS.Timeout | undefined = undefined;
  droppedMessages = 0;
  #nextPacketId = 1;

  constructor(clientId: string, expirySeconds: number, ownerCertificateId: string) {
    this.clientId = clientId;
    this.ownerCertificateId = ownerCertificateId;
    this.expirySeconds = expirySeconds;
  }

  /** Deliver one message at its final QoS. `now` is epoch ms. */
  deliver(message: OutboundMessage, now: number): void {
    if (message.expiresAt !== undefined && message.expiresAt <= now) return;
    const sink = this.sink;
    if (message.qos === 0) {
      if (sink !== undefined && sink.mayReceive(message.topic)) sink.writePublish(message, undefined, false);
      return;
    }
    if (sink !== undefined && this.inflight.size < sink.receiveMaximum && this.queue.length === 0) {
      this.#send(sink, message);
      return;
    }
    if (this.queue.length >= BROKER_LIMITS.maxQueuedMessages) {
      this.queue.shift();
      this.droppedMessages++;
    }
    this.queue.push(message);
  }

  /** PUBACK received: frees a window slot and sends queued messages [MQTT-4.3.2-1]. */
  acknowledge(packetId: number, now: number): boolean {
    const known = this.inflight.delete(packetId);
    this.drain(now);
    return known;
  }

  /**
   * After reconnecting with session present: resend unacknowledged messages with DUP [MQTT-4.4.0-1], then
   * the queue. A message the connection may no longer receive is dropped from the session, not resent.
   */
  resume(now: number): void {
    const sink = this.sink;
    if (sink === undefined) return;
    for (const [id, m] of this.inflight) {
      if ((m.expiresAt !== undefined && m.expiresAt <= now) || !sink.mayReceive(m.topic)) {
        this.inflight.delete(id);
        continue;
      }
      sink.writePublish(m, id, true);
    }
    this.drain(now);
  }

  drain(now: number): void {
    const sink = this.sink;
    if (sink === undefined) return;
    while (this.queue.length > 0 && this.inflight.size < sink.receiveMaximum) {
      const m = this.queue.shift()!;
      if (m.expiresAt !== undefined && m.expiresAt <= now) continue;
      this.#send(sink, m);
    }
  }

  /** Sends one QoS 1 message if iot:Receive allows it now; a denied one leaves the session. */
  #send(sink: SessionSink, message: OutboundMessage): void {
    if (!sink.mayReceive(message.topic)) return;
    const id = this.#allocatePacketId();
    this.inflight.set(id, message);
    sink.writePublish(message, id, false);
  }

  #allocatePacketId(): number {
    for (let tries = 0; tries < 65535; tries++) {
      const id = this.#nextPacketId;
      this.#nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
    throw new Error('no free packet identifier');
  }
}
