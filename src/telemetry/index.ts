/**
 * telemetry: the pino logger (metrics later). An adapter: imports pino and the kernel only,
 * never another adapter.
 */
export { createLogger, isLogLevel, LOG_LEVELS } from './create-logger.js';
export type { CreateLoggerOptions, LogLevel } from './create-logger.js';
