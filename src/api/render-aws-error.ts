import type { Logger } from '../kernel/logger.js';
import { isIotError } from '../kernel/errors.js';

/** An error as the AWS SDKs read it off the wire. */
export interface AwsErrorResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The rest-json error wire format: status, `x-amzn-ErrorType: <Code>` (which botocore and SDK v3
 * both read first to name the exception), and a JSON body `{"message": ..., ...members}`.
 */
export function awsErrorResponse(
  code: string,
  statusCode: number,
  message: string,
  fields: Readonly<Record<string, string>> = {},
): AwsErrorResponse {
  return {
    statusCode,
    headers: { 'x-amzn-ErrorType': code, 'content-type': 'application/json' },
    body: JSON.stringify({ ...fields, message }),
  };
}

export const INTERNAL_FAILURE_MESSAGE = 'An internal error occurred. Retry the request; if the problem persists, check the server log.';

/**
 * IotError → its code, model status, safe message and shape members. Anything else → 500
 * InternalFailureException with a generic message; the real error (and any IotError cause) is
 * logged with the request id, never sent.
 */
export function renderAwsError(err: unknown, ctx: { readonly logger: Logger; readonly requestId: string }): AwsErrorResponse {
  if (isIotError(err)) {
    if (err.cause !== undefined) {
      ctx.logger.warn({ requestId: ctx.requestId, code: err.code, err: err.cause }, `${err.code}: ${err.message}`);
    } else {
      ctx.logger.debug({ requestId: ctx.requestId, code: err.code }, `${err.code}: ${err.message}`);
    }
    return awsErrorResponse(err.code, err.httpStatus, err.message, err.fields);
  }
  ctx.logger.error({ requestId: ctx.requestId, err }, 'internal failure while handling an API request');
  return awsErrorResponse('InternalFailureException', 500, INTERNAL_FAILURE_MESSAGE);
}
