/**
 * The request context of an authorization check, and the lookups the evaluator does in it:
 * a policy variable (one string to substitute) and a condition key (one or more strings).
 * Multi-valued attributes (string arrays): the bare name is the first value, `.N` the value at
 * index N counted from zero (AWS's own example makes `.1` the second value), `.List` all values.
 */

export interface PolicyContext {
  readonly values: Readonly<Record<string, string | readonly string[] | boolean | number>>;
}

type ContextValue = string | readonly string[] | boolean | number;

/** Longest value AWS substitutes into a policy. */
export const MAX_SUBSTITUTED_LENGTH = 1024;
/** Characters a substituted value must not contain: they would widen a resource pattern. */
const FORBIDDEN_IN_SUBSTITUTION = /[*$+?#]/;

const INDEX_SUFFIX = /^(.*)\.(\d{1,4})$/;

function rawLookup(context: PolicyContext, name: string): ContextValue | undefined {
  const values = context.values;
  if (Object.hasOwn(values, name)) return values[name];
  // Keys and variable names are case-insensitive in IAM; the exact spelling is the fast path.
  const lower = name.toLowerCase();
  for (const key of Object.keys(values)) {
    if (key.toLowerCase() === lower) return values[key];
  }
  return undefined;
}

const scalar = (v: string | boolean | number): string => (typeof v === 'string' ? v : String(v));

const asList = (v: ContextValue): readonly string[] =>
  typeof v === 'object' ? v : [scalar(v)];

export type VariableResolution = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly why: string };

/** Resolves `${name}` for substitution into a resource or condition value. */
export function resolveVariable(context: PolicyContext, name: string): VariableResolution {
  let value: string | undefined;
  const direct = rawLookup(context, name);
  if (direct !== undefined) {
    if (typeof direct === 'object') {
      value = direct[0];
      if (value === undefined) return { ok: false, why: `variable ${name} has no value` };
    } else {
      value = scalar(direct);
    }
  } else if (name.endsWith('.List')) {
    const base = rawLookup(context, name.slice(0, -'.List'.length));
    return {
      ok: false,
      why: base === undefined ? `variable ${name} has no value` : `variable ${name} is a list and cannot be substituted into a string`,
    };
  } else {
    const m = INDEX_SUFFIX.exec(name);
    const base = m === null ? undefined : rawLookup(context, m[1]!);
    if (m === null || base === undefined) return { ok: false, why: `variable ${name} has no value` };
    const index = Number(m[2]);
    value = asList(base)[index];
    if (value === undefined) return { ok: false, why: `variable ${name}: index ${index} is out of range` };
  }
  if (value.length > MAX_SUBSTITUTED_LENGTH) {
    return { ok: false, why: `variable ${name} is longer than ${MAX_SUBSTITUTED_LENGTH} characters` };
  }
  if (FORBIDDEN_IN_SUBSTITUTION.test(value)) {
    return { ok: false, why: `variable ${name} has a value containing one of * $ + ? # and is not substituted` };
  }
  return { ok: true, value };
}

/**
 * The values of a condition key, or undefined when the key is absent. With a set qualifier
 * (ForAnyValue/ForAllValues) or a `.List` suffix a multi-valued key gives all its values;
 * otherwise its first (or `.N`-th) value.
 */
export function conditionKeyValues(context: PolicyContext, key: string, wantSet: boolean): readonly string[] | undefined {
  const direct = rawLookup(context, key);
  if (direct !== undefined) {
    if (typeof direct !== 'object') return [scalar(direct)];
    if (direct.length === 0) return undefined;
    return wantSet ? direct : [direct[0]!];
  }
  if (key.endsWith('.List')) {
    const base = rawLookup(context, key.slice(0, -'.List'.length));
    if (base === undefined) return undefined;
    const list = asList(base);
    return list.length === 0 ? undefined : list;
  }
  const m = INDEX_SUFFIX.exec(key);
  if (m === null) return undefined;
  const base = rawLookup(context, m[1]!);
  if (base === undefined) return undefined;
  const value = asList(base)[Number(m[2])];
  return value === undefined ? undefined : [value];
}
