import { isIotError } from '../kernel/index.js';
import { AccessRecordsRequestError } from '../main/access-records-request-error.js';
import { StartupError } from '../main/startup-error.js';

/** Errors the user can act on: shown as one line without a stack trace. */
export function userErrorMessage(e: unknown): string | undefined {
  if (e instanceof StartupError || e instanceof AccessRecordsRequestError) return e.message;
  if (isIotError(e)) return e.message;
  return undefined;
}
