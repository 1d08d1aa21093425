import type { ProvisioningTemplate, TemplateExpression, TemplateValue } from './provisioning-template.js';
import { templateEvaluationFailed, unresolvedReference } from './template-errors.js';

export interface EvaluationContext {
  /** The value of a parameter (request value, else its Default); throws "Cannot resolve reference value". */
  resolve(name: string): string;
  readonly mappings: ProvisioningTemplate['mappings'];
}

function asString(v: TemplateValue, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw templateEvaluationFailed(`${what} must be a string`);
}

function asList(v: TemplateValue, what: string): readonly TemplateValue[] {
  if (Array.isArray(v)) return v as readonly TemplateValue[];
  throw templateEvaluationFailed(`${what} must be a list`);
}

const SUB_VARIABLE = /\$\{([^}]*)\}/g;

export function evaluateTemplateExpression(expr: TemplateExpression, ctx: EvaluationContext): TemplateValue {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'list':
      return expr.items.map((e) => evaluateTemplateExpression(e, ctx));
    case 'object': {
      return Object.fromEntries(Object.entries(expr.entries).map(([k, e]) => [k, evaluateTemplateExpression(e, ctx)]));
    }
    case 'ref':
      return ctx.resolve(expr.name);
    case 'join':
      return asList(evaluateTemplateExpression(expr.items, ctx), 'The values of Fn::Join')
        .map((v) => asString(v, 'Each value of Fn::Join'))
        .join(expr.delimiter);
    case 'select': {
      const rawIndex = evaluateTemplateExpression(expr.index, ctx);
      const index = typeof rawIndex === 'number' ? rawIndex : typeof rawIndex === 'string' && /^[0-9]+$/.test(rawIndex) ? Number(rawIndex) : NaN;
      if (!Number.isInteger(index) || index < 0) throw templateEvaluationFailed('The index of Fn::Select must be a non-negative integer');
      const list = asList(evaluateTemplateExpression(expr.list, ctx), 'The list of Fn::Select');
      const item = list[index];
      if (item === undefined || item === null) throw templateEvaluationFailed(`Fn::Select index ${index} is outside its list of ${list.length}`);
      return item;
    }
    case 'split':
      return asString(evaluateTemplateExpression(expr.source, ctx), 'The source of Fn::Split').split(expr.delimiter);
    case 'find-in-map': {
      const mapName = asString(evaluateTemplateExpression(expr.mapName, ctx), 'The map name of Fn::FindInMap');
      const topKey = asString(evaluateTemplateExpression(expr.topKey, ctx), 'The top-level key of Fn::FindInMap');
      const secondKey = asString(evaluateTemplateExpression(expr.secondKey, ctx), 'The second-level key of Fn::FindInMap');
      const map = Object.hasOwn(ctx.mappings, mapName) ? ctx.mappings[mapName] : undefined;
      if (!map) throw templateEvaluationFailed(`Fn::FindInMap: there is no mapping ${mapName}`);
      const top = Object.hasOwn(map, topKey) ? map[topKey] : undefined;
      if (!top) throw templateEvaluationFailed(`Fn::FindInMap: mapping ${mapName} has no key ${topKey}`);
      const value = Object.hasOwn(top, secondKey) ? top[secondKey] : undefined;
      if (value === undefined) throw templateEvaluationFailed(`Fn::FindInMap: mapping ${mapName}.${topKey} has no key ${secondKey}`);
      return value;
    }
    case 'sub':
      return expr.text.replace(SUB_VARIABLE, (_whole, name: string) => {
        if (name.startsWith('!')) return `\${${name.slice(1)}}`;
        const variable = Object.hasOwn(expr.variables, name) ? expr.variables[name] : undefined;
        if (variable) return asString(evaluateTemplateExpression(variable, ctx), `Fn::Sub variable ${name}`);
        if (name === '') throw unresolvedReference(name);
        return ctx.resolve(name);
      });
  }
}

/** Evaluate to a string (thing names, statuses, policy names, attribute values). */
export function evaluateToString(expr: TemplateExpression, ctx: EvaluationContext, what: string): string {
  return asString(evaluateTemplateExpression(expr, ctx), what);
}

/** Evaluate to a list of strings (thing groups). */
export function evaluateToStringList(expr: TemplateExpression, ctx: EvaluationContext, what: string): string[] {
  return asList(evaluateTemplateExpression(expr, ctx), what).map((v) => asString(v, `Each entry of ${what}`));
}

/** Evaluate to a flat string map (attribute payload, device configuration). */
export function evaluateToStringMap(expr: TemplateExpression, ctx: EvaluationContext, what: string): Record<string, string> {
  const v = evaluateTemplateExpression(expr, ctx);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw templateEvaluationFailed(`${what} must be an object of name-value pairs`);
  return Object.fromEntries(Object.entries(v as Record<string, TemplateValue>).map(([k, item]) => [k, asString(item, `${what}.${k}`)]));
}
