import { invalidRequest } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { RegistryDeps, RegistryStore } from '../../registry/index.js';
import type { RegistryEvent } from '../../registry/registry-events.js';
import { applyProvisioningTemplate } from '../template/apply-provisioning-template.js';
import { parseProvisioningTemplate } from '../template/parse-provisioning-template.js';
import type { ProvisioningTemplate } from '../template/provisioning-template.js';
import { certificateParameters } from './certificate-parameters.js';
import type { JitpProvisioner } from './just-in-time-registration.js';

/** A stored provisioning template as JITP needs it (CreateProvisioningTemplate with type JITP). */
export interface StoredJitpTemplate {
  readonly templateBody: string;
  readonly type: string;
  readonly enabled: boolean;
}

export interface JitpProvisionerDeps {
  readonly registry: RegistryDeps;
  /** Looks up a template by name in scope (registrationConfig.templateName); default: the store's default version. */
  readonly findTemplate?: ((store: RegistryStore, scope: Scope, templateName: string) => Promise<StoredJitpTemplate | undefined>) | undefined;
  /** Parsed templates kept (by CA and template text); default 1,000. */
  readonly cacheCapacity?: number;
}

/** A template's default version, as stored by CreateProvisioningTemplate / its versions. */
async function storedTemplate(store: RegistryStore, scope: Scope, templateName: string): Promise<StoredJitpTemplate | undefined> {
  const template = await store.getProvisioningTemplate(scope, templateName);
  if (template === undefined) return undefined;
  const version = await store.getProvisioningTemplateVersion(scope, templateName, template.defaultVersionId);
  if (version === undefined) return undefined;
  return { templateBody: version.templateBody, type: template.type, enabled: template.enabled };
}

/**
 * JITP (provisioning.md): the CA's template — registrationConfig.templateBody, or the JITP template named by
 * templateName — parsed once per (CA, template text) and applied for the certificate with the parameters its
 * subject supplies. Runs inside the registration's transaction: a failure leaves nothing behind.
 */
export function createJitpProvisioner(deps: JitpProvisionerDeps): JitpProvisioner {
  const capacity = deps.cacheCapacity ?? 1_000;
  const parsed = new Map<string, ProvisioningTemplate>();

  const parse = (caCertificateId: string, body: string): ProvisioningTemplate => {
    const key = `${caCertificateId}\u0000${body}`;
    const hit = parsed.get(key);
    if (hit !== undefined) return hit;
    const template = parseProvisioningTemplate(body, 'JITP');
    if (parsed.size >= capacity) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, template);
    return template;
  };

  return async (tx, { scope, ca, certificate, device }) => {
    const config = ca.registrationConfig;
    let body = config?.templateBody;
    if (body === undefined && config?.templateName !== undefined) {
      const name = config.templateName;
      const stored = await (deps.findTemplate ?? storedTemplate)(tx, scope, name);
      if (stored === undefined) throw invalidRequest(`The provisioning template ${name} named by CA ${ca.certificateId} does not exist`);
      if (stored.type !== 'JITP') throw invalidRequest(`The provisioning template ${name} is of type ${stored.type}; JITP needs a template of type JITP`);
      if (!stored.enabled) throw invalidRequest(`The provisioning template ${name} is disabled`);
      body = stored.templateBody;
    }
    if (body === undefined) throw invalidRequest(`CA ${ca.certificateId} has no provisioning template`);
    const template = parse(ca.certificateId, body);
    // The template's events wait for the registration's transaction (the caller's) to commit, not only the
    // template's own nested one: announced earlier, a cache could reload the uncommitted state.
    const held: RegistryEvent[] = [];
    const result = await applyProvisioningTemplate(
      { ...deps.registry, store: tx, events: { emit: async (e) => void held.push(e) } },
      { scope, template, parameters: certificateParameters(device, certificate.certificateId), certificateId: certificate.certificateId },
    );
    return {
      thingName: result.thingName,
      certificateStatus: result.certificateStatus,
      policyNames: result.policyNames,
      announce: async () => {
        for (const e of held) await deps.registry.events.emit(e);
      },
    };
  };
}
