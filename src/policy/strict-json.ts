/**
 * A small strict JSON reader for policy documents. Unlike JSON.parse it reports every syntax
 * error with line, column and offset, and it refuses duplicate object keys (IAM treats a
 * document with two "Effect" keys as ambiguous; silently keeping the last one would be a trap).
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface JsonSyntaxProblem {
  readonly message: string;
  readonly position: number;
  readonly line: number;
  readonly column: number;
}

/** Thrown only inside this module's callers' reach; carries a location for a precise message. */
export class JsonSyntaxError extends Error {
  readonly problem: JsonSyntaxProblem;
  constructor(problem: JsonSyntaxProblem) {
    super(`${problem.message} at line ${problem.line} column ${problem.column} (position ${problem.position})`);
    this.name = 'JsonSyntaxError';
    this.problem = problem;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function parseStrictJson(text: string): JsonValue {
  let pos = 0;

  const fail = (message: string, at: number = pos): never => {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < text.length; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    throw new JsonSyntaxError({ message, position: at, line, column: at - lineStart + 1 });
  };

  const describe = (at: number): string =>
    at >= text.length ? 'end of input' : `character ${JSON.stringify(text[at])}`;

  const skipWs = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) pos++;
      else break;
    }
  };

  const expect = (ch: string): void => {
    if (text[pos] !== ch) fail(`expected '${ch}' but found ${describe(pos)}`);
    pos++;
  };

  const readString = (): string => {
    const start = pos;
    expect('"');
    let out = '';
    for (;;) {
      if (pos >= text.length) fail('unterminated string', start);
      const ch = text[pos]!;
      const code = ch.charCodeAt(0);
      if (ch === '"') {
        pos++;
        return out;
      }
      if (code < 0x20) fail('control character in string (escape it)');
      if (ch === '\\') {
        const esc = text[pos + 1];
        if (esc === 'u') {
          const hex = text.slice(pos + 2, pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape in string');
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 6;
        } else if (esc !== undefined && ESCAPES[esc] !== undefined) {
          out += ESCAPES[esc];
          pos += 2;
        } else {
          fail('invalid escape in string');
        }
      } else {
        out += ch;
        pos++;
      }
    }
  };

  const readValue = (): JsonValue => {
    skipWs();
    const ch = text[pos];
    if (ch === '{') {
      pos++;
      const obj: JsonObject = Object.create(null) as JsonObject;
      skipWs();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        skipWs();
        if (text[pos] !== '"') fail(`expected a property name in double quotes but found ${describe(pos)}`);
        const keyAt = pos;
        const key = readString();
        if (Object.hasOwn(obj, key)) fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
        skipWs();
        expect(':');
        obj[key] = readValue();
        skipWs();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        fail(`expected ',' or '}' but found ${describe(pos)}`);
      }
    }
    if (ch === '[') {
      pos++;
      const arr: JsonValue[] = [];
      skipWs();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(readValue());
        skipWs();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        fail(`expected ',' or ']' but found ${describe(pos)}`);
      }
    }
    if (ch === '"') return readString();
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    NUMBER_RE.lastIndex = pos;
    const m = NUMBER_RE.exec(text);
    if (m !== null && m[0].length > 0) {
      pos += m[0].length;
      return Number(m[0]);
    }
    return fail(`unexpected ${describe(pos)}`);
  };

  const value = readValue();
  skipWs();
  if (pos < text.length) fail(`unexpected ${describe(pos)} after the end of the document`);
  return value;
}
