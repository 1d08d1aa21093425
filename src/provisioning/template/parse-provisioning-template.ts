import { isIotError } from '../../kernel/index.js';
import { parsePolicyDocument } from '../../policy/index.js';
import { parseTemplateExpression } from './parse-template-expression.js';
import { OVERRIDE_ACTIONS, PROVISIONING_TEMPLATE_TYPES } from './provisioning-template.js';
import type {
  CertificateResource,
  OverrideAction,
  PolicyResource,
  ProvisioningTemplate,
  ProvisioningTemplateType,
  TemplateExpression,
  TemplateParameter,
  TemplateValue,
  ThingOverrides,
  ThingResource,
} from './provisioning-template.js';
import { invalidTemplate } from './template-errors.js';

/**
 * Parse and check a provisioning template body (AWS IoT developer guide, "Provisioning templates").
 * Throws InvalidRequestException naming the first problem (a literal policy document that is not a
 * valid IoT policy included). Nothing here touches the registry.
 */

const TOP_LEVEL_SECTIONS = new Set(['Parameters', 'Mappings', 'Resources', 'DeviceConfiguration', 'Description', 'AWSTemplateFormatVersion', 'Version']);
const RESOURCE_KEYS = new Set(['Type', 'Properties', 'OverrideSettings']);
const THING_PROPERTIES = new Set(['ThingName', 'AttributePayload', 'ThingTypeName', 'ThingGroups', 'BillingGroup']);
const CERTIFICATE_PROPERTIES = new Set(['CertificateId', 'CertificateID', 'CertificatePem', 'CACertificatePem', 'CertificateSigningRequest', 'Status']);
const POLICY_PROPERTIES = new Set(['PolicyName', 'PolicyDocument']);
/** OverrideSettings keys for a thing; the guide has used both spellings. */
const THING_OVERRIDE_KEYS: Readonly<Record<string, keyof ThingOverrides>> = {
  AttributePayload: 'attributePayload',
  ATTRIBUTE_PAYLOAD: 'attributePayload',
  ThingTypeName: 'thingTypeName',
  THING_TYPE_NAME: 'thingTypeName',
  ThingGroups: 'thingGroups',
  THING_GROUPS: 'thingGroups',
};
const CERTIFICATE_STATUSES = new Set(['ACTIVE', 'INACTIVE']);

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objectAt(v: unknown, where: string): Json {
  if (!isRecord(v)) throw invalidTemplate(`${where} must be a JSON object`);
  return v;
}

function onlyKeys(obj: Json, allowed: ReadonlySet<string>, where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.has(k)) throw invalidTemplate(`unknown key ${k} in ${where} (allowed: ${[...allowed].join(', ')})`);
  }
}

function containsIntrinsic(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(containsIntrinsic);
  if (!isRecord(v)) return false;
  return Object.keys(v).some((k) => k === 'Ref' || k.startsWith('Fn::')) || Object.values(v).some(containsIntrinsic);
}

/** Deeper than any real template (a policy document with conditions inside intrinsics is about 15). */
export const MAX_TEMPLATE_NESTING = 64;

/** Iterative, so that a deeply nested body is refused here rather than overflowing the recursive parse below. */
function checkNesting(root: unknown): void {
  const pending: { value: unknown; depth: number }[] = [{ value: root, depth: 1 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { value, depth } = item;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_TEMPLATE_NESTING) throw invalidTemplate(`the template body nests objects and lists more than ${MAX_TEMPLATE_NESTING} levels deep`);
    for (const child of Object.values(value)) pending.push({ value: child, depth: depth + 1 });
  }
}

