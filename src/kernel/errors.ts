/**
 * Typed errors, one class per AWS IoT error shape, named exactly as in the botocore model
 * (service `iot`, 2015-05-28) with the model's HTTP status. `test/conformance/errors.test.ts`
 * checks this table against service-2.json. The message is what the client sees: never put
 * internal causes in it (log those instead, via `cause`).
 */

export const IOT_ERROR_STATUS = {
  CertificateConflictException: 409,
  CertificateStateException: 406,
  CertificateValidationException: 400,
  ConflictException: 409,
  ConflictingResourceUpdateException: 409,
  DeleteConflictException: 409,
  InternalFailureException: 500,
  InvalidRequestException: 400,
  LimitExceededException: 410,
  MalformedPolicyException: 400,
  RegistrationCodeValidationException: 400,
  ResourceAlreadyExistsException: 409,
  ResourceNotFoundException: 404,
  ResourceRegistrationFailureException: 400,
  ServiceUnavailableException: 503,
  ThrottlingException: 400,
  TransferAlreadyCompletedException: 410,
  TransferConflictException: 409,
  UnauthorizedException: 401,
  VersionConflictException: 409,
  VersionsLimitExceededException: 409,
} as const;

export type IotErrorCode = keyof typeof IOT_ERROR_STATUS;

/** Authentication failures happen before the IoT service sees the request; the SDKs know these names. */
export const AUTH_ERROR_STATUS = {
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  AccessDeniedException: 403,
} as const;

export type AuthErrorCode = keyof typeof AUTH_ERROR_STATUS;

export class IotError extends Error {
  readonly code: IotErrorCode | AuthErrorCode;
  readonly httpStatus: number;
  /** Extra members of the error shape (e.g. resourceId/resourceArn), sent in the body. */
  readonly fields: Readonly<Record<string, string>>;

  constructor(
    code: IotErrorCode | AuthErrorCode,
    message: string,
    options: { fields?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code;
    this.code = code;
    this.httpStatus =
      code in IOT_ERROR_STATUS
        ? IOT_ERROR_STATUS[code as IotErrorCode]
        : AUTH_ERROR_STATUS[code as AuthErrorCode];
    this.fields = options.fields ?? {};
  }
}

const make =
  <C extends IotErrorCode | AuthErrorCode>(code: C) =>
  (message: string, options?: { fields?: Record<string, string>; cause?: unknown }): IotError =>
    new IotError(code, message, options);

export const invalidRequest = make('InvalidRequestException');
export const resourceNotFound = make('ResourceNotFoundException');
export const certificateValidation = make('CertificateValidationException');
export const certificateState = make('CertificateStateException');
export const certificateConflict = make('CertificateConflictException');
export const deleteConflict = make('DeleteConflictException');
export const malformedPolicy = make('MalformedPolicyException');
export const registrationCodeValidation = make('RegistrationCodeValidationException');
export const limitExceeded = make('LimitExceededException');
export const versionConflict = make('VersionConflictException');
export const versionsLimitExceeded = make('VersionsLimitExceededException');
export const transferConflict = make('TransferConflictException');
export const transferAlreadyCompleted = make('TransferAlreadyCompletedException');
export const unauthorized = make('UnauthorizedException');
export const internalFailure = make('InternalFailureException');

export function resourceAlreadyExists(message: string, resourceId: string, resourceArn: string): IotError {
  return new IotError('ResourceAlreadyExistsException', message, { fields: { resourceId, resourceArn } });
}

export function isIotError(e: unknown): e is IotError {
  return e instanceof IotError;
}
