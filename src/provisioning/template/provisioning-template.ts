/**
 * A provisioning template after parsing: the JSON body checked against AWS IoT's template grammar
 * (developer guide, "Provisioning templates"), with every value kept as an expression that
 * `evaluateTemplateExpression` resolves against the request's parameters.
 */

export const PROVISIONING_TEMPLATE_TYPES = ['FLEET_PROVISIONING', 'JITP'] as const;
export type ProvisioningTemplateType = (typeof PROVISIONING_TEMPLATE_TYPES)[number];

/** What to do when a resource the template names already exists. MERGE: thing attributes and groups only. */
export const OVERRIDE_ACTIONS = ['DO_NOTHING', 'REPLACE', 'FAIL', 'MERGE'] as const;
export type OverrideAction = (typeof OVERRIDE_ACTIONS)[number];

/** The parameter AWS fills with the id of the certificate being provisioned. */
export const CERTIFICATE_ID_PARAMETER = 'AWS::IoT::Certificate::Id';

/** A value in the template: a JSON literal, a list/object of values, or an intrinsic function. */
export type TemplateExpression =
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null }
  | { readonly kind: 'list'; readonly items: readonly TemplateExpression[] }
  | { readonly kind: 'object'; readonly entries: Readonly<Record<string, TemplateExpression>> }
  | { readonly kind: 'ref'; readonly name: string }
  | { readonly kind: 'join'; readonly delimiter: string; readonly items: TemplateExpression }
  | { readonly kind: 'select'; readonly index: TemplateExpression; readonly list: TemplateExpression }
  | { readonly kind: 'split'; readonly delimiter: string; readonly source: TemplateExpression }
  | { readonly kind: 'find-in-map'; readonly mapName: TemplateExpression; readonly topKey: TemplateExpression; readonly secondKey: TemplateExpression }
  | { readonly kind: 'sub'; readonly text: string; readonly variables: Readonly<Record<string, TemplateExpression>> };

/** The result of evaluating an expression. */
export type TemplateValue = string | number | boolean | null | readonly TemplateValue[] | { readonly [key: string]: TemplateValue };

export interface TemplateParameter {
  readonly type: 'String';
  readonly default?: string;
}

export interface ThingOverrides {
  readonly attributePayload?: OverrideAction;
  readonly thingTypeName?: OverrideAction;
  readonly thingGroups?: OverrideAction;
}

export interface ThingResource {
  readonly type: 'AWS::IoT::Thing';
  readonly logicalId: string;
  readonly thingName: TemplateExpression;
  readonly attributePayload?: TemplateExpression;
  readonly thingTypeName?: TemplateExpression;
  readonly thingGroups?: TemplateExpression;
  readonly billingGroup?: TemplateExpression;
  readonly overrides: ThingOverrides;
}

/** Exactly one of certificateId, certificatePem, certificateSigningRequest is set. */
export interface CertificateResource {
  readonly type: 'AWS::IoT::Certificate';
  readonly logicalId: string;
  readonly certificateId?: TemplateExpression;
  readonly certificatePem?: TemplateExpression;
  readonly caCertificatePem?: TemplateExpression;
  readonly certificateSigningRequest?: TemplateExpression;
  /** ACTIVE when absent; compared case-insensitively (AWS's own examples write "Active"). */
  readonly status?: TemplateExpression;
  readonly overrides: { readonly status?: OverrideAction };
}

/** Exactly one of policyName (an existing policy) or policyDocument (created if absent). */
export interface PolicyResource {
  readonly type: 'AWS::IoT::Policy';
  readonly logicalId: string;
  readonly policyName?: TemplateExpression;
  /** A JSON string, or an object (serialised after evaluation). */
  readonly policyDocument?: TemplateExpression;
}

export type TemplateResource = ThingResource | CertificateResource | PolicyResource;

export interface ProvisioningTemplate {
  readonly templateType: ProvisioningTemplateType;
  readonly parameters: Readonly<Record<string, TemplateParameter>>;
  /** Mappings: map name → top-level key → second-level key → value (no intrinsics allowed). */
  readonly mappings: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, TemplateValue>>>>>>;
  /** At most one thing, exactly one certificate, any number of policies, in template order. */
  readonly thing?: ThingResource;
  readonly certificate: CertificateResource;
  readonly policies: readonly PolicyResource[];
  /** Flat key → value sent back to the device (fleet provisioning). */
  readonly deviceConfiguration: Readonly<Record<string, TemplateExpression>>;
}