function parseBody(body: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw invalidTemplate(`the template body is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  checkNesting(parsed);
  return objectAt(parsed, 'the template body');
}

function parseParameters(section: unknown): Record<string, TemplateParameter> {
  if (section === undefined) return {};
  const obj = objectAt(section, 'Parameters');
  return Object.fromEntries(
    Object.entries(obj).map(([name, raw]) => {
      const where = `Parameters.${name}`;
      const decl = objectAt(raw, where);
      onlyKeys(decl, new Set(['Type', 'Default', 'Description']), where);
      if (decl['Type'] !== 'String') throw invalidTemplate(`${where}.Type must be "String"`);
      const def = decl['Default'];
      if (def !== undefined && typeof def !== 'string') throw invalidTemplate(`${where}.Default must be a string`);
      const param: TemplateParameter = def === undefined ? { type: 'String' } : { type: 'String', default: def };
      return [name, param];
    }),
  );
}

function parseMappings(section: unknown): ProvisioningTemplate['mappings'] {
  if (section === undefined) return {};
  const obj = objectAt(section, 'Mappings');
  if (containsIntrinsic(obj)) throw invalidTemplate('Mappings cannot contain parameters or intrinsic functions');
  return Object.fromEntries(
    Object.entries(obj).map(([mapName, map]) => [
      mapName,
      Object.fromEntries(
        Object.entries(objectAt(map, `Mappings.${mapName}`)).map(([topKey, top]) => [
          topKey,
          objectAt(top, `Mappings.${mapName}.${topKey}`) as Record<string, TemplateValue>,
        ]),
      ),
    ]),
  );
}

function parseOverride(v: unknown, where: string): OverrideAction {
  if (typeof v !== 'string' || !(OVERRIDE_ACTIONS as readonly string[]).includes(v)) {
    throw invalidTemplate(`${where} must be one of ${OVERRIDE_ACTIONS.join(', ')}`);
  }
  return v as OverrideAction;
}

function optionalExpression(props: Json, key: string, where: string): { readonly [k: string]: TemplateExpression } {
  return props[key] === undefined ? {} : { [key]: parseTemplateExpression(props[key], `${where}.${key}`) };
}

function parseThing(logicalId: string, props: Json, overridesRaw: unknown, where: string): ThingResource {
  onlyKeys(props, THING_PROPERTIES, `${where}.Properties`);
  if (props['ThingName'] === undefined) throw invalidTemplate(`${where}.Properties.ThingName is required`);
  const overrides: { -readonly [K in keyof ThingOverrides]: OverrideAction } = {};
  if (overridesRaw !== undefined) {
    for (const [k, v] of Object.entries(objectAt(overridesRaw, `${where}.OverrideSettings`))) {
      const field = Object.hasOwn(THING_OVERRIDE_KEYS, k) ? THING_OVERRIDE_KEYS[k] : undefined;
      if (!field) throw invalidTemplate(`${where}.OverrideSettings: ${k} cannot be overridden (AttributePayload, ThingTypeName, ThingGroups)`);
      const action = parseOverride(v, `${where}.OverrideSettings.${k}`);
      if (action === 'MERGE' && field === 'thingTypeName') throw invalidTemplate(`${where}.OverrideSettings.${k}: MERGE applies only to AttributePayload and ThingGroups`);
      overrides[field] = action;
    }
  }
  const p = (key: string): TemplateExpression | undefined => optionalExpression(props, key, `${where}.Properties`)[key];
  const attributePayload = p('AttributePayload');
  const thingTypeName = p('ThingTypeName');
  const thingGroups = p('ThingGroups');
  const billingGroup = p('BillingGroup');
  return {
    type: 'AWS::IoT::Thing',
    logicalId,
    thingName: parseTemplateExpression(props['ThingName'], `${where}.Properties.ThingName`),
    ...(attributePayload ? { attributePayload } : {}),
    ...(thingTypeName ? { thingTypeName } : {}),
    ...(thingGroups ? { thingGroups } : {}),
    ...(billingGroup ? { billingGroup } : {}),
    overrides,
  };
}

function parseCertificate(type: ProvisioningTemplateType, logicalId: string, props: Json, overridesRaw: unknown, where: string): CertificateResource {
  onlyKeys(props, CERTIFICATE_PROPERTIES, `${where}.Properties`);
  if (props['CertificateId'] !== undefined && props['CertificateID'] !== undefined) {
    throw invalidTemplate(`${where}.Properties: give CertificateId once`);
  }
  const idRaw = props['CertificateId'] ?? props['CertificateID'];
  const ways = [idRaw, props['CertificatePem'], props['CertificateSigningRequest']].filter((v) => v !== undefined).length;
  if (ways !== 1) throw invalidTemplate(`${where}.Properties needs exactly one of CertificateId, CertificatePem, CertificateSigningRequest`);
  if (props['CACertificatePem'] !== undefined && props['CertificatePem'] === undefined) {
    throw invalidTemplate(`${where}.Properties.CACertificatePem goes only with CertificatePem`);
  }
  if (props['CertificateSigningRequest'] !== undefined) {
    throw invalidTemplate(`${where}: a certificate from a CSR is not supported here; use CertificateId {"Ref": "AWS::IoT::Certificate::Id"}`);
  }
  if (type === 'FLEET_PROVISIONING' && idRaw === undefined) {
    throw invalidTemplate(`${where}: a fleet provisioning template can only use CertificateId`);
  }
  const status = props['Status'];
  if (typeof status === 'string' && !CERTIFICATE_STATUSES.has(status.toUpperCase())) {
    throw invalidTemplate(`${where}.Properties.Status must be ACTIVE or INACTIVE`);
  }
  const overrides: { status?: OverrideAction } = {};
  if (overridesRaw !== undefined) {
    for (const [k, v] of Object.entries(objectAt(overridesRaw, `${where}.OverrideSettings`))) {
      if (k !== 'Status') throw invalidTemplate(`${where}.OverrideSettings: only Status can be overridden on a certificate`);
      const action = parseOverride(v, `${where}.OverrideSettings.Status`);
      if (action === 'MERGE') throw invalidTemplate(`${where}.OverrideSettings.Status: MERGE applies only to a thing's AttributePayload and ThingGroups`);
      overrides.status = action;
    }
  }
  const w = `${where}.Properties`;
  return {
    type: 'AWS::IoT::Certificate',
    logicalId,
    ...(idRaw !== undefined ? { certificateId: parseTemplateExpression(idRaw, `${w}.CertificateId`) } : {}),
    ...(props['CertificatePem'] !== undefined ? { certificatePem: parseTemplateExpression(props['CertificatePem'], `${w}.CertificatePem`) } : {}),
    ...(props['CACertificatePem'] !== undefined ? { caCertificatePem: parseTemplateExpression(props['CACertificatePem'], `${w}.CACertificatePem`) } : {}),
    ...(status !== undefined ? { status: parseTemplateExpression(status, `${w}.Status`) } : {}),
    overrides,
  };
}

