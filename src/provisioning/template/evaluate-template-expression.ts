import type { ProvisioningTemplate, TemplateExpression, TemplateValue } from './provisioning-template.js';
import { templateEvaluationFailed, unresolvedReference } from './template-errors.js';

export interface EvaluationContext {
  /** The value of a parameter (request value, else its Default); throws "Cannot resolve reference value". */
  resolve(name: string): string;
  readonly mappings: ProvisioningTemplate['mappings'];
  /** Shared by every evaluation of one template run: bounds what Fn::Join, Fn::Split and Fn::Sub may build. */
  readonly budget: EvaluationBudget;
}

/**
 * Characters (and list items) a template run may build in all. A 10 KB template can otherwise grow a
 * device's 4 KB parameter into hundreds of megabytes (Fn::Join of Fn::Split with a long delimiter, nested
 * Fn::Sub) and stall or crash the server for every account. Legitimate templates build a few kilobytes:
 * thing names ≤ 128, attribute values ≤ 800, policy documents ≤ 2048 characters.
 */
export const MAX_EVALUATED_CHARACTERS = 1_048_576;

export interface EvaluationBudget {
  remaining: number;
}

export function createEvaluationBudget(characters: number = MAX_EVALUATED_CHARACTERS): EvaluationBudget {
  return { remaining: characters };
}

function spend(ctx: EvaluationContext, amount: number): void {
  ctx.budget.remaining -= amount;
  if (ctx.budget.remaining < 0) {
    throw templateEvaluationFailed(`The template's values would grow beyond ${MAX_EVALUATED_CHARACTERS} characters`);
  }
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
    case 'join': {
      const parts = asList(evaluateTemplateExpression(expr.items, ctx), 'The values of Fn::Join').map((v) => asString(v, 'Each value of Fn::Join'));
      // Charged before the string is built.
      spend(ctx, parts.reduce((n, p) => n + p.length, 0) + expr.delimiter.length * Math.max(parts.length - 1, 0));
      return parts.join(expr.delimiter);
    }
    case 'select': {
      const rawIndex = evaluateTemplateExpression(expr.index, ctx);
      const index = typeof rawIndex === 'number' ? rawIndex : typeof rawIndex === 'string' && /^[0-9]+$/.test(rawIndex) ? Number(rawIndex) : NaN;
      if (!Number.isInteger(index) || index < 0) throw templateEvaluationFailed('The index of Fn::Select must be a non-negative integer');
      const list = asList(evaluateTemplateExpression(expr.list, ctx), 'The list of Fn::Select');
      const item = list[index];
      if (item === undefined || item === null) throw templateEvaluationFailed(`Fn::Select index ${index} is outside its list of ${list.length}`);
      return item;
    }
    case 'split': {
      const source = asString(evaluateTemplateExpression(expr.source, ctx), 'The source of Fn::Split');
      spend(ctx, source.length + 1); // the pieces and the list holding them
      return source.split(expr.delimiter);
    }
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
    case 'sub': {
      // Each variable is evaluated once per Fn::Sub, however often the text uses it: nested Fn::Sub stays linear.
      const values = new Map<string, string>();
      let built = expr.text.length;
      const text = expr.text.replace(SUB_VARIABLE, (_whole, name: string) => {
        let value: string;
        if (name.startsWith('!')) value = `\${${name.slice(1)}}`;
        else if (values.has(name)) value = values.get(name)!;
        else {
          const variable = Object.hasOwn(expr.variables, name) ? expr.variables[name] : undefined;
          if (variable) value = asString(evaluateTemplateExpression(variable, ctx), `Fn::Sub variable ${name}`);
          else if (name === '') throw unresolvedReference(name);
          else value = ctx.resolve(name);
          values.set(name, value);
        }
        built += value.length;
        if (built > ctx.budget.remaining) spend(ctx, built);
        return value;
      });
      spend(ctx, text.length);
      return text;
    }
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
