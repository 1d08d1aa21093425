import type { Scope } from '../kernel/index.js';
import { RetainedStore } from './retained/retained-store.js';
import type { Session, SubscriptionOptions } from './session/session.js';
import { TopicTrie } from './topics/topic-trie.js';

/**
 * Everything MQTT that belongs to one (account, region): client ids, sessions, subscriptions and
 * retained messages. Two accounts never share any of it (data-plane.md "Which account").
 */
export interface SubscriptionEntry {
  readonly session: Session;
  readonly options: SubscriptionOptions;
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
  /** Wills waiting out their Will Delay Interval, cancelled when the client id reconnects. */
  readonly pendingWills = new Map<string, NodeJS.Timeout>();

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

  nextVersion(): number {
    this.#versionSequence += 1;
    return this.#versionSequence;
  }
}

export function namespaceKey(scope: Scope): string {
  return `${scope.accountId}:${scope.region}`;
}
