import type { CompiledPolicy } from './compile-policy.js';
import type { Template } from './policy-template.js';

const TIME_KEYS = new Set(['aws:currenttime', 'aws:epochtime']);

const templateUsesTime = (t: Template): boolean => t.parts.some((p) => p.kind === 'var' && TIME_KEYS.has(p.name.toLowerCase()));

const memo = new WeakMap<readonly CompiledPolicy[], boolean>();

/**
 * Whether a decision over these policies can change with the clock alone (a condition on, or a variable of,
 * aws:CurrentTime / aws:EpochTime). Other context values of a connection are fixed at CONNECT, so a
 * decision over time-independent policies may be reused for the same action and resource.
 */
export function dependsOnTime(policies: readonly CompiledPolicy[]): boolean {
  const known = memo.get(policies);
  if (known !== undefined) return known;
  const uses = policies.some((p) =>
    p.statements.some(
      (s) =>
        s.resources.some((r) => templateUsesTime(r.template)) ||
        s.conditions.some((c) => TIME_KEYS.has(c.key.toLowerCase()) || c.values.some((v) => templateUsesTime(v.template))),
    ),
  );
  memo.set(policies, uses);
  return uses;
}
