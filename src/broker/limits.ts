/**
 * AWS IoT Core's MQTT limits as certgate enforces them (data-plane.md "MQTT behaviour and limits";
 * AWS IoT Core quotas page: message broker and protocol limits). One table, read by the handlers.
 */
export const BROKER_LIMITS = {
  /** Publish payload: 128 KiB. Larger → v5 DISCONNECT 0x95 / close. */
  maxPayloadBytes: 128 * 1024,
  /** Whole packet: the payload limit plus room for topic and MQTT 5 properties. */
  maxPacketBytes: 128 * 1024 + 16 * 1024,
  /** Topic and topic filter length in bytes of UTF-8. */
  maxTopicBytes: 256,
  /** Slashes in a topic or filter, the `$aws/rules/<rule>/` prefix excepted. */
  maxTopicSlashes: 7,
  maxClientIdBytes: 128,
  /** Keep-alive clamp: below the minimum → minimum; 0 or above the maximum → maximum. */
  minKeepAliveSeconds: 30,
  maxKeepAliveSeconds: 1200,
  /** The connection ends after this factor × keep-alive without a packet [MQTT-3.1.2-24]. */
  keepAliveGraceFactor: 1.5,
  maxFiltersPerSubscribe: 8,
  maxSubscriptionsPerConnection: 50,
  /** Unacknowledged outbound QoS 1 messages per client. */
  maxInflightQos1: 100,
  /** Session expiry: AWS default 1 h, maximum 7 days. */
  defaultSessionExpirySeconds: 3600,
  maxSessionExpirySeconds: 7 * 24 * 3600,
  /** QoS 1 messages queued for a client beyond its in-flight window (online or offline); oldest dropped. */
  maxQueuedMessages: 1000,
  /** Inbound topic aliases a v5 client may use (CONNACK Topic Alias Maximum). */
  topicAliasMaximum: 8,
  /** How long a refused connection may take to send its CONNECT before it is simply closed. */
  refusalConnectWaitMs: 5000,
  /** Time allowed between the TCP/TLS stream and its CONNECT. */
  connectWaitMs: 20_000,
  /** Packets a client may send while its CONNECT is being authorized. */
  maxPendingDuringConnect: 1000,
  /** Outbound bytes buffered for a slow client above which QoS 0 deliveries are dropped. */
  maxWriteBufferBytes: 4 * 1024 * 1024,
} as const;

/** Keep-alive as AWS applies it: 0 or > 1200 → 1200, < 30 → 30 (data-plane.md). */
export function clampKeepAlive(requested: number): number {
  if (requested === 0 || requested > BROKER_LIMITS.maxKeepAliveSeconds) return BROKER_LIMITS.maxKeepAliveSeconds;
  if (requested < BROKER_LIMITS.minKeepAliveSeconds) return BROKER_LIMITS.minKeepAliveSeconds;
  return requested;
}
