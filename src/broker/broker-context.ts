import type { AccessLog, AccessRecord, DeviceAccess } from '../access/index.js';
import type { Clock, Logger, Scope } from '../kernel/index.js';
import type { Connection } from './connection.js';
import type { LifecycleEvent } from './lifecycle-events.js';
import type { Namespace } from './namespace.js';
import type { MessageBus } from './ports.js';
import type { ServiceTopics } from './service-topics.js';
import type { LastWill, WillSource } from './will.js';

/** What every connection of one broker shares: the ports, the namespaces, the live connections. */
export interface BrokerContext {
  readonly access: DeviceAccess;
  readonly accessLog: AccessLog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly bus: MessageBus;
  /** Topics the service answers itself (fleet provisioning); absent: none. */
  readonly serviceTopics?: ServiceTopics | undefined;
  readonly connections: Set<Connection>;
  namespace(scope: Scope): Namespace;
  /** Publishes a service message (lifecycle event) into a namespace. */
  publishEvent(ns: Namespace, event: LifecycleEvent): void;
  record(entry: Omit<AccessRecord, 'at'>): void;
  /** Authorizes a will now and publishes it if allowed (will.ts); the broker's close waits for these. */
  publishWill(ns: Namespace, source: WillSource, will: LastWill): void;
}
