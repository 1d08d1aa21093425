/** A createApiServer on 127.0.0.1:0 with a small echoing operation table, for the api tests. */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { FastifyInstance } from 'fastify';
import { createApiServer } from '../../src/api/index.js';
import type { OperationTable } from '../../src/api/index.js';
import type { Logger } from '../../src/kernel/logger.js';

export const ACCESS_KEY_ID = 'AKIACERTGATETEST0001';
export const SECRET_ACCESS_KEY = 'test/secret+key/0000000000000000000000';
export const ACCOUNT_ID = '123456789012';
export const REGION = 'eu-west-1';

export interface Harness {
  app: FastifyInstance;
  endpoint: string;
  port: number;
  /** Milliseconds added to the server's clock. */
  skewMs: { value: number };
  logged: { level: string; obj: object; msg?: string | undefined }[];
  calls: { operation: string; input: Record<string, unknown>; accountId: string; region: string }[];
  close(): Promise<void>;
}

export async function startHarness(extra: OperationTable = {}): Promise<Harness> {
  const calls: Harness['calls'] = [];
  const logged: Harness['logged'] = [];
  const record =
    (level: string) =>
    (obj: object, msg?: string): void => {
      logged.push({ level, obj, msg });
    };
  const logger: Logger = { info: record('info'), warn: record('warn'), error: record('error'), debug: record('debug') };
  const skewMs = { value: 0 };
  const echo =
    (operation: string, out: (input: Record<string, unknown>) => Record<string, unknown> | undefined) =>
    async (caller: { accountId: string; region: string }, input: Record<string, unknown>) => {
      calls.push({ operation, input, accountId: caller.accountId, region: caller.region });
      return out(input);
    };
  const operations: OperationTable = {
    DescribeEndpoint: echo('DescribeEndpoint', (i) => ({ endpointAddress: `prefix-ats.iot.${String(i['endpointType'])}` })),
    CreateThing: echo('CreateThing', (i) => ({
      thingName: i['thingName'],
      thingArn: `arn:aws:iot:${REGION}:${ACCOUNT_ID}:thing/${String(i['thingName'])}`,
      thingId: JSON.stringify(i['attributePayload'] ?? null),
    })),
    DescribeThing: echo('DescribeThing', (i) => ({ thingName: i['thingName'], version: 3, attributes: { a: 'b' } })),
    ListAttachedPolicies: echo('ListAttachedPolicies', (i) => ({
      policies: [{ policyName: 'p1', policyArn: String(i['target']) }],
      nextMarker: undefined,
    })),
    DescribeCertificate: echo('DescribeCertificate', (i) => ({
      certificateDescription: {
        certificateId: i['certificateId'],
        status: 'ACTIVE',
        creationDate: new Date(1541022751983),
        validity: { notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2049-12-31T23:59:59Z') },
        internalOnly: 'must not be sent',
      },
    })),
    UpdateCertificate: echo('UpdateCertificate', () => undefined),
    DeleteThing: async () => {
      throw new Error('database password is hunter2');
    },
    ...extra,
  };
  const app = createApiServer({
    operations,
    authenticate: async (id) =>
      id === ACCESS_KEY_ID ? { accountId: ACCOUNT_ID, secretAccessKey: SECRET_ACCESS_KEY } : undefined,
    clock: { now: () => new Date(Date.now() + skewMs.value) },
    logger,
    bodyLimit: 64 * 1024,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    app,
    port,
    endpoint: `http://127.0.0.1:${port}`,
    skewMs,
    logged,
    calls,
    close: () => app.close(),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Send exactly these bytes (path as given, body as given) over a plain socket. */
export function sendRaw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | Buffer = '',
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const bytes = Buffer.from(body);
    const framed = bytes.length > 0 ? { 'content-length': String(bytes.length), ...headers } : headers;
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: framed, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

/** Sign a request with @smithy/signature-v4 the way the AWS SDK does; returns the signed headers. */
export async function signRequest(opts: {
  port: number;
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
  secretAccessKey?: string;
  accessKeyId?: string;
  signingDate?: Date;
  service?: string;
  /** Add x-amz-content-sha256 (smithy's default); false signs the body hash without sending it. */
  applyChecksum?: boolean;
}): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: opts.service ?? 'iot',
    region: REGION,
    credentials: {
      accessKeyId: opts.accessKeyId ?? ACCESS_KEY_ID,
      secretAccessKey: opts.secretAccessKey ?? SECRET_ACCESS_KEY,
    },
    sha256: Sha256,
    applyChecksum: opts.applyChecksum ?? true,
  });
  const req = new HttpRequest({
    method: opts.method,
    hostname: '127.0.0.1',
    port: opts.port,
    path: opts.path,
    query: opts.query ?? {},
    headers: { host: `127.0.0.1:${opts.port}`, 'content-type': 'application/json', ...opts.headers },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  const signed = await signer.sign(req, opts.signingDate ? { signingDate: opts.signingDate } : {});
  return signed.headers as Record<string, string>;
}

export function errorType(res: RawResponse): string | undefined {
  const v = res.headers['x-amzn-errortype'];
  return typeof v === 'string' ? v : undefined;
}
