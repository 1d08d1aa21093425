import { iotArn } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import {
  acceptCertificateTransfer,
  cancelCertificateTransfer,
  createCertificateFromCsr,
  createKeysAndCertificate,
  deleteCertificate,
  getVisibleCertificate,
  listCertificates,
  listCertificatesByCa,
  listOutgoingCertificates,
  registerCertificate,
  registerCertificateWithoutCa,
  rejectCertificateTransfer,
  transferCertificate,
  updateCertificate,
} from '../../registry/index.js';
import type { Certificate, CertificateStatus, RegistryDeps } from '../../registry/index.js';
import type { OperationTable } from '../create-api-server.js';
import { listInput, opt, optBool, req } from './input-fields.js';

const arnOf = (c: Certificate) => iotArn(c.scope, 'cert', c.certificateId);

function summary(c: Certificate) {
  return {
    certificateArn: arnOf(c),
    certificateId: c.certificateId,
    status: c.status,
    certificateMode: c.certificateMode,
    creationDate: c.creationDate,
  };
}

function description(c: Certificate) {
  const t = c.transferData;
  const hasTransfer = t.transferDate || t.acceptDate || t.rejectDate || t.transferMessage || t.rejectReason;
  return {
    certificateArn: arnOf(c),
    certificateId: c.certificateId,
    ...(c.caCertificateId ? { caCertificateId: c.caCertificateId } : {}),
    status: c.status,
    certificatePem: c.certificatePem,
    ownedBy: c.ownedBy,
    ...(c.previousOwnedBy ? { previousOwnedBy: c.previousOwnedBy } : {}),
    creationDate: c.creationDate,
    lastModifiedDate: c.lastModifiedDate,
    customerVersion: c.customerVersion,
    ...(hasTransfer ? { transferData: { ...t } } : {}),
    generationId: c.generationId,
    validity: { notBefore: c.notBefore, notAfter: c.notAfter },
    certificateMode: c.certificateMode,
  };
}

export function certificateOperations(deps: RegistryDeps, scopeOf: (caller: { accountId: string; region: string }) => Scope): OperationTable {
  return {
    CreateKeysAndCertificate: async (caller, input) => {
      const { certificate, keyPair } = await createKeysAndCertificate(deps, scopeOf(caller), { setAsActive: optBool(input, 'setAsActive') });
      return { certificateArn: arnOf(certificate), certificateId: certificate.certificateId, certificatePem: certificate.certificatePem, keyPair };
    },
    CreateCertificateFromCsr: async (caller, input) => {
      const c = await createCertificateFromCsr(deps, scopeOf(caller), {
        certificateSigningRequest: req(input, 'certificateSigningRequest'),
        setAsActive: optBool(input, 'setAsActive'),
      });
      return { certificateArn: arnOf(c), certificateId: c.certificateId, certificatePem: c.certificatePem };
    },
    RegisterCertificate: async (caller, input) => {
      const c = await registerCertificate(deps, scopeOf(caller), {
        certificatePem: req(input, 'certificatePem'),
        caCertificatePem: opt(input, 'caCertificatePem'),
        status: opt(input, 'status'),
        setAsActive: optBool(input, 'setAsActive'),
      });
      return { certificateArn: arnOf(c), certificateId: c.certificateId };
    },
    RegisterCertificateWithoutCA: async (caller, input) => {
      const c = await registerCertificateWithoutCa(deps, scopeOf(caller), { certificatePem: req(input, 'certificatePem'), status: opt(input, 'status') });
      return { certificateArn: arnOf(c), certificateId: c.certificateId };
    },
    DescribeCertificate: async (caller, input) => ({
      certificateDescription: description(await getVisibleCertificate(deps.store, scopeOf(caller), req(input, 'certificateId'))),
    }),
    ListCertificates: async (caller, input) => {
      const page = await listCertificates(deps, scopeOf(caller), listInput(input));
      return { certificates: page.items.map(summary), ...(page.nextMarker ? { nextMarker: page.nextMarker } : {}) };
    },
    ListCertificatesByCA: async (caller, input) => {
      const page = await listCertificatesByCa(deps, scopeOf(caller), { ...listInput(input), caCertificateId: req(input, 'caCertificateId') });
      return { certificates: page.items.map(summary), ...(page.nextMarker ? { nextMarker: page.nextMarker } : {}) };
    },
    UpdateCertificate: async (caller, input) => {
      await updateCertificate(deps, scopeOf(caller), {
        certificateId: req(input, 'certificateId'),
        newStatus: req(input, 'newStatus') as CertificateStatus,
      });
    },
    DeleteCertificate: async (caller, input) => {
      await deleteCertificate(deps, scopeOf(caller), { certificateId: req(input, 'certificateId'), forceDelete: optBool(input, 'forceDelete') });
    },
    TransferCertificate: async (caller, input) => ({
      transferredCertificateArn: await transferCertificate(deps, scopeOf(caller), {
        certificateId: req(input, 'certificateId'),
        targetAwsAccount: req(input, 'targetAwsAccount'),
        transferMessage: opt(input, 'transferMessage'),
      }),
    }),
    AcceptCertificateTransfer: async (caller, input) => {
      await acceptCertificateTransfer(deps, scopeOf(caller), { certificateId: req(input, 'certificateId'), setAsActive: optBool(input, 'setAsActive') });
    },
    RejectCertificateTransfer: async (caller, input) => {
      await rejectCertificateTransfer(deps, scopeOf(caller), { certificateId: req(input, 'certificateId'), rejectReason: opt(input, 'rejectReason') });
    },
    CancelCertificateTransfer: async (caller, input) => {
      await cancelCertificateTransfer(deps, scopeOf(caller), { certificateId: req(input, 'certificateId') });
    },
    ListOutgoingCertificates: async (caller, input) => {
      const page = await listOutgoingCertificates(deps, scopeOf(caller), listInput(input));
      return {
        outgoingCertificates: page.items.map((c) => ({
          certificateArn: arnOf(c),
          certificateId: c.certificateId,
          ...(c.transferTo ? { transferredTo: c.transferTo } : {}),
          ...(c.transferData.transferDate ? { transferDate: c.transferData.transferDate } : {}),
          ...(c.transferData.transferMessage ? { transferMessage: c.transferData.transferMessage } : {}),
          creationDate: c.creationDate,
        })),
        ...(page.nextMarker ? { nextMarker: page.nextMarker } : {}),
      };
    },
  };
}
