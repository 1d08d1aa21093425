/**
 * broker: ADAPTER — the MQTT 3.1.1/5 state machine over any Duplex (mqtt-packet codec), AWS IoT Core's
 * limits and behaviour, sessions, retained messages, wills, lifecycle events, a MessageBus port.
 * Asks access/ (DeviceAccess) for every decision; never imports node:tls (listeners/ does), api/ or store/.
 */
export { createBroker } from './create-broker.js';
export type { Broker, BrokerDeps } from './create-broker.js';
export type { BusMessage, MessageBus, MessageProperties } from './ports.js';
export { InProcessBus } from './in-process-bus.js';
export { BROKER_LIMITS, clampKeepAlive } from './limits.js';
export { REASON_CODES, V4_CONNACK, DISCONNECT_REASONS } from './reason-codes.js';
export type { DisconnectReason } from './reason-codes.js';
