import { invalidRequest } from '../../kernel/errors.js';
import { compileModelPattern } from './compile-model-pattern.js';
import { getShape } from './iot-model.js';
import type { IotModel, Operation, Shape, ShapeRef } from './iot-model.js';

/** The parts of an HTTP request an operation's input is bound from (rest-json). */
export interface RawOperationRequest {
  /** URI labels of the matched requestUri, already percent-decoded, by label name. */
  readonly labels: Readonly<Record<string, string>>;
  /** Decoded query parameters, multi-valued. */
  readonly query: Readonly<Record<string, readonly string[]>>;
  /** Request headers, names lower-case. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The raw body. */
  readonly body: Buffer;
}

type Input = Record<string, unknown>;

/** Collects AWS-style validation errors: `Value 'x' at 'path' failed to satisfy constraint: ...`. */
class Problems {
  readonly list: string[] = [];
  add(value: unknown, path: string, constraint: string, sensitive: boolean): void {
    const shown = value === undefined || value === null ? 'null' : sensitive ? "'***'" : describe(value);
    this.list.push(`Value ${shown} at '${path}' failed to satisfy constraint: ${constraint}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 256 ? `${value.slice(0, 256)}...` : value}'`;
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (Buffer.isBuffer(value)) return `'<${value.length} bytes>'`;
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  if (value !== null && typeof value === 'object') return `'${JSON.stringify(value).slice(0, 256)}'`;
  return String(value);
}

/**
 * Build and validate an operation's input from a request, following the model: members with
 * `location` uri / querystring / header / headers come from there (strings converted to the
 * member's type), every other member from the top-level JSON body (or the `payload` member).
 * Unknown body keys are ignored. Any violation → InvalidRequestException listing every problem.
 */
export function deserializeRequest(model: IotModel, operation: Operation, req: RawOperationRequest): Input {
  if (operation.input === undefined) return {};
  const shape = getShape(model, operation.input.shape);
  const members = shape.members ?? {};
  const problems = new Problems();
  const input: Input = {};

  const bodyMembers = Object.entries(members).filter(([, ref]) => ref.location === undefined);
  let body: Record<string, unknown> | undefined;
  if (bodyMembers.length > 0) body = parseJsonBody(req.body, shape.payload !== undefined);

  for (const [name, ref] of Object.entries(members)) {
    const target = getShape(model, ref.shape);
    const wireName = ref.locationName ?? name;
    let value: unknown;
    switch (ref.location) {
      case 'uri': {
        const raw = req.labels[wireName];
        value = raw === undefined ? undefined : fromText(target, raw, name, problems, model);
        break;
      }
      case 'querystring':
        value = fromQuery(model, target, ref, name, req.query, problems);
        break;
      case 'header': {
        const raw = firstHeader(req.headers[wireName.toLowerCase()]);
        value = raw === undefined ? undefined : fromText(target, raw, name, problems, model);
        break;
      }
      case 'headers':
        value = prefixHeaders(req.headers, wireName.toLowerCase());
        break;
      case 'statusCode':
        value = undefined;
        break;
      default:
        if (shape.payload === name) {
          value = body === undefined ? undefined : fromJson(model, target, body, name, problems);
        } else if (shape.payload === undefined && body !== undefined && Object.hasOwn(body, wireName)) {
          value = fromJson(model, target, body[wireName], name, problems);
        }
    }
    if (value !== undefined) input[name] = value;
  }

  validateStructure(model, shape, input, '', problems);
  if (problems.list.length > 0) {
    const n = problems.list.length;
    throw invalidRequest(`${n} validation error${n === 1 ? '' : 's'} detected: ${problems.list.join('; ')}`);
  }
  return input;
}

function parseJsonBody(raw: Buffer, isPayload: boolean): Record<string, unknown> | undefined {
  const text = raw.toString('utf8');
  if (text.trim() === '') return isPayload ? undefined : {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidRequest('The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

function firstHeader(v: string | readonly string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : v?.[0];
}

function prefixHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  prefix: string,
): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let any = false;
  for (const [k, v] of Object.entries(headers)) {
    const first = firstHeader(v);
    if (k.startsWith(prefix) && first !== undefined) {
      out[k.slice(prefix.length)] = first;
      any = true;
    }
  }
  return any ? out : undefined;
}

function fromQuery(
  model: IotModel,
  target: Shape,
  ref: ShapeRef,
  path: string,
  query: Readonly<Record<string, readonly string[]>>,
  problems: Problems,
): unknown {
  if (target.type === 'map' && ref.locationName === undefined) {
    // A map bound to the whole query string: every parameter not bound elsewhere (not used by IoT).
    const out: Record<string, string> = {};
    for (const [k, vs] of Object.entries(query)) if (vs[0] !== undefined) out[k] = vs[0];
    return out;
  }
  const values = Object.hasOwn(query, ref.locationName ?? path) ? query[ref.locationName ?? path] : undefined;
  if (values === undefined || values.length === 0) return undefined;
  if (target.type === 'list') {
    const member = getShape(model, target.member?.shape ?? '');
    return values.map((v, i) => fromText(member, v, `${path}.${i + 1}.member`, problems, model));
  }
  return fromText(target, values[0] ?? '', path, problems, model);
}

/** Convert a string from the URI, query or a header to the member's type. */
function fromText(shape: Shape, raw: string, path: string, problems: Problems, model: IotModel): unknown {
  switch (shape.type) {
    case 'string':
      return raw;
    case 'integer':
    case 'long':
      if (!/^-?\d+$/.test(raw)) return typeError(problems, raw, path, 'an integer');
      return Number(raw);
    case 'double':
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) return typeError(problems, raw, path, 'a number');
      return n;
    }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      return typeError(problems, raw, path, 'a boolean (true or false)');
    case 'timestamp': {
      const d = /^-?\d+(\.\d+)?$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
      if (Number.isNaN(d.getTime())) return typeError(problems, raw, path, 'a timestamp');
      return d;
    }
    case 'blob':
      return Buffer.from(raw, 'base64');
    case 'list': {
      const member = getShape(model, shape.member?.shape ?? '');
      return raw.split(',').map((v, i) => fromText(member, v.trim(), `${path}.${i + 1}.member`, problems, model));
    }
    default:
      return typeError(problems, raw, path, `a ${shape.type}`);
  }
}

/** Convert a JSON value to the member's type (timestamps → Date, blobs → Buffer). null = absent. */
function fromJson(model: IotModel, shape: Shape, value: unknown, path: string, problems: Problems): unknown {
  if (value === null || value === undefined) return undefined;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) return typeError(problems, value, path, 'an object');
      const src = value as Record<string, unknown>;
      const out: Input = {};
      for (const [name, ref] of Object.entries(shape.members ?? {})) {
        const wire = ref.locationName ?? name;
        if (!Object.hasOwn(src, wire)) continue;
        const v = fromJson(model, getShape(model, ref.shape), src[wire], `${path}.${name}`, problems);
        if (v !== undefined) out[name] = v;
      }
      return out;
    }
    case 'list': {
      if (!Array.isArray(value)) return typeError(problems, value, path, 'a list');
      const member = getShape(model, shape.member?.shape ?? '');
      return value.map((v: unknown, i) => fromJson(model, member, v, `${path}.${i + 1}.member`, problems));
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return typeError(problems, value, path, 'a map');
      const valueShape = getShape(model, shape.value?.shape ?? '');
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const converted = fromJson(model, valueShape, v, `${path}.${k}`, problems);
        if (converted !== undefined) out[k] = converted;
      }
      return out;
    }
    case 'string':
      return typeof value === 'string' ? value : typeError(problems, value, path, 'a string');
    case 'integer':
    case 'long':
      return typeof value === 'number' && Number.isInteger(value) ? value : typeError(problems, value, path, 'an integer');
    case 'double':
    case 'float':
      return typeof value === 'number' ? value : typeError(problems, value, path, 'a number');
    case 'boolean':
      return typeof value === 'boolean' ? value : typeError(problems, value, path, 'a boolean');
    case 'timestamp': {
      const d =
        typeof value === 'number' ? new Date(value * 1000) : typeof value === 'string' ? new Date(value) : undefined;
      if (d === undefined || Number.isNaN(d.getTime())) return typeError(problems, value, path, 'a timestamp');
      return d;
    }
    case 'blob':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : typeError(problems, value, path, 'a base64 string');
  }
}

