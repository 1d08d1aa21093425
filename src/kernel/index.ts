/**
 * kernel: errors (one per AWS error shape), ARNs, ids, and the Clock and Logger ports.
 * Imports nothing of the project and no I/O module.
 */
export * from './errors.js';
export * from './arn.js';
export * from './clock.js';
export * from './logger.js';
export * from './ids.js';
