/** A problem the operator can fix (bad flag, wrong master key, missing CA key): printed as one line, no stack. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}