function typeError(problems: Problems, value: unknown, path: string, what: string): undefined {
  problems.add(value, path.replace(/^\./, ''), `Member must be ${what}`, false);
  return undefined;
}

function validateStructure(model: IotModel, shape: Shape, value: Input, prefix: string, problems: Problems): void {
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const v = value[name];
    if (v === undefined) {
      if (shape.required?.includes(name)) problems.add(undefined, path, 'Member must not be null', false);
      continue;
    }
    validateValue(model, getShape(model, ref.shape), v, path, problems);
  }
}

function validateValue(model: IotModel, shape: Shape, v: unknown, path: string, problems: Problems): void {
  const sensitive = shape.sensitive === true;
  switch (shape.type) {
    case 'string':
      if (typeof v !== 'string') return;
      checkLength(shape, v.length, v, path, problems, sensitive);
      if (shape.enum !== undefined && !shape.enum.includes(v)) {
        problems.add(v, path, `Member must satisfy enum value set: [${shape.enum.join(', ')}]`, sensitive);
      }
      if (shape.pattern !== undefined) {
        const re = compileModelPattern(shape.pattern);
        if (re !== undefined && !re.test(v)) {
          problems.add(v, path, `Member must satisfy regular expression pattern: ${shape.pattern}`, sensitive);
        }
      }
      return;
    case 'integer':
    case 'long':
    case 'double':
    case 'float':
      if (typeof v !== 'number') return;
      if (shape.min !== undefined && v < shape.min) {
        problems.add(v, path, `Member must have value greater than or equal to ${shape.min}`, sensitive);
      }
      if (shape.max !== undefined && v > shape.max) {
        problems.add(v, path, `Member must have value less than or equal to ${shape.max}`, sensitive);
      }
      return;
    case 'blob':
      if (Buffer.isBuffer(v)) checkLength(shape, v.length, v, path, problems, sensitive);
      return;
    case 'list': {
      if (!Array.isArray(v)) return;
      checkLength(shape, v.length, v, path, problems, sensitive);
      const member = getShape(model, shape.member?.shape ?? '');
      v.forEach((item: unknown, i) => {
        if (item !== undefined) validateValue(model, member, item, `${path}.${i + 1}.member`, problems);
      });
      return;
    }
    case 'map': {
      if (v === null || typeof v !== 'object') return;
      const entries = Object.entries(v as Record<string, unknown>);
      checkLength(shape, entries.length, v, path, problems, sensitive);
      const keyShape = getShape(model, shape.key?.shape ?? '');
      const valueShape = getShape(model, shape.value?.shape ?? '');
      for (const [k, item] of entries) {
        validateValue(model, keyShape, k, `${path}.key`, problems);
        if (item !== undefined) validateValue(model, valueShape, item, `${path}.${k}`, problems);
      }
      return;
    }
    case 'structure':
      if (v !== null && typeof v === 'object') validateStructure(model, shape, v as Input, path, problems);
      return;
    default:
      return;
  }
}

function checkLength(shape: Shape, length: number, v: unknown, path: string, problems: Problems, sensitive: boolean): void {
  if (shape.min !== undefined && length < shape.min) {
    problems.add(v, path, `Member must have length greater than or equal to ${shape.min}`, sensitive);
  }
  if (shape.max !== undefined && length > shape.max) {
    problems.add(v, path, `Member must have length less than or equal to ${shape.max}`, sensitive);
  }
}
