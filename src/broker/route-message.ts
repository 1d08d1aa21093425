import type { AccessLog } from '../access/index.js';
import type { Namespace, SubscriptionEntry } from './namespace.js';
import type { BusMessage } from './ports.js';
import type { OutboundMessage, Session } from './session/session.js';

/**
 * Fan-out of one message inside its namespace: each matching subscription gets it at
 * min(publish QoS, granted QoS) [MQTT-3.8.4-8]; a client with overlapping subscriptions gets it once at
 * the highest QoS [MQTT-3.3.4-2]; each `$share` group gets it once, round robin among its members,
 * online ones first, among the members allowed to receive it [MQTT 5 §4.8.2]; iot:Receive must allow
 * each delivery, or it is silently skipped and recorded (data-plane.md "Authorization points"). The
 * session asks again as each PUBLISH goes out (a queued message may wait for a policy change).
 */
interface Target {
  qos: 0 | 1;
  retainAsPublished: boolean;
}

export function routeMessage(ns: Namespace, message: BusMessage, now: number, accessLog: AccessLog): number {
  if (message.expiresAt !== undefined && message.expiresAt <= now) return 0;
  const direct = new Map<Session, Target>();
  const groups = new Map<string, SubscriptionEntry[]>();
  ns.subscriptions.match(message.topic, (entry) => {
    const o = entry.options;
    if (o.shareGroup !== undefined) {
      const gk = `${o.shareGroup}\u0000${o.filter}`;
      let members = groups.get(gk);
      if (members === undefined) groups.set(gk, (members = []));
      members.push(entry);
      return;
    }
    // No Local: not back to the publisher [MQTT-3.8.3-3].
    if (o.noLocal && message.originClientId === entry.session.clientId) return;
    const qos = (Math.min(o.qos, message.qos) as 0 | 1);
    const t = direct.get(entry.session);
    if (t === undefined) direct.set(entry.session, { qos, retainAsPublished: o.retainAsPublished });
    else {
      t.qos = Math.max(t.qos, qos) as 0 | 1;
      t.retainAsPublished ||= o.retainAsPublished;
    }
  });
  for (const [gk, all] of groups) {
    // Only members allowed to receive it are candidates (issue 10 #4): a denied member must not make the
    // whole group lose the message.
    const members = all.filter((m) => receiveAllowed(ns, m.session, message.topic, accessLog, now));
    if (members.length === 0) continue;
    members.sort((a, b) => (a.session.clientId < b.session.clientId ? -1 : a.session.clientId > b.session.clientId ? 1 : 0));
    const online = members.filter((m) => m.session.sink !== undefined);
    const pool = online.length > 0 ? online : members;
    const cursor = ns.shareCursor.get(gk) ?? 0;
    const chosen = pool[cursor % pool.length]!;
    ns.shareCursor.set(gk, (cursor + 1) % 1_000_000);
    const qos = Math.min(chosen.options.qos, message.qos) as 0 | 1;
    const t = direct.get(chosen.session);
    if (t === undefined) direct.set(chosen.session, { qos, retainAsPublished: false });
    else t.qos = Math.max(t.qos, qos) as 0 | 1;
  }
  let delivered = 0;
  for (const [session, target] of direct) {
    if (!receiveAllowed(ns, session, message.topic, accessLog, now)) continue;
    const out: OutboundMessage = {
      topic: message.topic,
      payload: message.payload,
      qos: target.qos,
      // Live messages carry RETAIN 0 unless Retain As Published [MQTT-3.3.1-12/13].
      retain: target.retainAsPublished && message.retain,
      properties: message.properties,
      expiresAt: message.expiresAt,
    };
    session.deliver(out, now);
    delivered++;
  }
  return delivered;
}

/**
 * iot:Receive on topic/<topic>, asked with the authorization of the session's owner (its latest
 * connection: the session is bound to one certificate); a denial is recorded.
 */
export function receiveAllowed(ns: Namespace, session: Session, topic: string, accessLog: AccessLog, now: number): boolean {
  const auth = session.authorization;
  if (auth === undefined) return false;
  const decision = auth.receive(topic);
  if (decision.effect === 'Allow') return true;
  accessLog.record({
    at: new Date(now),
    kind: 'receive',
    outcome: 'denied',
    accountId: ns.scope.accountId,
    region: ns.scope.region,
    certificateId: session.ownerCertificateId,
    clientId: session.clientId,
    resource: topic,
    reasons: decision.reasons,
  });
  return false;
}
