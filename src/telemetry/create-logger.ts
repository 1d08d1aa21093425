import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export interface CreateLoggerOptions {
  readonly level: LogLevel;
  /** File descriptor to write JSON lines to; stderr by default so stdout stays for the banner. */
  readonly fd?: number;
  readonly name?: string;
}

/** pino JSON lines, written synchronously (no lost lines on exit). Satisfies the kernel's Logger port. */
export function createLogger(options: CreateLoggerOptions): PinoLogger {
  return pino(
    { level: options.level, name: options.name ?? 'certgate', base: { pid: process.pid } },
    pino.destination({ dest: options.fd ?? 2, sync: true }),
  );
}
