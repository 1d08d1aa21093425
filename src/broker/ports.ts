/**
 * The broker's port for message routing between nodes. One node uses `InProcessBus`; a cluster
 * adapter (NATS: `*`/`>` ≈ `+`/`#`, queue groups ≈ `$share`) can implement the same interface later.
 */

/** MQTT 5 properties a message carries from publisher to subscribers (§3.3.2.3). */
export interface MessageProperties {
  readonly payloadFormatIndicator?: boolean;
  readonly contentType?: string;
  readonly responseTopic?: string;
  readonly correlationData?: Buffer;
  readonly userProperties?: Readonly<Record<string, string | string[]>>;
}

/** An authorized, validated application message on its way to the subscribers of one namespace. */
export interface BusMessage {
  /** `<accountId>:<region>`: accounts never see each other's topics. */
  readonly namespace: string;
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  readonly properties: MessageProperties;
  /** Epoch ms after which the message must not be delivered (Message Expiry Interval). */
  readonly expiresAt: number | undefined;
  /** Publisher's client id (for No Local), absent for service messages (lifecycle events). */
  readonly originClientId: string | undefined;
}

export interface MessageBus {
  /** Route a message to every node (this one included). */
  publish(message: BusMessage): void;
  /** Receive every routed message; returns an unsubscribe function. */
  subscribe(deliver: (message: BusMessage) => void): () => void;
}
