import { iotArn } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import {
  deleteCaCertificate,
  deleteRegistrationCode,
  getCaCertificate,
  getRegistrationCode,
  listCaCertificates,
  registerCaCertificate,
  updateCaCertificate,
} from '../../registry/index.js';
import type { AutoRegistrationStatus, CaCertificate, CertificateMode, RegistrationConfig, RegistryDeps } from '../../registry/index.js';
import type { OperationTable } from '../create-api-server.js';
import { listInput, opt, optBool, optObject, req } from './input-fields.js';
import type { Input } from './input-fields.js';
import { checkTemplateBody } from '../../provisioning/index.js';

const arnOf = (c: CaCertificate) => iotArn(c.scope, 'cacert', c.certificateId);

function registrationConfigOf(input: Input): RegistrationConfig | undefined {
  const o = optObject(input, 'registrationConfig');
  if (!o) return undefined;
  const templateBody = opt(o, 'templateBody');
  const roleArn = opt(o, 'roleArn');
  const templateName = opt(o, 'templateName');
  // An inline JITP template is checked against the template grammar now, not at a device's first connection.
  if (templateBody !== undefined) checkTemplateBody(templateBody, 'JITP');
  return {
    ...(templateBody !== undefined ? { templateBody } : {}),
    ...(roleArn !== undefined ? { roleArn } : {}),
    ...(templateName !== undefined ? { templateName } : {}),
  };
}

export function caCertificateOperations(deps: RegistryDeps, scopeOf: (caller: { accountId: string; region: string }) => Scope): OperationTable {
  return {
    GetRegistrationCode: async (caller) => ({ registrationCode: await getRegistrationCode(deps, scopeOf(caller)) }),
    DeleteRegistrationCode: async (caller) => {
      await deleteRegistrationCode(deps, scopeOf(caller));
      return {};
    },
    RegisterCACertificate: async (caller, input) => {
      const ca = await registerCaCertificate(deps, scopeOf(caller), {
        caCertificate: req(input, 'caCertificate'),
        verificationCertificate: opt(input, 'verificationCertificate'),
        setAsActive: optBool(input, 'setAsActive'),
        allowAutoRegistration: optBool(input, 'allowAutoRegistration'),
        registrationConfig: registrationConfigOf(input),
        certificateMode: opt(input, 'certificateMode') as CertificateMode | undefined,
      });
      return { certificateArn: arnOf(ca), certificateId: ca.certificateId };
    },
    DescribeCACertificate: async (caller, input) => {
      const ca = await getCaCertificate(deps.store, scopeOf(caller), req(input, 'certificateId'));
      return {
        certificateDescription: {
          certificateArn: arnOf(ca),
          certificateId: ca.certificateId,
          status: ca.status,
          certificatePem: ca.certificatePem,
          ownedBy: ca.ownedBy,
          creationDate: ca.creationDate,
          autoRegistrationStatus: ca.autoRegistrationStatus,
          lastModifiedDate: ca.lastModifiedDate,
          customerVersion: ca.customerVersion,
          generationId: ca.generationId,
          validity: { notBefore: ca.notBefore, notAfter: ca.notAfter },
          certificateMode: ca.certificateMode,
        },
        ...(ca.registrationConfig ? { registrationConfig: ca.registrationConfig } : {}),
      };
    },
    ListCACertificates: async (caller, input) => {
      const page = await listCaCertificates(deps, scopeOf(caller), listInput(input));
      return {
        certificates: page.items.map((c) => ({ certificateArn: arnOf(c), certificateId: c.certificateId, status: c.status, creationDate: c.creationDate })),
        ...(page.nextMarker ? { nextMarker: page.nextMarker } : {}),
      };
    },
    UpdateCACertificate: async (caller, input) => {
      await updateCaCertificate(deps, scopeOf(caller), {
        certificateId: req(input, 'certificateId'),
        newStatus: opt(input, 'newStatus'),
        newAutoRegistrationStatus: opt(input, 'newAutoRegistrationStatus') as AutoRegistrationStatus | undefined,
        registrationConfig: registrationConfigOf(input),
        removeAutoRegistration: optBool(input, 'removeAutoRegistration'),
      });
    },
    DeleteCACertificate: async (caller, input) => {
      await deleteCaCertificate(deps, scopeOf(caller), { certificateId: req(input, 'certificateId') });
      return {};
    },
  };
}
