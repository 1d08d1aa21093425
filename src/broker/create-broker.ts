import type { Duplex } from 'node:stream';
import type { AccessLog, ConnectionPeer, DeviceAccess, ServiceMessage } from '../access/index.js';
import type { Clock, Logger, Scope } from '../kernel/index.js';
import type { BrokerContext } from './broker-context.js';
import { Connection } from './connection.js';
import { InProcessBus } from './in-process-bus.js';
import type { LifecycleEvent } from './lifecycle-events.js';
import { Namespace, namespaceKey } from './namespace.js';
import type { MessageBus } from './ports.js';
import { REASON_CODES } from './reason-codes.js';
import { refuseConnection } from './refuse-connection.js';
import { routeMessage } from './route-message.js';
import type { ServiceTopics } from './service-topics.js';

export interface BrokerDeps {
  access: DeviceAccess;
  accessLog: AccessLog;
  clock: Clock;
  logger: Logger;
  bus?: MessageBus;
  /** Topics certgate answers itself (fleet provisioning MQTT API). */
  serviceTopics?: ServiceTopics | undefined;
}

export interface Broker {
  /**
   * Serve one already-handshaken connection. Admission (access.admit) runs before any MQTT state; a
   * refusal is recorded and logged, and answered per protocol (3.1.1: close; 5: CONNACK 0x87).
   */
  handle(stream: Duplex, peer: ConnectionPeer): void;
  /**
   * Re-admit every live connection with its original TLS peer and close those no longer admitted (or now
   * placed elsewhere), with the refusal as the reason. With expiring access caches this picks up what
   * announces no registry event: another process writing the store (`certgate accounts update`), a
   * certificate passing its notAfter. Resolves with how many connections were closed.
   */
  revalidateConnections(): Promise<number>;
  /** Close every connection using this certificate; resolves with how many once they are closed. */
  disconnectCertificate(scope: Scope, certificateId: string, reason: string): Promise<number>;
  /** Publish a message of the service's own (e.g. `$aws/events/certificates/registered/<caId>`) into an account's namespace. */
  publishServiceMessage(message: ServiceMessage): void;
  connectionCount(): number;
  close(): Promise<void>;
}

