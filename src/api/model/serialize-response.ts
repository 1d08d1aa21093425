import { getShape } from './iot-model.js';
import type { IotModel, Operation, Shape } from './iot-model.js';

export interface SerializedResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text, or '' for operations whose output has no body members. */
  readonly body: string;
}

/**
 * Render an operation's output per its output shape (rest-json): body members as a top-level
 * JSON object (keys = locationName ?? member name), Date → epoch seconds with fractional
 * milliseconds (1541022751.983), Buffer → base64, `header` members → response headers.
 * undefined/null members and keys the shape does not have are left out.
 */
export function serializeResponse(
  model: IotModel,
  operation: Operation,
  output: Readonly<Record<string, unknown>> | undefined,
): SerializedResponse {
  const statusCode = operation.http.responseCode ?? 200;
  if (operation.output === undefined) return { statusCode, headers: {}, body: '' };
  const shape = getShape(model, operation.output.shape);
  const headers: Record<string, string> = {};
  const body: Record<string, unknown> = {};
  let hasBodyMembers = false;
  let status = statusCode;
  let payloadText = '';
  const src = output ?? {};

  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const value = src[name];
    switch (ref.location) {
      case 'header':
        if (value !== undefined && value !== null) headers[(ref.locationName ?? name).toLowerCase()] = headerText(value);
        break;
      case 'headers':
        if (value !== null && typeof value === 'object') {
          for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
            if (v !== undefined && v !== null) headers[`${ref.locationName ?? ''}${k}`.toLowerCase()] = headerText(v);
          }
        }
        break;
      case 'statusCode':
        if (typeof value === 'number') status = value;
        break;
      case 'uri':
      case 'querystring':
        break;
      default: {
        hasBodyMembers = true;
        const rendered = toJson(model, getShape(model, ref.shape), value);
        if (rendered !== undefined) {
          if (shape.payload === name) payloadText = JSON.stringify(rendered);
          else body[ref.locationName ?? name] = rendered;
        }
      }
    }
  }
  if (shape.payload !== undefined) return { statusCode: status, headers, body: payloadText };
  return { statusCode: status, headers, body: hasBodyMembers ? JSON.stringify(body) : '' };
}

function headerText(value: unknown): string {
  if (value instanceof Date) return value.toUTCString();
  return String(value);
}

function epochSeconds(d: Date): number {
  return d.getTime() / 1000;
}

function toJson(model: IotModel, shape: Shape, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object') return undefined;
      const src = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [name, ref] of Object.entries(shape.members ?? {})) {
        const v = toJson(model, getShape(model, ref.shape), src[name]);
        if (v !== undefined) out[ref.locationName ?? name] = v;
      }
      return out;
    }
    case 'list': {
      if (!Array.isArray(value)) return undefined;
      const member = getShape(model, shape.member?.shape ?? '');
      return value.map((v: unknown) => toJson(model, member, v) ?? null);
    }
    case 'map': {
      if (typeof value !== 'object') return undefined;
      const valueShape = getShape(model, shape.value?.shape ?? '');
      const entries = value instanceof Map ? [...(value as Map<string, unknown>)] : Object.entries(value);
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries) {
        const rendered = toJson(model, valueShape, v);
        if (rendered !== undefined) out[String(k)] = rendered;
      }
      return out;
    }
    case 'timestamp':
      if (value instanceof Date) return epochSeconds(value);
      if (typeof value === 'number') return value;
      if (typeof value === 'string') {
        const d = new Date(value);
        return Number.isNaN(d.getTime()) ? undefined : epochSeconds(d);
      }
      return undefined;
    case 'blob':
      if (Buffer.isBuffer(value)) return value.toString('base64');
      if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
      return typeof value === 'string' ? Buffer.from(value, 'utf8').toString('base64') : undefined;
    case 'string':
      return typeof value === 'string' ? value : String(value);
    case 'integer':
    case 'long':
    case 'double':
    case 'float':
      return typeof value === 'number' ? value : Number(value);
    case 'boolean':
      return Boolean(value);
  }
}
