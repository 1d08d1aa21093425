import { BROKER_LIMITS } from '../limits.js';

/**
 * Topic names and filters as MQTT (§4.7) and AWS IoT (topic ≤ 256 bytes, ≤ 7 slashes, the
 * `$aws/rules/<rule>/` prefix excepted) allow them. Answers are values: `undefined` = valid, else why not.
 */

const RULES_PREFIX = /^\$aws\/rules\/[^/]+\//;

function slashCount(s: string): number {
  const body = s.replace(RULES_PREFIX, '');
  let n = 0;
  for (let i = 0; i < body.length; i++) if (body.charCodeAt(i) === 0x2f) n++;
  return n;
}

function commonProblems(s: string, what: string): string | undefined {
  if (s.length === 0) return `empty ${what} [MQTT-4.7.3-1]`;
  if (s.includes('\u0000')) return `${what} contains U+0000 [MQTT-4.7.3-2]`;
  if (Buffer.byteLength(s, 'utf8') > BROKER_LIMITS.maxTopicBytes) return `${what} longer than ${BROKER_LIMITS.maxTopicBytes} bytes (AWS IoT limit)`;
  if (slashCount(s) > BROKER_LIMITS.maxTopicSlashes) return `${what} has more than ${BROKER_LIMITS.maxTopicSlashes} slashes (AWS IoT limit)`;
  return undefined;
}

/** A topic name in a PUBLISH: no wildcards [MQTT-3.3.2-2]. */
export function topicNameProblem(topic: string): string | undefined {
  const p = commonProblems(topic, 'topic');
  if (p !== undefined) return p;
  if (topic.includes('+') || topic.includes('#')) return 'topic name contains a wildcard [MQTT-3.3.2-2]';
  return undefined;
}

/** A filter without the `$share/<group>/` prefix: `#` last and alone, `+` alone in its level [MQTT-4.7.1-1/2]. */
export function plainFilterProblem(filter: string): string | undefined {
  const p = commonProblems(filter, 'topic filter');
  if (p !== undefined) return p;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '"#" must be the last level, alone [MQTT-4.7.1-2]';
    if (level.includes('+') && level !== '+') return '"+" must occupy a whole level [MQTT-4.7.1-3]';
  }
  return undefined;
}

export interface ParsedFilter {
  /** The filter that matches topics (the part after `$share/<group>/`). */
  readonly filter: string;
  /** Shared subscription group, when `$share/<group>/<filter>` [MQTT 5 §4.8.2]. */
  readonly shareGroup: string | undefined;
}

export type FilterParse = { readonly ok: true; readonly value: ParsedFilter } | { readonly ok: false; readonly why: string };

export function parseFilter(raw: string): FilterParse {
  if (raw.startsWith('$share/')) {
    const rest = raw.slice('$share/'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return { ok: false, why: 'shared subscription needs $share/<group>/<filter> [MQTT-4.8.2-1]' };
    const group = rest.slice(0, slash);
    if (group.includes('+') || group.includes('#')) return { ok: false, why: 'share name contains a wildcard [MQTT-4.8.2-2]' };
    const filter = rest.slice(slash + 1);
    const why = plainFilterProblem(filter);
    if (why !== undefined) return { ok: false, why };
    return { ok: true, value: { filter, shareGroup: group } };
  }
  const why = plainFilterProblem(raw);
  if (why !== undefined) return { ok: false, why };
  return { ok: true, value: { filter: raw, shareGroup: undefined } };
}
