/**
 * Turns one condition value (after variable substitution) into a test of one context value,
 * per operator family. Returns a message instead when the value does not fit the operator
 * (a number for Numeric*, a date for Date*, true/false for Bool and Null, a CIDR for IpAddress).
 */

import type { Comparison, OperatorInfo } from './condition-operators.js';
import type { Piece } from './policy-template.js';
import { piecesText } from './policy-template.js';
import { globFromPieces, globMatches } from './glob-pattern.js';
import type { GlobPattern } from './glob-pattern.js';
import { ipBlockContains, parseIpAddress, parseIpBlock } from './ip-address.js';

export type ValueTest = (contextValue: string) => boolean;

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const EPOCH_RE = /^\d+(?:\.\d+)?$/;
const ISO_RE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

export function parseNumber(text: string): number | undefined {
  if (!NUMBER_RE.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** ISO 8601 (a time without zone is UTC) or epoch seconds → epoch milliseconds. */
export function parseDate(text: string): number | undefined {
  if (EPOCH_RE.test(text)) return Number(text) * 1000;
  const m = ISO_RE.exec(text);
  if (m === null) return undefined;
  const [, day, time, zone] = m;
  let iso = day!;
  if (time !== undefined) {
    let z = zone ?? 'Z';
    if (/^[+-]\d{4}$/.test(z)) z = `${z.slice(0, 3)}:${z.slice(3)}`;
    iso += `T${time}${z.toUpperCase()}`;
  }
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

function compare(a: number, b: number, how: Comparison): boolean {
  switch (how) {
    case 'eq':
      return a === b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
  }
}

/** Splits resolved pieces at the first five colons: the six ARN components. */
function splitArnPieces(pieces: readonly Piece[]): Piece[][] {
  const segments: Piece[][] = [[]];
  for (const piece of pieces) {
    let rest = piece.text;
    for (;;) {
      const colon = segments.length < 6 ? rest.indexOf(':') : -1;
      if (colon < 0) break;
      segments[segments.length - 1]!.push({ text: rest.slice(0, colon), wild: piece.wild });
      segments.push([]);
      rest = rest.slice(colon + 1);
    }
    segments[segments.length - 1]!.push({ text: rest, wild: piece.wild });
  }
  return segments;
}

function splitArn(value: string): string[] | undefined {
  const out: string[] = [];
  let rest = value;
  for (let i = 0; i < 5; i++) {
    const colon = rest.indexOf(':');
    if (colon < 0) return undefined;
    out.push(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  out.push(rest);
  return out;
}

export function makeValueTest(info: OperatorInfo, pieces: readonly Piece[]): ValueTest | string {
  const text = piecesText(pieces);
  switch (info.family) {
    case 'String':
    case 'Binary':
      return (v) => v === text;
    case 'StringIgnoreCase': {
      const lower = text.toLowerCase();
      return (v) => v.toLowerCase() === lower;
    }
    case 'StringLike': {
      const glob = globFromPieces(pieces);
      return (v) => globMatches(glob, v);
    }
    case 'Numeric': {
      const n = parseNumber(text);
      if (n === undefined) return `${JSON.stringify(text)} is not a number`;
      return (v) => {
        const c = parseNumber(v);
        return c !== undefined && compare(c, n, info.comparison);
      };
    }
    case 'Date': {
      const d = parseDate(text);
      if (d === undefined) return `${JSON.stringify(text)} is not an ISO 8601 date or epoch seconds`;
      return (v) => {
        const c = parseDate(v);
        return c !== undefined && compare(c, d, info.comparison);
      };
    }
    case 'Bool':
    case 'Null': {
      const lower = text.toLowerCase();
      if (lower !== 'true' && lower !== 'false') return `${JSON.stringify(text)} is not true or false`;
      return (v) => v.toLowerCase() === lower;
    }
    case 'Ip': {
      const block = parseIpBlock(text);
      if (block === undefined) return `${JSON.stringify(text)} is not an IP address or CIDR block`;
      return (v) => {
        const addr = parseIpAddress(v);
        return addr !== undefined && ipBlockContains(block, addr);
      };
    }
    case 'Arn': {
      const segments = splitArnPieces(pieces);
      if (segments.length !== 6) return `${JSON.stringify(text)} is not an ARN (arn:partition:service:region:account:resource)`;
      const globs: GlobPattern[] = segments.map((s) => globFromPieces(s));
      return (v) => {
        const parts = splitArn(v);
        return parts !== undefined && globs.every((g, i) => globMatches(g, parts[i]!));
      };
    }
  }
}
