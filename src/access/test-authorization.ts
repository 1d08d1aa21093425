import { invalidRequest, iotArn, resourceNotFound } from '../kernel/index.js';
import type { Scope } from '../kernel/index.js';
import { parseCertificatePem } from '../pki/index.js';
import { certificateContextValues, compilePolicy, evaluate, parsePolicyDocument } from '../policy/index.js';
import type { CompiledPolicy, Decision } from '../policy/index.js';
import type { RegistryStore } from '../registry/ports.js';

export const ACTION_TYPES = { CONNECT: 'iot:Connect', PUBLISH: 'iot:Publish', SUBSCRIBE: 'iot:Subscribe', RECEIVE: 'iot:Receive' } as const;
export type ActionType = keyof typeof ACTION_TYPES;

export interface AuthInfo {
  readonly actionType?: string | undefined;
  readonly resources: readonly string[];
}

export interface PolicyRef {
  readonly policyName: string;
  readonly policyArn: string;
}

export interface AuthResult {
  readonly authInfo: AuthInfo;
  readonly authDecision: 'ALLOWED' | 'EXPLICIT_DENY' | 'IMPLICIT_DENY';
  readonly allowed: PolicyRef[];
  readonly explicitDeny: PolicyRef[];
  readonly implicitDeny: PolicyRef[];
  readonly missingContextValues: string[];
  /** certgate's explanation: which statement decided, or that none allowed it. */
  readonly reasons: string[];
}

export interface TestAuthorizationInput {
  readonly principal?: string | undefined;
  readonly clientId?: string | undefined;
  readonly authInfos: readonly AuthInfo[];
  readonly policyNamesToAdd?: readonly string[] | undefined;
  readonly policyNamesToSkip?: readonly string[] | undefined;
}

/**
 * TestAuthorization: evaluates the principal's attached policies (± policyNamesToAdd/Skip) for each
 * authInfo, with the variables a connection by that certificate and client id would have.
 */
export async function testAuthorization(store: RegistryStore, scope: Scope, input: TestAuthorizationInput, now: Date): Promise<AuthResult[]> {
  if (!input.principal) throw invalidRequest('principal is required: a certificate ARN or certificate id');
  const certificateId = input.principal.startsWith('arn:') ? input.principal.slice(input.principal.lastIndexOf('/') + 1) : input.principal;
  const cert = await store.getCertificate(scope, certificateId);
  if (!cert) throw resourceNotFound(`The certificate ${input.principal} does not exist in this account and region`);
  const certArn = iotArn(scope, 'cert', certificateId);

  const names = new Set((await store.listAttachedPolicies(scope, certArn, { limit: 1000, ascending: true })).map((a) => a.policyName));
  for (const n of input.policyNamesToAdd ?? []) names.add(n);
  for (const n of input.policyNamesToSkip ?? []) names.delete(n);
  const policies: CompiledPolicy[] = [];
  for (const name of names) {
    const policy = await store.getPolicy(scope, name);
    if (!policy) throw resourceNotFound(`Policy ${name} does not exist`);
    const version = await store.getPolicyVersion(scope, name, policy.defaultVersionId);
    if (!version) throw resourceNotFound(`Policy ${name} has no default version`);
    policies.push(compilePolicy(name, version.versionId, parsePolicyDocument(version.document)));
  }

  const values: Record<string, string | readonly string[] | boolean | number> = {
    ...certificateContextValues(parseCertificatePem(cert.certificatePem)),
    'aws:CurrentTime': now.toISOString(),
    'aws:EpochTime': Math.floor(now.getTime() / 1000),
  };
  if (input.clientId !== undefined) {
    values['iot:ClientId'] = input.clientId;
    const link = (await store.listPrincipalThings(scope, certArn, 1000)).find((l) => l.thingName === input.clientId);
    const thing = link ? await store.getThing(scope, link.thingName) : undefined;
    values['iot:Connection.Thing.IsAttached'] = thing !== undefined;
    if (thing) {
      values['iot:Connection.Thing.ThingName'] = thing.thingName;
      for (const [k, v] of Object.entries(thing.attributes)) values[`iot:Connection.Thing.Attributes[${k}]`] = v;
    }
  }

  const policyRef = (name: string): PolicyRef => ({ policyName: name, policyArn: iotArn(scope, 'policy', name) });
  return input.authInfos.map((authInfo) => {
    const actionType = authInfo.actionType as ActionType | undefined;
    if (!actionType || !(actionType in ACTION_TYPES)) {
      throw invalidRequest(`actionType must be one of ${Object.keys(ACTION_TYPES).join(', ')}`);
    }
    const decisions: Decision[] = authInfo.resources.map((resource) =>
      evaluate(policies, { action: ACTION_TYPES[actionType], resource, context: { values } }),
    );
    const allowPolicies = new Set<string>();
    const denyPolicies = new Set<string>();
    for (const d of decisions) {
      for (const m of d.matched) (m.effect === 'Allow' ? allowPolicies : denyPolicies).add(m.policyName);
    }
    const authDecision = decisions.some((d) => d.effect === 'ExplicitDeny')
      ? 'EXPLICIT_DENY'
      : decisions.length > 0 && decisions.every((d) => d.effect === 'Allow')
        ? 'ALLOWED'
        : 'IMPLICIT_DENY';
    return {
      authInfo,
      authDecision,
      allowed: authDecision === 'ALLOWED' ? [...allowPolicies].map(policyRef) : [],
      explicitDeny: [...denyPolicies].map(policyRef),
      implicitDeny: authDecision === 'IMPLICIT_DENY' ? policies.map((p) => policyRef(p.policyName)) : [],
      missingContextValues: [],
      reasons: decisions.flatMap((d) => d.reasons),
    };
  });
}
