import { iotArn } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import {
  attachPolicy,
  createPolicy,
  createPolicyVersion,
  deletePolicy,
  deletePolicyVersion,
  detachPolicy,
  getPolicy,
  getPolicyVersion,
  listAttachedPolicies,
  listPolicies,
  listPolicyVersions,
  listTargetsForPolicy,
  setDefaultPolicyVersion,
} from '../../registry/index.js';
import type { RegistryDeps } from '../../registry/index.js';
import type { OperationTable } from '../create-api-server.js';
import { listInput, opt, optBool, optNum, req } from './input-fields.js';

const markerOut = (m: string | undefined) => (m ? { nextMarker: m } : {});

export function policyOperations(deps: RegistryDeps, scopeOf: (caller: { accountId: string; region: string }) => Scope): OperationTable {
  return {
    CreatePolicy: async (caller, input) => {
      const scope = scopeOf(caller);
      const { policy, version } = await createPolicy(deps, scope, { policyName: req(input, 'policyName'), policyDocument: req(input, 'policyDocument') });
      return {
        policyName: policy.policyName,
        policyArn: iotArn(scope, 'policy', policy.policyName),
        policyDocument: version.document,
        policyVersionId: version.versionId,
      };
    },
    GetPolicy: async (caller, input) => {
      const scope = scopeOf(caller);
      const { policy, version } = await getPolicy(deps, scope, req(input, 'policyName'));
      return {
        policyName: policy.policyName,
        policyArn: iotArn(scope, 'policy', policy.policyName),
        policyDocument: version.document,
        defaultVersionId: policy.defaultVersionId,
        creationDate: policy.creationDate,
        lastModifiedDate: policy.lastModifiedDate,
        generationId: policy.generationId,
      };
    },
    ListPolicies: async (caller, input) => {
      const scope = scopeOf(caller);
      const page = await listPolicies(deps, scope, listInput(input));
      return {
        policies: page.items.map((p) => ({ policyName: p.policyName, policyArn: iotArn(scope, 'policy', p.policyName) })),
        ...markerOut(page.nextMarker),
      };
    },
    DeletePolicy: async (caller, input) => {
      await deletePolicy(deps, scopeOf(caller), { policyName: req(input, 'policyName') });
    },
    CreatePolicyVersion: async (caller, input) => {
      const scope = scopeOf(caller);
      const { version, isDefault } = await createPolicyVersion(deps, scope, {
        policyName: req(input, 'policyName'),
        policyDocument: req(input, 'policyDocument'),
        setAsDefault: optBool(input, 'setAsDefault'),
      });
      return {
        policyArn: iotArn(scope, 'policy', version.policyName),
        policyDocument: version.document,
        policyVersionId: version.versionId,
        isDefaultVersion: isDefault,
      };
    },
    GetPolicyVersion: async (caller, input) => {
      const scope = scopeOf(caller);
      const { policy, version } = await getPolicyVersion(deps, scope, {
        policyName: req(input, 'policyName'),
        policyVersionId: req(input, 'policyVersionId'),
      });
      return {
        policyArn: iotArn(scope, 'policy', policy.policyName),
        policyName: policy.policyName,
        policyDocument: version.document,
        policyVersionId: version.versionId,
        isDefaultVersion: policy.defaultVersionId === version.versionId,
        creationDate: version.createDate,
        lastModifiedDate: version.lastModifiedDate,
        generationId: version.generationId,
      };
    },
    ListPolicyVersions: async (caller, input) => {
      const { policy, versions } = await listPolicyVersions(deps, scopeOf(caller), { policyName: req(input, 'policyName') });
      return {
        policyVersions: versions.map((v) => ({ versionId: v.versionId, isDefaultVersion: v.versionId === policy.defaultVersionId, createDate: v.createDate })),
      };
    },
    SetDefaultPolicyVersion: async (caller, input) => {
      await setDefaultPolicyVersion(deps, scopeOf(caller), { policyName: req(input, 'policyName'), policyVersionId: req(input, 'policyVersionId') });
    },
    DeletePolicyVersion: async (caller, input) => {
      await deletePolicyVersion(deps, scopeOf(caller), { policyName: req(input, 'policyName'), policyVersionId: req(input, 'policyVersionId') });
    },
    AttachPolicy: async (caller, input) => {
      await attachPolicy(deps, scopeOf(caller), { policyName: req(input, 'policyName'), target: req(input, 'target') });
    },
    DetachPolicy: async (caller, input) => {
      await detachPolicy(deps, scopeOf(caller), { policyName: req(input, 'policyName'), target: req(input, 'target') });
    },
    ListAttachedPolicies: async (caller, input) => {
      const scope = scopeOf(caller);
      const page = await listAttachedPolicies(deps, scope, {
        target: req(input, 'target'),
        marker: opt(input, 'marker'),
        pageSize: optNum(input, 'pageSize'),
      });
      return {
        policies: page.items.map((a) => ({ policyName: a.policyName, policyArn: iotArn(scope, 'policy', a.policyName) })),
        ...markerOut(page.nextMarker),
      };
    },
    ListTargetsForPolicy: async (caller, input) => {
      const page = await listTargetsForPolicy(deps, scopeOf(caller), {
        policyName: req(input, 'policyName'),
        marker: opt(input, 'marker'),
        pageSize: optNum(input, 'pageSize'),
      });
      return { targets: page.items.map((a) => a.target), ...markerOut(page.nextMarker) };
    },
  };
}
