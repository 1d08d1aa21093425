import type { TemplateExpression } from './provisioning-template.js';
import { invalidTemplate } from './template-errors.js';

/** The intrinsic functions AWS IoT provisioning templates support (developer guide, "Intrinsic functions"). */
export const INTRINSIC_FUNCTIONS = ['Ref', 'Fn::Join', 'Fn::Select', 'Fn::Split', 'Fn::FindInMap', 'Fn::Sub'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIntrinsicKey(key: string): boolean {
  return key === 'Ref' || key.startsWith('Fn::');
}

function argList(fn: string, args: unknown, arity: number, where: string): unknown[] {
  if (!Array.isArray(args) || args.length !== arity) {
    throw invalidTemplate(`${fn} at ${where} takes a list of ${arity} arguments`);
  }
  return args;
}

function literalString(fn: string, v: unknown, what: string, where: string): string {
  if (typeof v !== 'string') throw invalidTemplate(`${fn} at ${where}: the ${what} must be a string`);
  return v;
}

/**
 * Turn a JSON value of the template into an expression tree. An object whose only key is `Ref` or
 * `Fn::…` is an intrinsic function; an unknown `Fn::` name is refused here, at parse time.
 */
export function parseTemplateExpression(value: unknown, where: string): TemplateExpression {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return { kind: 'literal', value };
  }
  if (Array.isArray(value)) {
    return { kind: 'list', items: value.map((v, i) => parseTemplateExpression(v, `${where}[${i}]`)) };
  }
  if (!isRecord(value)) throw invalidTemplate(`unsupported value at ${where}`);
  const keys = Object.keys(value);
  const fnKeys = keys.filter(isIntrinsicKey);
  if (fnKeys.length === 0) {
    const entries = Object.fromEntries(keys.map((k) => [k, parseTemplateExpression(value[k], `${where}.${k}`)]));
    return { kind: 'object', entries };
  }
  const fn = fnKeys[0]!;
  if (keys.length !== 1) throw invalidTemplate(`${fn} at ${where} must be the only key of its object`);
  const args = value[fn];
  switch (fn) {
    case 'Ref':
      return { kind: 'ref', name: literalString(fn, args, 'referenced name', where) };
    case 'Fn::Join': {
      const [delimiter, items] = argList(fn, args, 2, where);
      return { kind: 'join', delimiter: literalString(fn, delimiter, 'delimiter', where), items: parseTemplateExpression(items, `${where}.${fn}[1]`) };
    }
    case 'Fn::Select': {
      const [index, list] = argList(fn, args, 2, where);
      return { kind: 'select', index: parseTemplateExpression(index, `${where}.${fn}[0]`), list: parseTemplateExpression(list, `${where}.${fn}[1]`) };
    }
    case 'Fn::Split': {
      const [delimiter, source] = argList(fn, args, 2, where);
      const d = literalString(fn, delimiter, 'delimiter', where);
      if (d === '') throw invalidTemplate(`${fn} at ${where}: the delimiter must not be empty`);
      return { kind: 'split', delimiter: d, source: parseTemplateExpression(source, `${where}.${fn}[1]`) };
    }
    case 'Fn::FindInMap': {
      const [mapName, topKey, secondKey] = argList(fn, args, 3, where);
      return {
        kind: 'find-in-map',
        mapName: parseTemplateExpression(mapName, `${where}.${fn}[0]`),
        topKey: parseTemplateExpression(topKey, `${where}.${fn}[1]`),
        secondKey: parseTemplateExpression(secondKey, `${where}.${fn}[2]`),
      };
    }
    case 'Fn::Sub': {
      if (typeof args === 'string') return { kind: 'sub', text: args, variables: {} };
      const [text, vars] = argList(fn, args, 2, where);
      if (!isRecord(vars)) throw invalidTemplate(`${fn} at ${where}: the second argument must be an object of variables`);
      const variables = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, parseTemplateExpression(v, `${where}.${fn}[1].${k}`)]));
      return { kind: 'sub', text: literalString(fn, text, 'text', where), variables };
    }
    default:
      throw invalidTemplate(`unknown intrinsic function ${fn} at ${where} (supported: ${INTRINSIC_FUNCTIONS.join(', ')})`);
  }
}
