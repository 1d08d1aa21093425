/**
 * access: "may this certificate connect / publish / subscribe / receive?" → a Decision with reasons,
 * and AWS's TestAuthorization on top of it. Core: imports kernel, pki, policy, registry ports only.
 */
export * from './device-access.js';
export * from './test-authorization.js';
