import {
  deleteConflict,
  iotArn,
  newGenerationId,
  resourceAlreadyExists,
  resourceNotFound,
  versionsLimitExceeded,
} from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import { parsePolicyDocument } from '../../policy/index.js';
import type { Policy, PolicyVersion } from '../entities.js';
import { pageOf, pageRequest } from '../pagination.js';
import type { PolicyStore } from '../ports.js';
import type { RegistryDeps } from '../registry-deps.js';
import type { ListInput } from '../certificates/list-certificates.js';

/** Versions a policy may have at once (AWS quota). */
export const MAX_POLICY_VERSIONS = 5;

export async function getPolicyRecord(store: PolicyStore, scope: Scope, policyName: string): Promise<Policy> {
  const policy = await store.getPolicy(scope, policyName);
  if (!policy) throw resourceNotFound(`Policy ${policyName} does not exist`);
  return policy;
}

export async function getPolicyVersionRecord(store: PolicyStore, scope: Scope, policyName: string, versionId: string): Promise<PolicyVersion> {
  const version = await store.getPolicyVersion(scope, policyName, versionId);
  if (!version) throw resourceNotFound(`Version ${versionId} of policy ${policyName} does not exist`);
  return version;
}

/** CreatePolicy: the document is parsed and validated (MalformedPolicyException); version 1 is the default. */
export async function createPolicy(
  deps: RegistryDeps,
  scope: Scope,
  input: { policyName: string; policyDocument: string },
): Promise<{ policy: Policy; version: PolicyVersion }> {
  parsePolicyDocument(input.policyDocument);
  return deps.store.transaction(async (tx) => {
    if (await tx.getPolicy(scope, input.policyName)) {
      throw resourceAlreadyExists(`Policy ${input.policyName} already exists`, input.policyName, iotArn(scope, 'policy', input.policyName));
    }
    const now = deps.clock.now();
    const policy: Policy = {
      scope,
      policyName: input.policyName,
      defaultVersionId: '1',
      nextVersionId: 2,
      creationDate: now,
      lastModifiedDate: now,
      generationId: newGenerationId(),
    };
    const version: PolicyVersion = {
      scope,
      policyName: input.policyName,
      versionId: '1',
      document: input.policyDocument,
      createDate: now,
      lastModifiedDate: now,
      generationId: policy.generationId,
    };
    await tx.insertPolicy(policy);
    await tx.insertPolicyVersion(version);
    return { policy, version };
  });
}

export async function getPolicy(deps: RegistryDeps, scope: Scope, policyName: string): Promise<{ policy: Policy; version: PolicyVersion }> {
  const policy = await getPolicyRecord(deps.store, scope, policyName);
  return { policy, version: await getPolicyVersionRecord(deps.store, scope, policyName, policy.defaultVersionId) };
}

export async function listPolicies(deps: RegistryDeps, scope: Scope, input: ListInput): Promise<{ items: Policy[]; nextMarker?: string }> {
  const page = pageRequest(input);
  return pageOf(await deps.store.listPolicies(scope, page), page, (p) => ({ createdAt: p.creationDate, key: p.policyName }));
}

/** DeletePolicy: refused while attached or while non-default versions exist. */
export async function deletePolicy(deps: RegistryDeps, scope: Scope, input: { policyName: string }): Promise<void> {
  await deps.store.transaction(async (tx) => {
    await getPolicyRecord(tx, scope, input.policyName);
    if ((await tx.countPolicyTargets(scope, input.policyName)) > 0) {
      throw deleteConflict(`Policy ${input.policyName} is attached to one or more targets; detach it first`);
    }
    if ((await tx.listPolicyVersions(scope, input.policyName)).length > 1) {
      throw deleteConflict(`Policy ${input.policyName} has non-default versions; delete them first (DeletePolicyVersion)`);
    }
    await tx.deletePolicy(scope, input.policyName);
  });
  await deps.events.emit({ type: 'policy-changed', scope, policyName: input.policyName });
}

export async function createPolicyVersion(
  deps: RegistryDeps,
  scope: Scope,
  input: { policyName: string; policyDocument: string; setAsDefault?: boolean | undefined },
): Promise<{ version: PolicyVersion; isDefault: boolean }> {
  parsePolicyDocument(input.policyDocument);
  const result = await deps.store.transaction(async (tx) => {
    const policy = await getPolicyRecord(tx, scope, input.policyName);
    if ((await tx.listPolicyVersions(scope, input.policyName)).length >= MAX_POLICY_VERSIONS) {
      throw versionsLimitExceeded(`Policy ${input.policyName} already has ${MAX_POLICY_VERSIONS} versions; delete one first`);
    }
    const now = deps.clock.now();
    const version: PolicyVersion = {
      scope,
      policyName: input.policyName,
      versionId: String(policy.nextVersionId),
      document: input.policyDocument,
      createDate: now,
      lastModifiedDate: now,
      generationId: newGenerationId(),
    };
    await tx.insertPolicyVersion(version);
    await tx.updatePolicy({
      ...policy,
      nextVersionId: policy.nextVersionId + 1,
      defaultVersionId: input.setAsDefault ? version.versionId : policy.defaultVersionId,
      lastModifiedDate: now,
    });
    return { version, isDefault: input.setAsDefault === true };
  });
  if (result.isDefault) await deps.events.emit({ type: 'policy-changed', scope, policyName: input.policyName });
  return result;
}

export async function getPolicyVersion(
  deps: RegistryDeps,
  scope: Scope,
  input: { policyName: string; policyVersionId: string },
): Promise<{ policy: Policy; version: PolicyVersion }> {
  const policy = await getPolicyRecord(deps.store, scope, input.policyName);
  return { policy, version: await getPolicyVersionRecord(deps.store, scope, input.policyName, input.policyVersionId) };
}

export async function listPolicyVersions(deps: RegistryDeps, scope: Scope, input: { policyName: string }): Promise<{ policy: Policy; versions: PolicyVersion[] }> {
  const policy = await getPolicyRecord(deps.store, scope, input.policyName);
  return { policy, versions: await deps.store.listPolicyVersions(scope, input.policyName) };
}

export async function setDefaultPolicyVersion(deps: RegistryDeps, scope: Scope, input: { policyName: string; policyVersionId: string }): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const policy = await getPolicyRecord(tx, scope, input.policyName);
    await getPolicyVersionRecord(tx, scope, input.policyName, input.policyVersionId);
    await tx.updatePolicy({ ...policy, defaultVersionId: input.policyVersionId, lastModifiedDate: deps.clock.now() });
  });
  await deps.events.emit({ type: 'policy-changed', scope, policyName: input.policyName });
}

export async function deletePolicyVersion(deps: RegistryDeps, scope: Scope, input: { policyName: string; policyVersionId: string }): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const policy = await getPolicyRecord(tx, scope, input.policyName);
    await getPolicyVersionRecord(tx, scope, input.policyName, input.policyVersionId);
    if (policy.defaultVersionId === input.policyVersionId) {
      throw deleteConflict('The default version of a policy cannot be deleted; set another default or use DeletePolicy');
    }
    await tx.deletePolicyVersion(scope, input.policyName, input.policyVersionId);
  });
}
