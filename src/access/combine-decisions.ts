import type { Decision } from '../policy/index.js';

/**
 * Both decisions must allow (iot:Publish and iot:RetainPublish for a retained publish): an explicit
 * deny in either wins, then an implicit deny in either; the reasons of both are kept.
 */
export function bothMustAllow(a: Decision, b: Decision): Decision {
  const reasons = [...a.reasons, ...b.reasons];
  if (a.effect === 'ExplicitDeny' || b.effect === 'ExplicitDeny') {
    const matched = [...(a.effect === 'ExplicitDeny' ? a.matched : []), ...(b.effect === 'ExplicitDeny' ? b.matched : [])];
    return { effect: 'ExplicitDeny', matched, reasons };
  }
  if (a.effect === 'Allow' && b.effect === 'Allow') return { effect: 'Allow', matched: [...a.matched, ...b.matched], reasons };
  return { effect: 'ImplicitDeny', matched: [], reasons };
}
