import { resourceNotFound } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { Certificate } from '../entities.js';
import { pageOf, pageRequest } from '../pagination.js';
import type { RegistryDeps } from '../registry-deps.js';

export interface ListInput {
  readonly pageSize?: number | undefined;
  readonly marker?: string | undefined;
  readonly ascendingOrder?: boolean | undefined;
}

const cursorOf = (c: Certificate) => ({ createdAt: c.creationDate, key: c.certificateId });

export async function listCertificates(
  deps: RegistryDeps,
  scope: Scope,
  input: ListInput,
): Promise<{ items: Certificate[]; nextMarker?: string }> {
  const page = pageRequest(input);
  return pageOf(await deps.store.listCertificates(scope, {}, page), page, cursorOf);
}

export async function listCertificatesByCa(
  deps: RegistryDeps,
  scope: Scope,
  input: ListInput & { caCertificateId: string },
): Promise<{ items: Certificate[]; nextMarker?: string }> {
  if (!(await deps.store.getCaCertificate(scope, input.caCertificateId))) {
    throw resourceNotFound(`The CA certificate ${input.caCertificateId} does not exist`);
  }
  const page = pageRequest(input);
  return pageOf(await deps.store.listCertificates(scope, { caCertificateId: input.caCertificateId }, page), page, cursorOf);
}

export async function listOutgoingCertificates(
  deps: RegistryDeps,
  scope: Scope,
  input: ListInput,
): Promise<{ items: Certificate[]; nextMarker?: string }> {
  const page = pageRequest(input);
  return pageOf(await deps.store.listOutgoingCertificates(scope, page), page, cursorOf);
}
