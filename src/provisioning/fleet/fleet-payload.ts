import { decode as cborDecode, encode as cborEncode } from 'cborg';
import type { FleetPayloadFormat } from './fleet-topics.js';
import { invalidOwnershipToken, invalidPayload } from './fleet-rejection.js';

/**
 * Request and response bodies of the fleet provisioning MQTT API in JSON or CBOR (the topic's
 * payload-format), shapes as the AWS IoT Device SDK's iotidentity model names them.
 */

export interface CreateCertificateFromCsrRequest {
  readonly certificateSigningRequest: string;
}

export interface RegisterThingRequest {
  readonly certificateOwnershipToken: string;
  readonly parameters: Readonly<Record<string, string>>;
}

/**
 * CBOR maps are decoded as Maps and turned into plain objects here, each key defined as an own property:
 * a `__proto__` key stays data, never the object's prototype. Non-string keys are refused.
 */
function plainFromCbor(value: unknown, depth = 0): unknown {
  if (depth > 32) throw new Error('CBOR nested too deeply');
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) {
      if (typeof k !== 'string') throw new Error('CBOR map keys must be strings');
      Object.defineProperty(out, k, { value: plainFromCbor(v, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => plainFromCbor(v, depth + 1));
  return value;
}

/** The payload as a plain value; empty payload = `{}` (CreateKeysAndCertificate takes no body). */
export function decodeFleetPayload(format: FleetPayloadFormat, payload: Uint8Array): unknown {
  if (payload.length === 0) return {};
  try {
    if (format === 'json') return JSON.parse(Buffer.from(payload).toString('utf8')) as unknown;
    return plainFromCbor(cborDecode(payload, { useMaps: true }));
  } catch (e) {
    throw invalidPayload(`The payload is not valid ${format === 'json' ? 'JSON' : 'CBOR'}`, e);
  }
}

export function encodeFleetPayload(format: FleetPayloadFormat, body: object): Buffer {
  if (format === 'json') return Buffer.from(JSON.stringify(body));
  const bytes = cborEncode(body);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Longest CSR the model accepts (CreateCertificateFromCsr certificateSigningRequest). */
const MAX_CSR_CHARS = 4096;
/** RegisterThing parameters as the model bounds them: keys ≤ 2048, values ≤ 4096 characters. */
const MAX_PARAMETER_KEY = 2048;
const MAX_PARAMETER_VALUE = 4096;
const MAX_PARAMETERS = 100;
const MAX_TOKEN_CHARS = 2048;

export function readCreateKeysAndCertificateRequest(body: unknown): void {
  if (!isRecord(body)) throw invalidPayload('The request must be an object ({} for CreateKeysAndCertificate)');
}

export function readCreateCertificateFromCsrRequest(body: unknown): CreateCertificateFromCsrRequest {
  if (!isRecord(body)) throw invalidPayload('The request must be an object with certificateSigningRequest');
  const csr = body['certificateSigningRequest'];
  if (typeof csr !== 'string' || csr.trim() === '') throw invalidPayload('certificateSigningRequest is required (a PEM certificate signing request)');
  if (csr.length > MAX_CSR_CHARS) throw invalidPayload(`certificateSigningRequest is longer than ${MAX_CSR_CHARS} characters`);
  return { certificateSigningRequest: csr };
}

export function readRegisterThingRequest(body: unknown): RegisterThingRequest {
  if (!isRecord(body)) throw invalidPayload('The request must be an object with certificateOwnershipToken and parameters');
  const token = body['certificateOwnershipToken'];
  if (token === undefined || token === null || token === '') {
    throw invalidOwnershipToken('Certificate ownership token cannot be empty.');
  }
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) throw invalidPayload('certificateOwnershipToken must be a string');
  const raw = body['parameters'];
  const parameters: Record<string, string> = {};
  if (raw !== undefined && raw !== null) {
    if (!isRecord(raw)) throw invalidPayload('parameters must be an object of string values');
    const entries = Object.entries(raw);
    if (entries.length > MAX_PARAMETERS) throw invalidPayload(`parameters has more than ${MAX_PARAMETERS} entries`);
    for (const [k, v] of entries) {
      if (typeof v !== 'string') throw invalidPayload(`parameters.${k.slice(0, 64)} must be a string`);
      if (k.length > MAX_PARAMETER_KEY || v.length > MAX_PARAMETER_VALUE) throw invalidPayload('a parameter name or value is too long');
      Object.defineProperty(parameters, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  return { certificateOwnershipToken: token, parameters };
}