function checkLiteralPolicyDocument(document: string, where: string): void {
  try {
    parsePolicyDocument(document);
  } catch (e) {
    if (isIotError(e)) throw invalidTemplate(`${where}.Properties.PolicyDocument is not a valid policy document: ${e.message}`);
    throw e;
  }
}

function parsePolicy(logicalId: string, props: Json, overridesRaw: unknown, where: string): PolicyResource {
  onlyKeys(props, POLICY_PROPERTIES, `${where}.Properties`);
  if (overridesRaw !== undefined) throw invalidTemplate(`${where}: OverrideSettings are not available for policy resources`);
  const name = props['PolicyName'];
  const doc = props['PolicyDocument'];
  if ((name === undefined) === (doc === undefined)) throw invalidTemplate(`${where}.Properties needs PolicyName or PolicyDocument, not both`);
  // A literal document is checked now, like CreatePolicy would; reported as InvalidRequestException, the only
  // client error the model lists for CreateProvisioningTemplate(Version) and Register/UpdateCACertificate.
  if (typeof doc === 'string') checkLiteralPolicyDocument(doc, where);
  else if (isRecord(doc) && !containsIntrinsic(doc)) checkLiteralPolicyDocument(JSON.stringify(doc), where);
  else if (doc !== undefined && !isRecord(doc)) throw invalidTemplate(`${where}.Properties.PolicyDocument must be a JSON string or object`);
  return {
    type: 'AWS::IoT::Policy',
    logicalId,
    ...(name !== undefined ? { policyName: parseTemplateExpression(name, `${where}.Properties.PolicyName`) } : {}),
    ...(doc !== undefined ? { policyDocument: parseTemplateExpression(doc, `${where}.Properties.PolicyDocument`) } : {}),
  };
}

