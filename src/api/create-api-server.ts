import { randomUUID } from 'node:crypto';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../kernel/clock.js';
import { IotError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { API_LIMITS } from './limits.js';
import { deserializeRequest } from './model/deserialize-request.js';
import { getOperation, iotModel } from './model/iot-model.js';
import type { IotModel, Operation } from './model/iot-model.js';
import { extractUriLabels, parseRequestUri } from './model/request-uri.js';
import type { RequestUriTemplate } from './model/request-uri.js';
import { serializeResponse } from './model/serialize-response.js';
import { parseRawUrl } from './parse-raw-url.js';
import { awsErrorResponse, renderAwsError } from './render-aws-error.js';
import type { AwsErrorResponse } from './render-aws-error.js';
import { signedHeadersOnly, verifySigV4 } from './sigv4/verify-sigv4.js';

export interface CallerContext {
  accountId: string;
  region: string;
  requestId: string;
}

export type OperationHandler = (
  caller: CallerContext,
  input: Record<string, unknown>,
) => Promise<Record<string, unknown> | void>;

/** Keyed by AWS operation name, e.g. 'CreateThing'. */
export type OperationTable = Partial<Record<string, OperationHandler>>;

export interface ApiServerDeps {
  operations: OperationTable;
  authenticate: (accessKeyId: string) => Promise<{ accountId: string; secretAccessKey: string } | undefined>;
  clock: Clock;
  logger: Logger;
  bodyLimit?: number;
  /** Serve HTTPS with these node:https options (certificate, key, TLS policy); absent = plain HTTP. */
  https?: HttpsServerOptions;
  /**
   * The regions this server serves (--region plus --extra-regions). A request signed for any other region is
   * refused as AWS refuses a credential scoped to a region the endpoint does not serve. Absent = any region.
   */
  servedRegions?: readonly string[];
}

/**
 * AWS's answer to a SigV4 credential scoped to a region the endpoint does not serve (a JSON/REST service:
 * InvalidSignatureException, HTTP 403, "Credential should be scoped to a valid region, not '<region>'. ").
 */
export function unservedRegionError(region: string): IotError {
  return new IotError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'. `);
}

const REQUEST_ID_HEADER = 'x-amzn-RequestId';

function send(reply: FastifyReply, res: AwsErrorResponse | { statusCode: number; headers: Readonly<Record<string, string>>; body: string }): FastifyReply {
  reply.code(res.statusCode).headers(res.headers);
  if (res.body === '') return reply.send();
  if (!('content-type' in res.headers)) reply.header('content-type', 'application/json');
  // A Buffer, so fastify sends the content-type as set (a string would get "; charset=utf-8").
  return reply.send(Buffer.from(res.body, 'utf8'));
}

/** Errors fastify raises before our handler runs (body too large, bad content type, bad URL). */
function frameworkError(err: { statusCode?: number; code?: string }): AwsErrorResponse | undefined {
  if (err.statusCode === 413) {
    return awsErrorResponse(
      'RequestEntityTooLargeException',
      413,
      'The request body is larger than this server accepts.',
    );
  }
  if (err.statusCode === 414 || err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return awsErrorResponse('InvalidRequestException', 400, 'The request URI is too long.');
  }
  if (typeof err.code === 'string' && err.code.startsWith('FST_') && err.statusCode !== undefined && err.statusCode < 500) {
    return awsErrorResponse('InvalidRequestException', 400, 'The request could not be read.');
  }
  return undefined;
}

/**
 * The AWS IoT control-plane HTTP server: one route per model operation present in `operations`.
 * Per request: SigV4 verification → model-driven deserialization and validation → handler →
 * serialization. Every response carries x-amzn-RequestId; every failure is an AWS-shaped error.
 */
export function createApiServer(deps: ApiServerDeps): FastifyInstance {
  const model: IotModel = iotModel;
  const { logger } = deps;
  // fastify types an HTTPS instance apart; both serve the same routes, and callers only listen/close/inject.
  const app = Fastify({
    ...(deps.https !== undefined ? { https: deps.https } : {}),
    logger: false,
    bodyLimit: deps.bodyLimit ?? API_LIMITS.bodyLimit,
    routerOptions: { maxParamLength: API_LIMITS.maxParamLength },
    exposeHeadRoutes: false,
    return503OnClosing: true,
    genReqId: () => randomUUID(),
    frameworkErrors: (err, request, reply) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      void send(reply, frameworkError(err) ?? renderAwsError(err, { logger, requestId: String(request.id) }));
    },
  }) as unknown as FastifyInstance;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    logger.debug(
      { requestId: request.id, method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime },
      'api request',
    );
  });

  app.setErrorHandler((err, request, reply) => {
    const res = frameworkError(err as { statusCode?: number; code?: string }) ?? renderAwsError(err, { logger, requestId: String(request.id) });
    return send(reply, res);
  });
  app.setNotFoundHandler((request, reply) => {
    // A non-canonical path gets the reason, not "no operation" (issue 10 #10).
    try {
      parseRawUrl(request.raw.url ?? '/');
    } catch (e) {
      return send(reply, renderAwsError(e, { logger, requestId: String(request.id) }));
    }
    return send(
      reply,
      awsErrorResponse('UnknownOperationException', 404, `No operation matches ${request.method} ${(request.raw.url ?? '/').split('?')[0] ?? '/'}.`),
    );
  });

  for (const [name, handler] of Object.entries(deps.operations)) {
    if (handler === undefined) continue;
    const operation = getOperation(model, name);
    if (operation === undefined) throw new Error(`operation ${name} is not in the IoT model (src/api/model/iot-model.json)`);
    const template = parseRequestUri(operation.http.requestUri);
    app.route({
      method: operation.http.method,
      url: template.fastifyPath,
      handler: (request, reply) => handle({ deps, model, operation, template, handler }, request, reply),
    });
  }
  return app;
}

async function handle(
  ctx: { deps: ApiServerDeps; model: IotModel; operation: Operation; template: RequestUriTemplate; handler: OperationHandler },
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const requestId = String(request.id);
  try {
    const { rawPath, query } = parseRawUrl(request.raw.url ?? '/');
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verified = await verifySigV4(
      { method: request.raw.method ?? request.method, rawPath, query, headers: request.raw.headersDistinct, body },
      { lookup: ctx.deps.authenticate, clock: ctx.deps.clock },
    );
    // The region comes from the verified credential scope: only the operator's regions exist (issue 10 #11).
    if (ctx.deps.servedRegions !== undefined && !ctx.deps.servedRegions.includes(verified.region)) throw unservedRegionError(verified.region);
    const input = deserializeRequest(ctx.model, ctx.operation, {
      labels: extractUriLabels(ctx.template, rawPath),
      query,
      headers: signedHeadersOnly(request.headers, verified.signedHeaders),
      body,
    });
    const caller: CallerContext = { accountId: verified.identity.accountId, region: verified.region, requestId };
    const output: Record<string, unknown> | void = await ctx.handler(caller, input);
    return send(reply, serializeResponse(ctx.model, ctx.operation, output === undefined ? undefined : output));
  } catch (e) {
    return send(reply, renderAwsError(e, { logger: ctx.deps.logger, requestId }));
  }
}
