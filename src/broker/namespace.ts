import type { Scope } from '../kernel/index.js';
import type { LastWill, WillSource } from './will.js';
import { RetainedStore } from './retained/retained-store.js';
import { Session } from './session/session.js';
import type { SubscriptionOptions } from './session/session.js';
import { TopicTrie } from './topics/topic-trie.js';

/**
 * Everything MQTT that belongs to one (account, region): client ids, sessions, subscriptions and
 * retained messages. Two accounts never share any of it (data-plane.md "Which account").
 */
export interface SubscriptionEntry {
  readonly session: Session;
  readonly options: SubscriptionOptions;
}

/** A will waiting out its Will Delay Interval, and the connection (certificate) that left it. */
export interface PendingWill {
  readonly timer: NodeJS.Timeout;
  readonly certificateId: string;
  readonly source: WillSource;
  readonly will: LastWill;
}

/** Whether `discardCertificate` ran for a certificate since `watchCertificate`; `stop()` when done. */
export interface DiscardWatch {
  readonly happened: boolean;
  stop(): void;
}

/** What `openSession` found: the session to use, and whether an earlier one was resumed or set aside. */
export interface OpenedSession {
  readonly session: Session;
  readonly present: boolean;
  /** An earlier session of this client id was discarded because another certificate opened it. */
  readonly tookFromAnotherCertificate: boolean;
}

export interface OnlineClient {
  /** Closes the connection because another took its client id over [MQTT-3.1.4-3]. */
  takeOver(): Promise<void>;
}

export class Namespace {
  readonly key: string;
  readonly scope: Scope;
  readonly sessions = new Map<string, Session>();
  readonly online = new Map<string, OnlineClient>();
  readonly subscriptions = new TopicTrie<SubscriptionEntry>();
  readonly retained = new RetainedStore();
  /**
   * Lifecycle versionNumber source (AWS: increases with each connection of a client id, shared by a
   * connect and its disconnect). One sequence for the namespace keeps that promise for every client id
   * without remembering client ids that have gone (memory stays bounded).
   */
  #versionSequence = 0;
  /** Round-robin position per shared group (`group\0filter`). */
  readonly shareCursor = new Map<string, number>();
  /**
   * Wills waiting out their Will Delay Interval. The next CONNECT of the client id takes its will: dropped
   * when that CONNECT resumes the session, published at once when the session ended [MQTT-3.1.3-9].
   */
  readonly pendingWills = new Map<string, PendingWill>();
  /** Work under way for a certificate (wills being authorized) that its discard must stop; only while it runs. */
  readonly #watches = new Set<{ readonly certificateId: string; happened: boolean }>();

  constructor(scope: Scope) {
    this.scope = scope;
    this.key = namespaceKey(scope);
  }

  static subscriptionKey(clientId: string, rawFilter: string): string {
    return `${clientId}\u0000${rawFilter}`;
  }

  addSubscription(session: Session, options: SubscriptionOptions): boolean {
    const existed = session.subscriptions.has(options.rawFilter);
    session.subscriptions.set(options.rawFilter, options);
    this.subscriptions.add(options.filter, Namespace.subscriptionKey(session.clientId, options.rawFilter), { session, options });
    return existed;
  }

  removeSubscription(session: Session, rawFilter: string): boolean {
    const options = session.subscriptions.get(rawFilter);
    if (options === undefined) return false;
    session.subscriptions.delete(rawFilter);
    this.subscriptions.remove(options.filter, Namespace.subscriptionKey(session.clientId, rawFilter));
    return true;
  }

  /** Ends a session: its subscriptions and queued messages go [MQTT-3.1.2-6]. */
  discardSession(session: Session): void {
    for (const raw of [...session.subscriptions.keys()]) this.removeSubscription(session, raw);
    if (session.expiryTimer !== undefined) clearTimeout(session.expiryTimer);
    session.expiryTimer = undefined;
    session.inflight.clear();
    session.queue = [];
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
  }

  /**
   * The session a CONNECT gets [MQTT-3.1.2-4..6]: clean start discards; a session still attached to a
   * connection is discarded (the takeover closed it); a session is resumed only by the certificate that
   * opened it. A resume by another certificate (two certificates allowed the same client id) starts clean:
   * queued and in-flight messages and subscriptions were authorized for the other principal
   * (issue 10 #1; AWS documents resumption by client id only and says nothing of another principal).
   */
  openSession(clientId: string, certificateId: string, cleanStart: boolean, expirySeconds: number): OpenedSession {
    let session = this.sessions.get(clientId);
    let tookFromAnotherCertificate = false;
    if (session !== undefined && (cleanStart || session.sink !== undefined || session.ownerCertificateId !== certificateId)) {
      tookFromAnotherCertificate = !cleanStart && session.ownerCertificateId !== certificateId;
      this.discardSession(session);
      session = undefined;
    }
    if (session !== undefined) {
      if (session.expiryTimer !== undefined) clearTimeout(session.expiryTimer);
      session.expiryTimer = undefined;
      session.expirySeconds = expirySeconds;
      return { session, present: true, tookFromAnotherCertificate };
    }
    session = new Session(clientId, expirySeconds, certificateId);
    this.sessions.set(clientId, session);
    return { session, present: false, tookFromAnotherCertificate };
  }

  /**
   * A certificate was revoked, deactivated or deleted (or left the account): its sessions go, offline
   * persistent ones included, so nothing more is queued for it; its delayed wills are cancelled, and its
   * wills being authorized right now (watchCertificate) are not published.
   * Call after its connections were terminated. Returns how many sessions were discarded.
   */
  discardCertificate(certificateId: string): number {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (s.ownerCertificateId !== certificateId) continue;
      this.discardSession(s);
      n++;
    }
    for (const [clientId, w] of [...this.pendingWills]) {
      if (w.certificateId !== certificateId) continue;
      clearTimeout(w.timer);
      this.pendingWills.delete(clientId);
    }
    for (const w of this.#watches) if (w.certificateId === certificateId) w.happened = true;
    return n;
  }

  /** Notes a discard of `certificateId` from now on (a will being authorized checks it before publishing). */
  watchCertificate(certificateId: string): DiscardWatch {
    const watch = { certificateId, happened: false };
    this.#watches.add(watch);
    const watches = this.#watches;
    return {
      get happened() {
        return watch.happened;
      },
      stop: () => void watches.delete(watch),
    };
  }

  /**
   * Takes the delayed will of a client id out of waiting (its timer cleared), for a CONNECT of that client
   * id: the caller drops it when the session is resumed [MQTT-3.1.3-9], and publishes it now when the
   * session ended (clean start, or another certificate).
   */
  takePendingWill(clientId: string): PendingWill | undefined {
    const w = this.pendingWills.get(clientId);
    if (w === undefined) return undefined;
    clearTimeout(w.timer);
    this.pendingWills.delete(clientId);
    return w;
  }

  nextVersion(): number {
    this.#versionSequence += 1;
    return this.#versionSequence;
  }
}

export function namespaceKey(scope: Scope): string {
  return `${scope.accountId}:${scope.region}`;
}
