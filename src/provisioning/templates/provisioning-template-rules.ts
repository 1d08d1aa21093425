import { invalidRequest } from '../../kernel/index.js';
import type { PreProvisioningHook, ProvisioningTemplateKind } from '../../registry/index.js';

/** Limits and input rules of the provisioning-template API (botocore model, AWS quotas). */
export const TEMPLATE_NAME = /^[0-9A-Za-z_-]{1,36}$/;
export const MAX_TEMPLATE_BODY_CHARACTERS = 10_240;
export const MAX_TEMPLATE_DESCRIPTION_CHARACTERS = 500;
/** Versions a template may have at once (AWS quota). */
export const MAX_TEMPLATE_VERSIONS = 5;
/** The one payload version AWS documents for pre-provisioning hooks. */
export const DEFAULT_HOOK_PAYLOAD_VERSION = '2020-04-01';

const ARN = /^arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:.+$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$/;

export function checkTemplateName(templateName: string): void {
  if (!TEMPLATE_NAME.test(templateName)) {
    throw invalidRequest(`Template name '${templateName}' is not valid: 1-36 characters of [0-9A-Za-z_-]`);
  }
}

export function checkTemplateBodySize(body: string): void {
  if (body.length > MAX_TEMPLATE_BODY_CHARACTERS) {
    throw invalidRequest(`The template body has ${body.length} characters; at most ${MAX_TEMPLATE_BODY_CHARACTERS} are allowed`);
  }
}

export function checkDescription(description: string | undefined): void {
  if (description !== undefined && description.length > MAX_TEMPLATE_DESCRIPTION_CHARACTERS) {
    throw invalidRequest(`The description has more than ${MAX_TEMPLATE_DESCRIPTION_CHARACTERS} characters`);
  }
}

/** Any well-formed ARN (certgate has no IAM: the role is recorded, never assumed). */
export function checkRoleArn(roleArn: string): void {
  if (roleArn.length < 20 || roleArn.length > 2048 || !ARN.test(roleArn)) {
    throw invalidRequest(`provisioningRoleArn '${roleArn}' is not a valid ARN`);
  }
}

/**
 * A pre-provisioning hook: FLEET_PROVISIONING templates only. Its target is an http(s) URL that
 * certgate calls, or an AWS Lambda ARN (accepted and recorded; certgate cannot invoke Lambda).
 */
export function checkedHook(
  type: ProvisioningTemplateKind,
  hook: { targetArn?: string | undefined; payloadVersion?: string | undefined },
): PreProvisioningHook {
  if (type !== 'FLEET_PROVISIONING') throw invalidRequest('A pre-provisioning hook can only be set on a FLEET_PROVISIONING template');
  const target = hook.targetArn;
  if (target === undefined || target === '') throw invalidRequest('preProvisioningHook.targetArn is required');
  let isUrl = false;
  try {
    const url = new URL(target);
    isUrl = (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    isUrl = false;
  }
  if (!isUrl && !LAMBDA_ARN.test(target)) {
    throw invalidRequest(`preProvisioningHook.targetArn '${target}' must be an http(s) URL or a Lambda function ARN`);
  }
  return { targetArn: target, payloadVersion: hook.payloadVersion ?? DEFAULT_HOOK_PAYLOAD_VERSION };
}
