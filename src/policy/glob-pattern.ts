/**
 * IAM-style glob: `*` matches any run of characters (including `/`), `?` exactly one; every other
 * character, MQTT `+` and `#` included, is literal. Compiled into fixed-length chunks separated by
 * stars and matched without regular expressions (no backtracking blow-up, no escaping concerns).
 */

import type { Piece } from './policy-template.js';

interface Chunk {
  readonly text: string;
  /** Positions in `text` that are `?` wildcards, or null when there are none. */
  readonly any: readonly boolean[] | null;
}

export interface GlobPattern {
  /** Chunks between stars; one chunk means no star (the whole input must match it). */
  readonly chunks: readonly Chunk[];
  readonly ignoreCase: boolean;
}

export function globFromPieces(pieces: readonly Piece[], ignoreCase = false): GlobPattern {
  const chunks: Chunk[] = [];
  let text = '';
  let any: boolean[] | null = null;
  const close = (): void => {
    chunks.push({ text, any });
    text = '';
    any = null;
  };
  for (const piece of pieces) {
    const source = ignoreCase ? piece.text.toLowerCase() : piece.text;
    if (!piece.wild) {
      if (any !== null) for (let i = 0; i < source.length; i++) any.push(false);
      text += source;
      continue;
    }
    for (const ch of source) {
      if (ch === '*') close();
      else if (ch === '?') {
        any ??= new Array<boolean>(text.length).fill(false);
        any.push(true);
        text += '?';
      } else {
        if (any !== null) for (let i = 0; i < ch.length; i++) any.push(false);
        text += ch;
      }
    }
  }
  close();
  return { chunks, ignoreCase };
}

export function globFromString(pattern: string, ignoreCase = false): GlobPattern {
  return globFromPieces([{ text: pattern, wild: true }], ignoreCase);
}

function matchAt(chunk: Chunk, input: string, at: number): boolean {
  if (chunk.any === null) return input.startsWith(chunk.text, at);
  const { text, any } = chunk;
  if (at + text.length > input.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (!any[i] && input.charCodeAt(at + i) !== text.charCodeAt(i)) return false;
  }
  return true;
}

/** Leftmost position in [from, last] where the chunk matches, or -1. */
function find(chunk: Chunk, input: string, from: number, last: number): number {
  if (chunk.any === null) {
    const i = input.indexOf(chunk.text, from);
    return i >= 0 && i <= last ? i : -1;
  }
  for (let i = from; i <= last; i++) if (matchAt(chunk, input, i)) return i;
  return -1;
}

export function globMatches(pattern: GlobPattern, value: string): boolean {
  const input = pattern.ignoreCase ? value.toLowerCase() : value;
  const { chunks } = pattern;
  const first = chunks[0]!;
  if (chunks.length === 1) return input.length === first.text.length && matchAt(first, input, 0);
  if (!matchAt(first, input, 0)) return false;
  let pos = first.text.length;
  const lastChunk = chunks[chunks.length - 1]!;
  const tailAt = input.length - lastChunk.text.length;
  if (tailAt < pos || !matchAt(lastChunk, input, tailAt)) return false;
  // Leftmost matching of each middle chunk is optimal: a later chunk never needs an earlier one to move right.
  for (let c = 1; c < chunks.length - 1; c++) {
    const chunk = chunks[c]!;
    const at = find(chunk, input, pos, tailAt - chunk.text.length);
    if (at < 0) return false;
    pos = at + chunk.text.length;
  }
  return true;
}