export function createBroker(deps: BrokerDeps): Broker {
  const bus = deps.bus ?? new InProcessBus();
  const namespaces = new Map<string, Namespace>();
  const connections = new Set<Connection>();
  const admitting = new Set<Duplex>();
  let closing = false;

  const ctx: BrokerContext = {
    access: deps.access,
    accessLog: deps.accessLog,
    clock: deps.clock,
    logger: deps.logger,
    bus,
    serviceTopics: deps.serviceTopics,
    connections,
    namespace(scope: Scope): Namespace {
      const key = namespaceKey(scope);
      let ns = namespaces.get(key);
      if (ns === undefined) namespaces.set(key, (ns = new Namespace(scope)));
      return ns;
    },
    publishEvent(ns: Namespace, event: LifecycleEvent): void {
      bus.publish({
        namespace: ns.key,
        topic: event.topic,
        payload: Buffer.from(JSON.stringify(event.body)),
        qos: 1,
        retain: false,
        properties: { contentType: 'application/json' },
        expiresAt: undefined,
        originClientId: undefined,
      });
    },
    record(entry) {
      deps.accessLog.record({ at: deps.clock.now(), ...entry });
    },
  };

  const unsubscribe = bus.subscribe((message) => {
    const ns = namespaces.get(message.namespace);
    if (ns === undefined) return;
    try {
      routeMessage(ns, message, deps.clock.now().getTime(), deps.accessLog);
    } catch (err) {
      deps.logger.error({ err, topic: message.topic }, 'broker: routing failed');
    }
  });

  function handle(stream: Duplex, peer: ConnectionPeer): void {
    // Errors on the raw stream must never escape (an unhandled 'error' would crash the process).
    stream.on('error', (err: Error) => deps.logger.debug({ err: err.message, remoteAddress: peer.remoteAddress }, 'broker: stream error'));
    if (closing) {
      stream.destroy();
      return;
    }
    admitting.add(stream);
    // Admission first: the stream is not read until the certificate is known [data-plane.md step 2].
    deps.access.admit(peer).then(
      (result) => {
        admitting.delete(stream);
        if (stream.destroyed) return;
        if (closing) {
          stream.destroy();
          return;
        }
        if (!result.admitted) {
          refuseConnection(stream, peer, result, { ...deps, publish: publishServiceMessage });
          return;
        }
        deps.accessLog.record({
          at: deps.clock.now(),
          kind: 'admission',
          outcome: 'allowed',
          accountId: result.principal.scope.accountId,
          region: result.principal.scope.region,
          certificateId: result.principal.certificateId,
          remoteAddress: peer.remoteAddress,
          reasons: ['certificate registered, ACTIVE and in date'],
        });
        new Connection(ctx, stream, peer, result.principal).start();
      },
      (err: unknown) => {
        admitting.delete(stream);
        deps.logger.error({ err, remoteAddress: peer.remoteAddress }, 'broker: admission failed');
        stream.destroy();
      },
    );
  }

  function publishServiceMessage(message: ServiceMessage): void {
    bus.publish({
      namespace: namespaceKey(message.scope),
      topic: message.topic,
      payload: Buffer.from(message.payload),
      qos: 1,
      retain: false,
      properties: { contentType: 'application/json' },
      expiresAt: undefined,
      originClientId: undefined,
    });
  }

  async function disconnectCertificate(scope: Scope, certificateId: string, reason: string): Promise<number> {
    const key = namespaceKey(scope);
    const targets = [...connections].filter((c) => c.principal.certificateId === certificateId && c.ns.key === key);
    for (const c of targets) {
      c.terminate({
        reason: 'API_INITIATED_DISCONNECT',
        v5Code: REASON_CODES.ADMINISTRATIVE_ACTION,
        publishWill: true,
        why: reason,
        denied: [reason],
      });
    }
    await Promise.all(targets.map((c) => c.closed));
    return targets.length;
  }

  async function revalidateConnections(): Promise<number> {
    let closed = 0;
    for (const c of [...connections]) {
      if (closing) break;
      if (c.state !== 'connected') continue;
      const result = await deps.access.admit(c.peer);
      if (result.admitted && result.principal.certificateId === c.principal.certificateId && namespaceKey(result.principal.scope) === c.ns.key) continue;
      // Recorded under the connection's account (issue 10 #14): a reason about another account, or placed in none, is not shown there.
      const reason = result.admitted
        ? `certificate ${c.principal.certificateId} is now placed in another account or region`
        : result.accountId === c.principal.scope.accountId
          ? `${result.refusal}: ${result.reason}`
          : `${result.refusal}: certificate ${c.principal.certificateId} is no longer admitted in this account`;
      c.terminate({ reason: 'AUTH_ERROR', v5Code: REASON_CODES.NOT_AUTHORIZED, publishWill: true, why: `no longer admitted: ${reason}`, denied: [reason] });
      closed++;
    }
    return closed;
  }

  async function close(): Promise<void> {
    closing = true;
    for (const s of admitting) s.destroy();
    const all = [...connections];
    for (const c of all) {
      c.terminate({ reason: 'SERVER_INITIATED_DISCONNECT', v5Code: REASON_CODES.SERVER_SHUTTING_DOWN, publishWill: true, why: 'broker shutting down' });
    }
    await Promise.all(all.map((c) => c.closed));
    for (const ns of namespaces.values()) {
      for (const s of [...ns.sessions.values()]) ns.discardSession(s);
      for (const t of ns.pendingWills.values()) clearTimeout(t);
      ns.pendingWills.clear();
    }
    unsubscribe();
  }

  return { handle, revalidateConnections, disconnectCertificate, publishServiceMessage, connectionCount: () => connections.size, close };
}
