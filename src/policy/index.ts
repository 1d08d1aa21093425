/**
 * policy: IoT policy documents — parse (→ MalformedPolicyException), compile once, substitute
 * variables, match resources, evaluate → Decision with reasons. Pure: imports only kernel errors;
 * never node:fs/net/tls/http, the environment, or any adapter.
 */
export { parsePolicyDocument, MAX_POLICY_CHARACTERS } from './parse-policy-document.js';
export type { PolicyDocument, PolicyStatement, PolicyCondition, PatternList } from './policy-document.js';
export { compilePolicy } from './compile-policy.js';
export type { CompiledPolicy, CompiledStatement } from './compile-policy.js';
export { evaluate } from './evaluate.js';
export { dependsOnTime } from './depends-on-time.js';
export type { AuthRequest, Decision, MatchedStatement } from './evaluate.js';
export type { PolicyContext } from './policy-context.js';
export { certificateContextValues } from './certificate-context-values.js';
export type { CertificateForContext, CertificateNames } from './certificate-context-values.js';
export { CONDITION_OPERATORS } from './condition-operators.js';
export type { ConditionOperator, ConditionOperatorName } from './condition-operators.js';
