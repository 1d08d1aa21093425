import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import mqtt from 'mqtt-packet';
import type { Packet, IPublishPacket } from 'mqtt-packet';
import type { AccessRecord, ConnectionAuthorization, ConnectionPeer, DevicePrincipal } from '../access/index.js';
import { epochMs } from '../kernel/index.js';
import type { BrokerContext } from './broker-context.js';
import { dispatch } from './handlers/dispatch.js';
import { disconnectedEvent, lifecycleEventsAllowed } from './lifecycle-events.js';
import { BROKER_LIMITS } from './limits.js';
import type { Namespace, OnlineClient } from './namespace.js';
import { REASON_CODES } from './reason-codes.js';
import { receiveAllowed } from './route-message.js';
import { readmissionPeer } from './will.js';
import type { LastWill, WillSource } from './will.js';
import type { DisconnectReason } from './reason-codes.js';
import type { OutboundMessage, Session, SessionSink } from './session/session.js';

/**
 * One admitted MQTT connection: the parser, the write side, timers and the close path. Handlers
 * (handlers/) change its state; everything that ends it goes through `terminate`, once.
 */

export type ConnectionState = 'awaiting-connect' | 'connecting' | 'connected' | 'closed';

export interface TerminateOptions {
  readonly reason: DisconnectReason;
  /** MQTT 5 DISCONNECT reason code to send first (only once CONNACK went out). */
  readonly v5Code?: number;
  readonly clientInitiated?: boolean;
  /** Ungraceful end: the will is published [MQTT-3.1.2-8]. */
  readonly publishWill: boolean;
  /** Why, for the log. */
  readonly why: string;
  /** When set, the close is recorded as a denied 'disconnect' AccessRecord with these reasons. */
  readonly denied?: readonly string[];
}

export class Connection implements SessionSink, OnlineClient {
  readonly ctx: BrokerContext;
  readonly stream: Duplex;
  readonly peer: ConnectionPeer;
  readonly principal: DevicePrincipal;
  readonly ns: Namespace;
  readonly parser = mqtt.parser({ protocolVersion: 4 });
  readonly sessionIdentifier = randomUUID();
  readonly closed: Promise<void>;
  state: ConnectionState = 'awaiting-connect';
  protocolVersion: 4 | 5 = 4;
  /** Packets that arrived while CONNECT was being authorized, handled in order afterwards. */
  pending: Packet[] = [];
  clientId = '';
  session: Session | undefined = undefined;
  auth: ConnectionAuthorization | undefined = undefined;
  /** A registry event changed thing values while CONNECT was being authorized: refresh once set up. */
  thingValuesChanged = false;
  will: LastWill | undefined = undefined;
  willDelaySeconds = 0;
  /** Session expiry from CONNECT; 0 forbids a non-zero value at DISCONNECT [MQTT-3.14.2-2]. */
  connectSessionExpiry = 0;
  receiveMaximum: number = BROKER_LIMITS.maxInflightQos1;
  clientMaximumPacketSize: number | undefined = undefined;
  /** Inbound topic aliases (MQTT 5 §3.3.2.3.4). */
  readonly topicAliases = new Map<number, string>();
  versionNumber = 0;
  connackSent = false;
  #keepAliveTimer: NodeJS.Timeout | undefined;
  #keepAliveMs = 0;
  #lastActivity = 0;
  #connectTimer: NodeJS.Timeout | undefined;
  #resolveClosed!: () => void;
  #streamClosed = false;

