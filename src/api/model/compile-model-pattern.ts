import type { IotModel } from './iot-model.js';

/**
 * The model's `pattern`s are Java regular expressions matched against the whole value (Java
 * `String.matches`). Compile them anchored, with the `u` flag (needed for `\p{L}` and friends).
 * A pattern JavaScript cannot compile yields `undefined`: the constraint is then skipped, and
 * `uncompilableModelPatterns()` lists it (the model in use today has none, a test checks that).
 */
const cache = new Map<string, RegExp | undefined>();

export function compileModelPattern(pattern: string): RegExp | undefined {
  if (cache.has(pattern)) return cache.get(pattern);
  let compiled: RegExp | undefined;
  try {
    compiled = new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    compiled = undefined;
  }
  cache.set(pattern, compiled);
  return compiled;
}

export function uncompilableModelPatterns(model: IotModel): string[] {
  const out = new Set<string>();
  for (const shape of Object.values(model.shapes)) {
    if (shape.pattern !== undefined && compileModelPattern(shape.pattern) === undefined) out.add(shape.pattern);
  }
  return [...out].sort();
}
