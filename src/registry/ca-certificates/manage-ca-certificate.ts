import { certificateState, invalidRequest, resourceNotFound } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { AutoRegistrationStatus, CaCertificate, RegistrationConfig } from '../entities.js';
import { pageOf, pageRequest } from '../pagination.js';
import type { CaCertificateStore } from '../ports.js';
import type { RegistryDeps } from '../registry-deps.js';
import { revised } from '../certificates/new-certificate-record.js';
import type { ListInput } from '../certificates/list-certificates.js';
import { checkRegistrationConfigTemplate } from '../provisioning-templates/check-registration-config.js';

export async function getCaCertificate(store: CaCertificateStore, scope: Scope, certificateId: string): Promise<CaCertificate> {
  const ca = await store.getCaCertificate(scope, certificateId);
  if (!ca) throw resourceNotFound(`The CA certificate ${certificateId} does not exist`);
  return ca;
}

export async function listCaCertificates(deps: RegistryDeps, scope: Scope, input: ListInput): Promise<{ items: CaCertificate[]; nextMarker?: string }> {
  const page = pageRequest(input);
  const rows = await deps.store.listCaCertificates(scope, page);
  return pageOf(rows, page, (c) => ({ createdAt: c.creationDate, key: c.certificateId }));
}

export interface UpdateCaCertificateInput {
  readonly certificateId: string;
  readonly newStatus?: string | undefined;
  readonly newAutoRegistrationStatus?: AutoRegistrationStatus | undefined;
  readonly registrationConfig?: RegistrationConfig | undefined;
  readonly removeAutoRegistration?: boolean | undefined;
}

export async function updateCaCertificate(deps: RegistryDeps, scope: Scope, input: UpdateCaCertificateInput): Promise<void> {
  if (input.registrationConfig && input.removeAutoRegistration) {
    throw invalidRequest('registrationConfig and removeAutoRegistration cannot be given together');
  }
  const status = input.newStatus === 'REGISTER_INACTIVE' ? 'INACTIVE' : input.newStatus;
  if (status !== undefined && status !== 'ACTIVE' && status !== 'INACTIVE') {
    throw invalidRequest(`newStatus ${input.newStatus} is not valid for a CA certificate; use ACTIVE or INACTIVE`);
  }
  const statusChanged = await deps.store.transaction(async (tx) => {
    const ca = await getCaCertificate(tx, scope, input.certificateId);
    const changes: Partial<CaCertificate> = {};
    if (status !== undefined) (changes as { status: CaCertificate['status'] }).status = status;
    if (input.newAutoRegistrationStatus !== undefined) {
      (changes as { autoRegistrationStatus: AutoRegistrationStatus }).autoRegistrationStatus = input.newAutoRegistrationStatus;
    }
    if (input.registrationConfig !== undefined) {
      await checkRegistrationConfigTemplate(tx, scope, input.registrationConfig);
      (changes as { registrationConfig: RegistrationConfig | null }).registrationConfig = input.registrationConfig;
    }
    if (input.removeAutoRegistration) (changes as { registrationConfig: RegistrationConfig | null }).registrationConfig = null;
    await tx.updateCaCertificate(revised(ca, changes, deps.clock.now()));
    return status !== undefined && status !== ca.status;
  });
  if (statusChanged && status) {
    await deps.events.emit({ type: 'ca-certificate-status-changed', scope, certificateId: input.certificateId, status });
  }
}

/** DeleteCACertificate: only when INACTIVE. */
export async function deleteCaCertificate(deps: RegistryDeps, scope: Scope, input: { certificateId: string }): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const ca = await getCaCertificate(tx, scope, input.certificateId);
    if (ca.status === 'ACTIVE') throw certificateState('The CA certificate is ACTIVE; set it INACTIVE before deleting it');
    await tx.deleteCaCertificate(scope, input.certificateId);
  });
}