  constructor(ctx: BrokerContext, stream: Duplex, peer: ConnectionPeer, principal: DevicePrincipal) {
    this.ctx = ctx;
    this.stream = stream;
    this.peer = peer;
    this.principal = principal;
    this.ns = ctx.namespace(principal.scope);
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  start(): void {
    this.ctx.connections.add(this);
    this.parser.on('packet', (packet: Packet) => {
      try {
        dispatch(this, packet);
      } catch (err) {
        this.ctx.logger.error({ err, clientId: this.clientId, cmd: packet.cmd }, 'broker: handler failed');
        this.terminate({ reason: 'SERVER_ERROR', v5Code: REASON_CODES.UNSPECIFIED_ERROR, publishWill: true, why: 'internal error' });
      }
    });
    this.parser.on('error', (err: unknown) => {
      this.terminate({
        reason: 'CLIENT_ERROR',
        v5Code: REASON_CODES.MALFORMED_PACKET,
        publishWill: true,
        why: `malformed packet: ${err instanceof Error ? err.message : String(err)}`,
      });
    });
    this.stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.stream.on('close', () => {
      this.#streamClosed = true;
      this.terminate({ reason: 'CONNECTION_LOST', publishWill: true, why: 'connection closed by peer' });
      this.#resolveClosed();
    });
    this.stream.on('end', () => {
      this.terminate({ reason: 'CONNECTION_LOST', publishWill: true, why: 'connection ended by peer' });
    });
    this.#connectTimer = setTimeout(() => {
      this.terminate({ reason: 'CLIENT_ERROR', publishWill: false, why: 'no CONNECT in time' });
    }, BROKER_LIMITS.connectWaitMs);
    this.#connectTimer.unref();
    if (this.stream.destroyed) {
      this.#streamClosed = true;
      this.terminate({ reason: 'CONNECTION_LOST', publishWill: false, why: 'closed during admission' });
      this.#resolveClosed();
    }
  }

  #onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    try {
      this.parser.parse(chunk);
    } catch (err) {
      this.terminate({
        reason: 'CLIENT_ERROR',
        v5Code: REASON_CODES.MALFORMED_PACKET,
        publishWill: true,
        why: `unparseable input: ${err instanceof Error ? err.message : String(err)}`,
      });
      return;
    }
    // The packet being read announces its length before its body arrives: refuse to buffer an oversize one.
    const announced = (this.parser as unknown as { packet?: { length?: number } }).packet?.length ?? -1;
    if ((this.state as ConnectionState) !== 'closed' && announced > BROKER_LIMITS.maxPacketBytes) {
      this.terminate({
        reason: 'CLIENT_ERROR',
        v5Code: REASON_CODES.PACKET_TOO_LARGE,
        publishWill: true,
        why: `packet of ${announced} bytes exceeds ${BROKER_LIMITS.maxPacketBytes} (AWS payload limit 128 KiB)`,
      });
    }
  }

  /** Any packet from the client counts as activity for the keep-alive [MQTT-3.1.2-24]: a timestamp, no timer work. */
  touch(): void {
    this.#lastActivity = this.now();
  }

  /** The connection ends after 1.5 × keep-alive without a packet [MQTT-3.1.2-24]; idle time is read from the Clock. */
  startKeepAlive(seconds: number): void {
    if (this.#connectTimer !== undefined) clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#keepAliveMs = seconds * BROKER_LIMITS.keepAliveGraceFactor * 1000;
    this.#lastActivity = this.now();
    this.#armKeepAlive(this.#keepAliveMs);
  }

  #armKeepAlive(ms: number): void {
    this.#keepAliveTimer = setTimeout(() => {
      if (this.state === 'closed') return;
      const idle = this.now() - this.#lastActivity;
      if (idle < this.#keepAliveMs) {
        this.#armKeepAlive(this.#keepAliveMs - idle);
        return;
      }
      this.terminate({
        reason: 'MQTT_KEEP_ALIVE_TIMEOUT',
        v5Code: REASON_CODES.KEEP_ALIVE_TIMEOUT,
        publishWill: true,
        why: `no packet within ${BROKER_LIMITS.keepAliveGraceFactor} × keep-alive (${this.#keepAliveMs / 1000}s)`,
      });
    }, ms);
    this.#keepAliveTimer.unref();
  }

  now(): number {
    return epochMs(this.ctx.clock);
  }

  /**
   * Encodes and writes one packet with this connection's protocol version. Packets written in one tick
   * of the event loop leave together (the stream is corked until the next tick): profiled, one TLS
   * write per PUBACK/PUBLISH cost a quarter of a QoS 1 delivery in syscalls. `end()` flushes.
   */
  write(packet: Packet): boolean {
    if (this.#streamClosed || this.stream.destroyed || !this.stream.writable) return false;
    let buf: Buffer;
    try {
      buf = mqtt.generate(packet, { protocolVersion: this.protocolVersion });
    } catch (err) {
      // An unencodable packet (e.g. odd properties passed through) is dropped, never thrown into routing.
      this.ctx.logger.error({ err, clientId: this.clientId, cmd: packet.cmd }, 'broker: packet not encodable');
      return false;
    }
    if (!this.#corked) {
      this.#corked = true;
      this.stream.cork();
      process.nextTick(this.#uncork);
    }
    return this.stream.write(buf);
  }

  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.stream.uncork();
  };

  writePublish(message: OutboundMessage, packetId: number | undefined, dup: boolean): boolean {
    if (this.state !== 'connected' && this.state !== 'connecting') return false;
    if (message.qos === 0 && this.stream.writableLength > BROKER_LIMITS.maxWriteBufferBytes) return false;
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic: message.topic,
      payload: message.payload,
      qos: message.qos,
      retain: message.retain,
      dup,
    };
    if (packetId !== undefined) packet.messageId = packetId;
    if (this.protocolVersion === 5) {
      const p: NonNullable<IPublishPacket['properties']> = {};
      const mp = message.properties;
      if (mp.payloadFormatIndicator !== undefined) p.payloadFormatIndicator = mp.payloadFormatIndicator;
      if (mp.contentType !== undefined) p.contentType = mp.contentType;
      if (mp.responseTopic !== undefined) p.responseTopic = mp.responseTopic;
      if (mp.correlationData !== undefined) p.correlationData = mp.correlationData;
      if (mp.userProperties !== undefined) p.userProperties = { ...mp.userProperties };
      // The receiver sees the time left [MQTT-3.3.2-6].
      if (message.expiresAt !== undefined) p.messageExpiryInterval = Math.max(1, Math.ceil((message.expiresAt - this.now()) / 1000));
      if (Object.keys(p).length > 0) packet.properties = p;
    }
    if (this.clientMaximumPacketSize !== undefined) {
      // Larger than the client accepts: discarded as if sent [MQTT-3.1.2-25].
      if (mqtt.generate(packet, { protocolVersion: this.protocolVersion }).length > this.clientMaximumPacketSize) return false;
    }
    return this.write(packet);
  }

  /** iot:Receive for this connection's principal, asked as the PUBLISH goes out (SessionSink). */
  mayReceive(topic: string): boolean {
    const session = this.session;
    if (session === undefined || this.auth === undefined) return false;
    return receiveAllowed(this.ns, session, topic, this.ctx.accessLog, this.now());
  }

  takeOver(): Promise<void> {
    this.terminate({
      reason: 'DUPLICATE_CLIENTID',
      v5Code: REASON_CODES.SESSION_TAKEN_OVER,
      publishWill: true,
      why: 'another connection took this client id over [MQTT-3.1.4-3]',
    });
    return this.closed;
  }

  record(kind: AccessRecord['kind'], outcome: AccessRecord['outcome'], resource: string | undefined, reasons: readonly string[]): void {
    this.ctx.record({
      kind,
      outcome,
      accountId: this.principal.scope.accountId,
      region: this.principal.scope.region,
      certificateId: this.principal.certificateId,
      ...(this.clientId !== '' ? { clientId: this.clientId } : {}),
      ...(resource !== undefined ? { resource } : {}),
      remoteAddress: this.peer.remoteAddress,
      reasons,
    });
  }

  /**
   * Ends the connection once: optional v5 DISCONNECT, then the session is detached (kept when
   * persistent, else discarded), the will published if the end is ungraceful, the disconnected
   * lifecycle event sent. Synchronous, so a takeover sees the old session already released.
   */
  terminate(o: TerminateOptions): void {
    if (this.state === 'closed') return;
    const wasConnected = this.connackSent && this.session !== undefined;
    this.state = 'closed';
    if (this.#keepAliveTimer !== undefined) clearTimeout(this.#keepAliveTimer);
    if (this.#connectTimer !== undefined) clearTimeout(this.#connectTimer);
    this.pending = [];
    this.parser.removeAllListeners('packet');
    if (o.v5Code !== undefined && this.protocolVersion === 5 && this.connackSent) {
      try {
        this.write({ cmd: 'disconnect', reasonCode: o.v5Code });
      } catch {
        // The socket may already be gone.
      }
    }
    this.#closeStream();
    const quiet = o.reason === 'CLIENT_INITIATED_DISCONNECT' || o.reason === 'CONNECTION_LOST';
    const fields = {
      clientId: this.clientId,
      certificateId: this.principal.certificateId,
      accountId: this.principal.scope.accountId,
      region: this.principal.scope.region,
      remoteAddress: this.peer.remoteAddress,
      disconnectReason: o.reason,
      why: o.why,
    };
    if (quiet) this.ctx.logger.debug(fields, 'broker: connection closed');
    else this.ctx.logger.warn(fields, 'broker: connection closed');
    if (o.denied !== undefined) this.record('disconnect', 'denied', this.clientId !== '' ? `client/${this.clientId}` : undefined, [o.why, ...o.denied]);
    this.ctx.connections.delete(this);

    const session = this.session;
    if (session !== undefined && session.sink === this) {
      session.sink = undefined;
      if (this.ns.online.get(this.clientId) === this) this.ns.online.delete(this.clientId);
      if (o.publishWill && this.will !== undefined) this.#publishWill(session, this.will);
      if (session.expirySeconds === 0) this.ns.discardSession(session);
      else {
        const ns = this.ns;
        session.expiryTimer = setTimeout(() => {
          if (session.sink === undefined) ns.discardSession(session);
        }, session.expirySeconds * 1000);
        session.expiryTimer.unref();
      }
    }
    if (wasConnected && lifecycleEventsAllowed(this.clientId)) {
      this.ctx.publishEvent(
        this.ns,
        disconnectedEvent(
          {
            clientId: this.clientId,
            timestamp: this.now(),
            sessionIdentifier: this.sessionIdentifier,
            principalIdentifier: this.principal.certificateId,
            versionNumber: this.versionNumber,
          },
          o.clientInitiated === true,
          o.reason,
        ),
      );
    }
    if (this.#streamClosed) this.#resolveClosed();
  }

  /**
   * Will Delay Interval (v5): held back while the session may still be resumed [MQTT-3.1.3-9]. Either way
   * the will is authorized when it is published (will.ts), not only at CONNECT.
   */
  #publishWill(session: Session, will: LastWill): void {
    const delay = Math.min(this.willDelaySeconds, session.expirySeconds);
    const ns = this.ns;
    const ctx = this.ctx;
    const auth = this.auth;
    if (auth === undefined) return;
    const source: WillSource = { principal: this.principal, peer: readmissionPeer(this.peer), auth, clientId: this.clientId };
    if (delay <= 0) {
      ctx.publishWill(ns, source, will);
      return;
    }
    const timer = setTimeout(() => {
      if (ns.pendingWills.get(session.clientId)?.timer === timer) ns.pendingWills.delete(session.clientId);
      ctx.publishWill(ns, source, will);
    }, delay * 1000);
    timer.unref();
    ns.pendingWills.set(session.clientId, { timer, certificateId: this.principal.certificateId, source, will });
  }

  #closeStream(): void {
    const stream = this.stream;
    if (stream.destroyed) return;
    stream.end();
    const t = setTimeout(() => stream.destroy(), 2000);
    t.unref();
    stream.once('close', () => clearTimeout(t));
  }
}
