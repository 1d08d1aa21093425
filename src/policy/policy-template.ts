/**
 * A resource or condition value with policy variables: `topic/org/${iot:Certificate.Issuer.Organization}/*`.
 * Parsed once at compile time into parts; resolved per request into pieces whose `wild` flag says
 * whether `*` and `?` in them are wildcards (text written in the policy) or literal characters
 * (substituted values and the fixed variables `${*}` `${?}` `${$}`, also written `$(*)` `$(?)` `$($)`).
 */

import type { PolicyContext } from './policy-context.js';
import { resolveVariable } from './policy-context.js';

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'var'; readonly name: string };

export interface Piece {
  readonly text: string;
  /** True when `*` and `?` in `text` are wildcards. */
  readonly wild: boolean;
}

export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** Pieces when the template has no variable (resolved once, at compile time). */
  readonly staticPieces: readonly Piece[] | undefined;
}

const FIXED = new Set(['*', '?', '$']);

/**
 * Parses `source`. With `substitute` false (policy language 2008-10-17, as in IAM) the text is
 * taken as written. Returns a message when a `${` is not closed or names nothing.
 */
export function parseTemplate(source: string, substitute: boolean): Template | string {
  if (!substitute) {
    const pieces = [{ text: source, wild: true }];
    return { source, parts: [{ kind: 'text', text: source }], staticPieces: pieces };
  }
  const parts: TemplatePart[] = [];
  let text = '';
  let hasVar = false;
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '$' && source[i + 1] === '(' && FIXED.has(source[i + 2] ?? '') && source[i + 3] === ')') {
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'literal', text: source[i + 2]! });
      i += 4;
      continue;
    }
    if (ch === '$' && source[i + 1] === '{') {
      const end = source.indexOf('}', i + 2);
      if (end < 0) return `policy variable starting at character ${i + 1} of ${JSON.stringify(source)} has no closing '}'`;
      const name = source.slice(i + 2, end);
      if (name.length === 0 || name.includes('{') || name.includes('$')) {
        return `invalid policy variable ${JSON.stringify(source.slice(i, end + 1))} in ${JSON.stringify(source)}`;
      }
      if (text) parts.push({ kind: 'text', text });
      text = '';
      if (FIXED.has(name)) parts.push({ kind: 'literal', text: name });
      else {
        parts.push({ kind: 'var', name });
        hasVar = true;
      }
      i = end + 1;
      continue;
    }
    text += ch;
    i++;
  }
  if (text) parts.push({ kind: 'text', text });
  const staticPieces = hasVar ? undefined : parts.map((p) => toPiece(p as Exclude<TemplatePart, { kind: 'var' }>));
  return { source, parts, staticPieces };
}

const toPiece = (p: Exclude<TemplatePart, { kind: 'var' }>): Piece => ({ text: p.text, wild: p.kind === 'text' });

export type TemplateResolution = { readonly ok: true; readonly pieces: readonly Piece[] } | { readonly ok: false; readonly why: string };

export function resolveTemplate(template: Template, context: PolicyContext): TemplateResolution {
  if (template.staticPieces !== undefined) return { ok: true, pieces: template.staticPieces };
  const pieces: Piece[] = [];
  for (const part of template.parts) {
    if (part.kind === 'var') {
      const r = resolveVariable(context, part.name);
      if (!r.ok) return r;
      pieces.push({ text: r.value, wild: false });
    } else {
      pieces.push(toPiece(part));
    }
  }
  return { ok: true, pieces };
}

/** The plain string of resolved pieces (for operators where `*` and `?` mean nothing). */
export function piecesText(pieces: readonly Piece[]): string {
  return pieces.length === 1 ? pieces[0]!.text : pieces.map((p) => p.text).join('');
}
