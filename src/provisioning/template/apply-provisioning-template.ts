import { createHash } from 'node:crypto';
import { certificateState, invalidRequest, iotArn, IotError, resourceNotFound } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import {
  attachPolicy,
  attachThingPrincipal,
  createPolicy,
  createThing,
  getOwnedCertificate,
  updateCertificate,
  updateThing,
} from '../../registry/index.js';
import type { RegistryDeps, RegistryEvent } from '../../registry/index.js';
import { createEvaluationBudget, evaluateTemplateExpression, evaluateToString, evaluateToStringList, evaluateToStringMap } from './evaluate-template-expression.js';
import type { EvaluationContext } from './evaluate-template-expression.js';
import { CERTIFICATE_ID_PARAMETER } from './provisioning-template.js';
import type { OverrideAction, PolicyResource, ProvisioningTemplate, ThingResource } from './provisioning-template.js';
import { templateEvaluationFailed, unresolvedReference } from './template-errors.js';

export interface ApplyProvisioningTemplateInput {
  readonly scope: Scope;
  readonly template: ProvisioningTemplate;
  /** Request values (fleet: the device's parameters; JITP: the values read from its certificate). */
  readonly parameters: Readonly<Record<string, string>>;
  /** The certificate being provisioned, already registered (PENDING_ACTIVATION) in scope. */
  readonly certificateId: string;
}

export interface ApplyProvisioningTemplateResult {
  readonly thingName: string | undefined;
  readonly deviceConfiguration: Record<string, string>;
  readonly certificateStatus: 'ACTIVE' | 'INACTIVE';
  readonly policyNames: string[];
}

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

/** OverrideSettings FAIL on an existing resource. AWS names it ResourceConflictsException, a code outside the
 *  API model; the model's RegisterThing conflict shape carries it here, with AWS's name in the message. */
function resourceConflict(message: string): IotError {
  return new IotError('ConflictingResourceUpdateException', `ResourceConflictsException: ${message}`);
}

function evaluationContext(template: ProvisioningTemplate, input: ApplyProvisioningTemplateInput): EvaluationContext {
  const resolve = (name: string): string => {
    // The certificate id is the service's, never the device's: a request parameter cannot override it.
    if (name === CERTIFICATE_ID_PARAMETER) return input.certificateId;
    if (Object.hasOwn(input.parameters, name)) return input.parameters[name]!;
    const declared = Object.hasOwn(template.parameters, name) ? template.parameters[name] : undefined;
    if (declared?.default !== undefined) return declared.default;
    throw unresolvedReference(name);
  };
  // Every declared parameter must have a value, used or not (JITP: "Cannot resolve reference value").
  for (const name of Object.keys(template.parameters)) resolve(name);
  return { resolve, mappings: template.mappings, budget: createEvaluationBudget() };
}

/**
 * Characters a request's parameter value may not carry into a policy document. A template that builds its
 * document as a string (AWS's own JITP example joins a Ref into it) would otherwise let the device end the
 * JSON string and add statements (`"`, `\`, control characters), or widen what the document grants: IoT
 * policy wildcards (`*`, `?`), MQTT wildcards in topic filters (`+`, `#`) and policy variables (`${…}`).
 */
