import { isIotError } from '../../kernel/index.js';

/**
 * The `/rejected` answer of the fleet provisioning MQTT API: `{statusCode, errorCode, errorMessage}`
 * (iotidentity ErrorResponse). The message is what the device sees; causes are logged, never sent.
 * Codes seen from AWS: 400 InvalidCertificateOwnershipToken (aws-iot-device-sdk-js-v2#69); the others
 * follow AWS's HTTP-like statuses (400 bad input, 403 refused by the pre-provisioning hook, 404 unknown
 * template, 500 internal).
 */
export class FleetRejection extends Error {
  readonly statusCode: number;
  readonly errorCode: string;

  constructor(statusCode: number, errorCode: string, errorMessage: string, options?: { cause?: unknown }) {
    super(errorMessage, options);
    this.name = 'FleetRejection';
    this.statusCode = statusCode;
    this.errorCode = errorCode;
  }

  toPayload(): { statusCode: number; errorCode: string; errorMessage: string } {
    return { statusCode: this.statusCode, errorCode: this.errorCode, errorMessage: this.message };
  }
}

export const invalidPayload = (message: string, cause?: unknown): FleetRejection =>
  new FleetRejection(400, 'InvalidPayload', message, cause === undefined ? undefined : { cause });
export const invalidOwnershipToken = (message: string): FleetRejection => new FleetRejection(400, 'InvalidCertificateOwnershipToken', message);
export const templateNotFound = (name: string): FleetRejection =>
  new FleetRejection(404, 'ResourceNotFound', `Provisioning template ${name} does not exist in this account`);
export const templateNotUsable = (message: string): FleetRejection => new FleetRejection(400, 'InvalidRequest', message);
export const provisioningDenied = (message: string): FleetRejection => new FleetRejection(403, 'AccessDenied', message);
export const throttled = (message: string): FleetRejection => new FleetRejection(429, 'Throttled', message);
/**
 * The account's ceiling of certificates created over MQTT and not yet provisioned is reached: 400 LimitExceeded,
 * as a LimitExceededException of the registry reaches a device (toFleetRejection below).
 */
export const pendingLimitExceeded = (pending: number, limit: number): FleetRejection =>
  new FleetRejection(
    400,
    'LimitExceeded',
    `This account has ${pending} certificates created by fleet provisioning and not yet provisioned (at most ${limit}); provision them with RegisterThing, or retry once unused ones expire with their ownership tokens`,
  );
export const internalError = (cause: unknown): FleetRejection =>
  new FleetRejection(500, 'InternalError', 'Internal error; the request can be retried', { cause });

/**
 * A failure of a registry use case as a rejection: IotErrors keep their client-safe message and status,
 * with the code's `Exception` suffix dropped (InvalidRequestException → InvalidRequest); anything else is
 * an internal error.
 */
export function toFleetRejection(e: unknown): FleetRejection {
  if (e instanceof FleetRejection) return e;
  if (isIotError(e)) {
    const status = e.httpStatus >= 500 ? 500 : e.httpStatus === 406 || e.httpStatus === 410 ? 400 : e.httpStatus;
    return new FleetRejection(status, e.code.replace(/Exception$/, ''), e.message, { cause: e });
  }
  return internalError(e);
}