function parseDeviceConfiguration(section: unknown): Record<string, TemplateExpression> {
  if (section === undefined) return {};
  const obj = objectAt(section, 'DeviceConfiguration');
  return Object.fromEntries(
    Object.entries(obj).map(([k, v]) => {
      const expr = parseTemplateExpression(v, `DeviceConfiguration.${k}`);
      if (expr.kind === 'object' || expr.kind === 'list') throw invalidTemplate(`DeviceConfiguration.${k}: the device configuration is flat (no nested objects or lists)`);
      return [k, expr];
    }),
  );
}

export function parseProvisioningTemplate(body: string, type: ProvisioningTemplateType): ProvisioningTemplate {
  if (!(PROVISIONING_TEMPLATE_TYPES as readonly string[]).includes(type)) throw invalidTemplate(`unknown template type ${String(type)}`);
  const root = parseBody(body);
  for (const k of Object.keys(root)) {
    if (k === 'Conditions' || k === 'Outputs') throw invalidTemplate(`the ${k} section is not supported in provisioning templates`);
    if (!TOP_LEVEL_SECTIONS.has(k)) throw invalidTemplate(`unknown section ${k} (sections: Parameters, Mappings, Resources, DeviceConfiguration)`);
  }
  const parameters = parseParameters(root['Parameters']);
  const mappings = parseMappings(root['Mappings']);
  if (root['Resources'] === undefined) throw invalidTemplate('the Resources section is required');
  let thing: ThingResource | undefined;
  let certificate: CertificateResource | undefined;
  const policies: PolicyResource[] = [];
  for (const [logicalId, raw] of Object.entries(objectAt(root['Resources'], 'Resources'))) {
    const where = `Resources.${logicalId}`;
    const res = objectAt(raw, where);
    onlyKeys(res, RESOURCE_KEYS, where);
    const props = objectAt(res['Properties'] ?? {}, `${where}.Properties`);
    switch (res['Type']) {
      case 'AWS::IoT::Thing':
        if (thing) throw invalidTemplate(`${where}: a template declares at most one AWS::IoT::Thing (already ${thing.logicalId})`);
        thing = parseThing(logicalId, props, res['OverrideSettings'], where);
        break;
      case 'AWS::IoT::Certificate':
        if (certificate) throw invalidTemplate(`${where}: a template declares at most one AWS::IoT::Certificate (already ${certificate.logicalId})`);
        certificate = parseCertificate(type, logicalId, props, res['OverrideSettings'], where);
        break;
      case 'AWS::IoT::Policy':
        policies.push(parsePolicy(logicalId, props, res['OverrideSettings'], where));
        break;
      default:
        throw invalidTemplate(`${where}: unknown resource type ${JSON.stringify(res['Type'])} (AWS::IoT::Thing, AWS::IoT::Certificate, AWS::IoT::Policy)`);
    }
  }
  if (!certificate) throw invalidTemplate('the template must declare an AWS::IoT::Certificate resource for the certificate being provisioned');
  return {
    templateType: type,
    parameters,
    mappings,
    ...(thing ? { thing } : {}),
    certificate,
    policies,
    deviceConfiguration: parseDeviceConfiguration(root['DeviceConfiguration']),
  };
}