const UNSAFE_IN_POLICY_DOCUMENT = /["\\\u0000-\u001f\u007f*?+#${}]/;

/** The context a policy document is evaluated in: request values must not change what the document grants. */
function policyDocumentContext(ctx: EvaluationContext, input: ApplyProvisioningTemplateInput): EvaluationContext {
  return {
    ...ctx,
    resolve: (name) => {
      const value = ctx.resolve(name);
      if (name !== CERTIFICATE_ID_PARAMETER && Object.hasOwn(input.parameters, name) && UNSAFE_IN_POLICY_DOCUMENT.test(value)) {
        throw invalidRequest(
          `Invalid registration template. The value of parameter ${name} is used in a policy document and may not contain " \\ * ? + # $ { } or control characters`,
        );
      }
      return value;
    },
  };
}

interface PlannedThing {
  readonly thingName: string;
  readonly attributes?: Record<string, string>;
  readonly thingTypeName?: string;
  readonly thingGroups?: string[];
  readonly billingGroup?: string;
  readonly overrides: ThingResource['overrides'];
}

function planThing(thing: ThingResource, ctx: EvaluationContext): PlannedThing {
  const thingName = evaluateToString(thing.thingName, ctx, 'ThingName');
  if (!THING_NAME.test(thingName)) throw templateEvaluationFailed(`ThingName '${thingName}' is not a valid thing name ([a-zA-Z0-9:_-], 1-128 characters)`);
  return {
    thingName,
    ...(thing.attributePayload ? { attributes: evaluateToStringMap(thing.attributePayload, ctx, 'AttributePayload') } : {}),
    ...(thing.thingTypeName ? { thingTypeName: evaluateToString(thing.thingTypeName, ctx, 'ThingTypeName') } : {}),
    ...(thing.thingGroups ? { thingGroups: evaluateToStringList(thing.thingGroups, ctx, 'ThingGroups') } : {}),
    ...(thing.billingGroup ? { billingGroup: evaluateToString(thing.billingGroup, ctx, 'BillingGroup') } : {}),
    overrides: thing.overrides,
  };
}

function planPolicy(policy: PolicyResource, ctx: EvaluationContext, input: ApplyProvisioningTemplateInput): { policyName: string; document?: string } {
  if (policy.policyName) {
    const policyName = evaluateToString(policy.policyName, ctx, 'PolicyName');
    if (!POLICY_NAME.test(policyName)) throw templateEvaluationFailed(`PolicyName '${policyName}' is not a valid policy name`);
    return { policyName };
  }
  const value = evaluateTemplateExpression(policy.policyDocument!, policyDocumentContext(ctx, input));
  const document = typeof value === 'string' ? value : JSON.stringify(value);
  // AWS: "Defaults to a hash of the policy document" — the same document always names the same policy.
  return { policyName: createHash('sha256').update(document).digest('hex'), document };
}

function normalizedPem(pem: string): string {
  return pem.replace(/\s+/g, '');
}

async function provisionThing(tx: RegistryDeps, scope: Scope, plan: PlannedThing, certificateArn: string): Promise<void> {
  if (plan.thingGroups && plan.thingGroups.length > 0) {
    throw resourceNotFound(`Thing group ${plan.thingGroups[0]} does not exist (certgate does not serve thing groups yet)`);
  }
  const existing = await tx.store.getThing(scope, plan.thingName);
  if (!existing) {
    await createThing(tx, scope, {
      thingName: plan.thingName,
      thingTypeName: plan.thingTypeName,
      billingGroupName: plan.billingGroup,
      attributePayload: { attributes: plan.attributes ?? {} },
    });
  } else {
    const action = (given: unknown, override: OverrideAction | undefined): OverrideAction => {
      const a = given === undefined ? 'DO_NOTHING' : (override ?? 'DO_NOTHING');
      if (a === 'FAIL') throw resourceConflict(`Thing ${plan.thingName} already exists and the template's OverrideSettings say FAIL`);
      return a;
    };
    const attributesAction = action(plan.attributes, plan.overrides.attributePayload);
    const typeAction = action(plan.thingTypeName, plan.overrides.thingTypeName);
    action(plan.thingGroups, plan.overrides.thingGroups);
    const replaceAttributes = attributesAction === 'REPLACE' || attributesAction === 'MERGE';
    if (replaceAttributes || typeAction === 'REPLACE') {
      await updateThing(tx, scope, {
        thingName: plan.thingName,
        thingTypeName: typeAction === 'REPLACE' ? plan.thingTypeName : undefined,
        attributePayload: replaceAttributes ? { attributes: plan.attributes, merge: attributesAction === 'MERGE' } : undefined,
      });
    }
  }
  await attachThingPrincipal(tx, scope, { thingName: plan.thingName, principal: certificateArn });
}

/**
 * Run a parsed template for one certificate, all or nothing, through the registry's own use cases
 * (so their rules apply and their events are announced). Events are held until the template's
 * transaction has committed; a caller's outer transaction joins this one.
 */
export async function applyProvisioningTemplate(deps: RegistryDeps, input: ApplyProvisioningTemplateInput): Promise<ApplyProvisioningTemplateResult> {
  const { scope, template } = input;
  const ctx = evaluationContext(template, input);
  // Evaluate everything before the first write.
  const thingPlan = template.thing ? planThing(template.thing, ctx) : undefined;
  const policyPlans = template.policies.map((p) => planPolicy(p, ctx, input));
  const certResource = template.certificate;
  const wantedStatus = (certResource.status ? evaluateToString(certResource.status, ctx, 'Status') : 'ACTIVE').toUpperCase();
  if (wantedStatus !== 'ACTIVE' && wantedStatus !== 'INACTIVE') throw templateEvaluationFailed('The certificate Status must be ACTIVE or INACTIVE');
  if (certResource.certificateId) {
    const id = evaluateToString(certResource.certificateId, ctx, 'CertificateId');
    if (id !== input.certificateId) {
      throw invalidRequest(`Invalid registration template. The certificate resource names certificate ${id}, not the certificate being provisioned`);
    }
  }
  const deviceConfiguration = Object.fromEntries(
    Object.entries(template.deviceConfiguration).map(([k, e]) => [k, evaluateToString(e, ctx, `DeviceConfiguration.${k}`)]),
  );

  const held: RegistryEvent[] = [];
  const result = await deps.store.transaction(async (store) => {
    const tx: RegistryDeps = { ...deps, store, events: { emit: async (e) => void held.push(e) } };
    const cert = await getOwnedCertificate(store, scope, input.certificateId);
    if (certResource.certificatePem) {
      const pem = evaluateToString(certResource.certificatePem, ctx, 'CertificatePem');
      if (normalizedPem(pem) !== normalizedPem(cert.certificatePem)) {
        throw invalidRequest('Invalid registration template. CertificatePem is not the certificate being provisioned');
      }
    }
    const certificateArn = iotArn(scope, 'cert', cert.certificateId);
    if (thingPlan) await provisionThing(tx, scope, thingPlan, certificateArn);
    for (const plan of policyPlans) {
      if (plan.document !== undefined && !(await store.getPolicy(scope, plan.policyName))) {
        await createPolicy(tx, scope, { policyName: plan.policyName, policyDocument: plan.document });
      }
      await attachPolicy(tx, scope, { policyName: plan.policyName, target: certificateArn });
    }
    let status = cert.status;
    if (status === 'PENDING_ACTIVATION') {
      status = wantedStatus;
    } else {
      const action = certResource.overrides.status ?? 'DO_NOTHING';
      if (action === 'FAIL') throw resourceConflict(`Certificate ${cert.certificateId} is already ${cert.status} and the template's OverrideSettings say FAIL`);
      if (action === 'REPLACE') status = wantedStatus;
    }
    if (status !== cert.status) await updateCertificate(tx, scope, { certificateId: cert.certificateId, newStatus: status });
    if (status !== 'ACTIVE' && status !== 'INACTIVE') {
      throw certificateState(`Certificate ${cert.certificateId} is ${status}; it cannot be provisioned`);
    }
    return { thingName: thingPlan?.thingName, deviceConfiguration, certificateStatus: status, policyNames: policyPlans.map((p) => p.policyName) };
  });
  for (const e of held) await deps.events.emit(e);
  deps.logger.info(
    { accountId: scope.accountId, region: scope.region, certificateId: input.certificateId, thingName: result.thingName, policyNames: result.policyNames, certificateStatus: result.certificateStatus },
    'provisioning template applied',
  );
  return result;
}
