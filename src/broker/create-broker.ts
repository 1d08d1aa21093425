import type { Duplex } from 'node:stream';
import type { AccessLog, AdmissionResult, ConnectionPeer, DeviceAccess, ServiceMessage } from '../access/index.js';
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
import { publishWill } from './will.js';

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
   * Re-admit every live connection with its original TLS peer, and every offline persistent session's
   * owner; a certificate no longer admitted (or now placed elsewhere) loses all its connections at once
   * (the refusal as the reason, no wills), then its sessions. With expiring access caches this picks up what
   * announces no registry event: another process writing the store (`certgate accounts update`), a
   * certificate passing its notAfter. A re-admission that fails is logged and skipped; the pass goes on.
   * Resolves with how many connections were closed.
   */
  revalidateConnections(): Promise<number>;
  /**
   * The certificate was revoked, deactivated or deleted: close every connection using it (without their
   * wills) and discard its sessions, offline persistent ones included, and its delayed wills. Resolves
   * with how many connections were closed, once they are closed (never waits on will handling).
   */
  disconnectCertificate(scope: Scope, certificateId: string, reason: string): Promise<number>;
  /**
   * The registry changed what connections' thing policy variables say (AttachThingPrincipal /
   * DetachThingPrincipal for `principal`, a certificate ARN; UpdateThing / DeleteThing for `thingName`):
   * the matching live connections read them again. Resolves with how many were refreshed.
   */
  refreshThingValues(scope: Scope, changed: { readonly principal?: string; readonly thingName?: string }): Promise<number>;
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
    publishWill(ns, source, will) {
      const p = publishWill(ctx, ns, source, will).finally(() => willsInFlight.delete(p));
      willsInFlight.add(p);
    },
  };
  /** Wills being authorized (will.ts): close() lets them finish before it stops routing. */
  const willsInFlight = new Set<Promise<void>>();

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
        // A revoked certificate's will is never published (issue 10 #2).
        publishWill: false,
        why: reason,
        denied: [reason],
      });
    }
    // Its sessions go too, offline persistent ones included: nothing more is queued for it (issue 10 #4).
    namespaces.get(key)?.discardCertificate(certificateId);
    await Promise.all(targets.map((c) => c.closed));
    return targets.length;
  }

  /** Admission asked again by the periodic re-check; a failure is logged and decides nothing (undefined). */
  async function readmit(peer: ConnectionPeer, fields: object): Promise<AdmissionResult | undefined> {
    try {
      return await deps.access.admit(peer);
    } catch (err) {
      deps.logger.error({ err, ...fields }, 'broker: re-admission failed; the re-check goes on');
      return undefined;
    }
  }

  /** Why `result` no longer admits `certificateId` in `ns`, said without naming any other account (issue 10 #14). */
  function noLongerAdmitted(ns: Namespace, certificateId: string, result: AdmissionResult): string {
    return result.admitted
      ? `certificate ${certificateId} is no longer registered in this account`
      : result.accountId === ns.scope.accountId
        ? `${result.refusal}: ${result.reason}`
        : `${result.refusal}: certificate ${certificateId} is no longer admitted in this account`;
  }

  /**
   * A certificate no longer admitted in `ns`: every connection of it there is closed at once (no wills,
   * issue 10 #2), then its sessions and delayed wills are discarded. Returns how many connections closed.
   */
  function evictCertificate(ns: Namespace, certificateId: string, reason: string): number {
    const targets = [...connections].filter((c) => c.ns === ns && c.principal.certificateId === certificateId && c.state !== 'closed');
    for (const c of targets) {
      c.terminate({ reason: 'AUTH_ERROR', v5Code: REASON_CODES.NOT_AUTHORIZED, publishWill: false, why: `no longer admitted: ${reason}`, denied: [reason] });
    }
    ns.discardCertificate(certificateId);
    return targets.length;
  }

  const admittedHere = (result: AdmissionResult, ns: Namespace, certificateId: string): boolean =>
    result.admitted && result.principal.certificateId === certificateId && namespaceKey(result.principal.scope) === ns.key;

  async function revalidateConnections(): Promise<number> {
    let closed = 0;
    for (const c of [...connections]) {
      if (closing) break;
      if (c.state !== 'connected') continue;
      const result = await readmit(c.peer, { clientId: c.clientId, certificateId: c.principal.certificateId });
      if (result === undefined || (c.state as string) === 'closed') continue;
      if (admittedHere(result, c.ns, c.principal.certificateId)) {
        // Still admitted: thing policy variables as the registry has them now (issue 10 #3).
        await refreshAuth(c);
        continue;
      }
      closed += evictCertificate(c.ns, c.principal.certificateId, noLongerAdmitted(c.ns, c.principal.certificateId, result));
    }
    closed += await revalidateOfflineSessions();
    return closed;
  }

  /**
   * Offline persistent sessions: their owner certificate is re-admitted with the TLS peer of the
   * connection that last used the session; a certificate no longer admitted here loses its connections
   * (one may have arrived since the first pass) and sessions (what changed without a registry event,
   * e.g. another process deactivated it). Returns how many connections were closed.
   */
  async function revalidateOfflineSessions(): Promise<number> {
    let closed = 0;
    const checked = new Set<string>();
    for (const ns of [...namespaces.values()]) {
      for (const s of [...ns.sessions.values()]) {
        if (closing) return closed;
        if (s.sink !== undefined || s.ownerPeer === undefined) continue;
        const key = `${ns.key}|${s.ownerCertificateId}`;
        if (checked.has(key)) continue;
        checked.add(key);
        const result = await readmit(s.ownerPeer, { accountId: ns.scope.accountId, region: ns.scope.region, certificateId: s.ownerCertificateId, clientId: s.clientId });
        if (result === undefined || admittedHere(result, ns, s.ownerCertificateId)) continue;
        deps.logger.info({ accountId: ns.scope.accountId, region: ns.scope.region, certificateId: s.ownerCertificateId }, 'broker: sessions of a certificate no longer admitted discarded');
        closed += evictCertificate(ns, s.ownerCertificateId, noLongerAdmitted(ns, s.ownerCertificateId, result));
      }
    }
    return closed;
  }

  async function refreshAuth(c: Connection): Promise<boolean> {
    const auth = c.auth;
    if (auth?.refresh === undefined) return false;
    try {
      await auth.refresh();
      return true;
    } catch (err) {
      deps.logger.error({ err, clientId: c.clientId }, 'broker: refreshing thing policy variables failed');
      return false;
    }
  }

  async function refreshThingValues(scope: Scope, changed: { readonly principal?: string; readonly thingName?: string }): Promise<number> {
    const key = namespaceKey(scope);
    // Connections still in CONNECT may have read the values before the change: they refresh once set up
    // (handlers/connect.ts). Their thing is not known yet, so a thing change marks every one in the account.
    for (const c of connections) {
      if (c.state === 'connecting' && c.ns.key === key && (changed.thingName !== undefined || c.principal.certificateArn === changed.principal)) c.thingValuesChanged = true;
    }
    const targets = [...connections].filter(
      (c) =>
        c.ns.key === key &&
        c.auth !== undefined &&
        ((changed.principal !== undefined && c.principal.certificateArn === changed.principal) ||
          (changed.thingName !== undefined && c.auth.thingName?.() === changed.thingName)),
    );
    const done = await Promise.all(targets.map(refreshAuth));
    return done.filter(Boolean).length;
  }

  async function close(): Promise<void> {
    closing = true;
    for (const s of admitting) s.destroy();
    const all = [...connections];
    for (const c of all) {
      c.terminate({ reason: 'SERVER_INITIATED_DISCONNECT', v5Code: REASON_CODES.SERVER_SHUTTING_DOWN, publishWill: true, why: 'broker shutting down' });
    }
    await Promise.all(all.map((c) => c.closed));
    await Promise.all([...willsInFlight]);
    for (const ns of namespaces.values()) {
      for (const s of [...ns.sessions.values()]) ns.discardSession(s);
      for (const w of ns.pendingWills.values()) clearTimeout(w.timer);
      ns.pendingWills.clear();
    }
    unsubscribe();
  }

  return { handle, revalidateConnections, disconnectCertificate, refreshThingValues, publishServiceMessage, connectionCount: () => connections.size, close };
}
