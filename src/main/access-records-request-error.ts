/** An error answer of the server (its AWS error code and message). */
export class AccessRecordsRequestError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.name = 'AccessRecordsRequestError';
    this.code = code;
  }
}
