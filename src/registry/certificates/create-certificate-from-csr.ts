import { issueDeviceCertificate, parseCertificatePem, parseCsrPem } from '../../pki/index.js';
import type { Scope } from '../../kernel/index.js';
import type { Certificate } from '../entities.js';
import type { RegistryDeps } from '../registry-deps.js';
import { newCertificateRecord } from './new-certificate-record.js';

/** CreateCertificateFromCsr: the CSR's signature and key are checked by pki (InvalidRequestException). */
export async function createCertificateFromCsr(
  deps: RegistryDeps,
  scope: Scope,
  input: { certificateSigningRequest: string; setAsActive?: boolean | undefined; pendingActivation?: boolean | undefined },
): Promise<Certificate> {
  const csr = await parseCsrPem(input.certificateSigningRequest);
  const now = deps.clock.now();
  const publicKeyPem = spkiToPem(csr.spkiDer);
  const pem = await issueDeviceCertificate(deps.deviceIssuer, publicKeyPem, now);
  const certificate = newCertificateRecord(scope, parseCertificatePem(pem), {
    // Fleet provisioning over MQTT creates PENDING_ACTIVATION certificates (RegisterThing activates them).
    status: input.pendingActivation ? 'PENDING_ACTIVATION' : input.setAsActive ? 'ACTIVE' : 'INACTIVE',
    caCertificateId: null,
    certificateMode: 'DEFAULT',
    now,
  });
  await deps.store.insertCertificate(certificate);
  return certificate;
}

function spkiToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
}
