import { invalidRequest } from '../../kernel/index.js';
import type { IotError } from '../../kernel/index.js';

/** A template body that does not follow the grammar (CreateProvisioningTemplate, RegisterCACertificate, …). */
export function invalidTemplate(problem: string): IotError {
  return invalidRequest(`Invalid provisioning template: ${problem}`);
}

/** A Ref (or Fn::Sub variable) with no value: AWS's wording, as seen in CloudTrail for JITP. */
export function unresolvedReference(name: string): IotError {
  return invalidRequest(`Invalid registration template. Cannot resolve reference value: {Ref=${name}}`);
}

/** A template that parses but cannot be carried out with these values (bad Fn::Select index, …). */
export function templateEvaluationFailed(problem: string): IotError {
  return invalidRequest(`Invalid registration template. ${problem}`);
}
