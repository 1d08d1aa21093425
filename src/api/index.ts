/**
 * api: the AWS IoT control-plane HTTP adapter (fastify): SigV4 verification, model-driven
 * (botocore service-2.json) request binding/validation and response rendering, AWS error wire format.
 * Knows no registry internals: operations/ maps inputs onto use cases; main wires the server.
 */
export * from './create-api-server.js';
export * from './limits.js';
export * from './render-aws-error.js';
export * from './parse-raw-url.js';
export * from './sigv4/verify-sigv4.js';
export * from './sigv4/parse-authorization.js';
export * from './model/iot-model.js';
export * from './model/compile-model-pattern.js';
export * from './model/request-uri.js';
export * from './model/deserialize-request.js';
export * from './model/serialize-response.js';
