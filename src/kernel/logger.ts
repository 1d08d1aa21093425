/** The logging port. Adapters pass a pino logger (which satisfies this); tests may pass `silentLogger`. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const noop = (): void => undefined;
export const silentLogger: Logger = { info: noop, warn: noop, error: noop, debug: noop };
