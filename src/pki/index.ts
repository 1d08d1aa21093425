/**
 * pki: pure X.509 — parse and fingerprint certificates, key and algorithm rules, CSRs, issuing
 * (service CAs, AWS-shaped device certificates), proof of possession. Imports only kernel,
 * node:crypto and @peculiar/x509 (through x509-runtime.ts); never I/O, process.env or other modules.
 */
export type { KeyAlgorithm, PublicKeyInfo } from './public-key-info.js';
export type { DnAttributes } from './distinguished-name.js';
export type { ParsedCertificate, SubjectAltNames, SignatureAlgorithmInfo } from './parse-certificate.js';
export { parseCertificatePem, parseCertificateChainPem, publicKeyPemOf } from './parse-certificate.js';
export {
  checkSignatureAlgorithm,
  checkPublicKey,
  checkValidity,
  checkCertificateAcceptable,
  checkIsCa,
} from './certificate-rules.js';
export { isSignedBy } from './verify-signature.js';
export type { ParsedCsr } from './csr.js';
export { parseCsrPem, MAX_CSR_LENGTH } from './csr.js';
export type { KeyPairPem, KeyPairKind } from './key-pair.js';
export { generateKeyPair, toPkcs1RsaPrivateKeyPem } from './key-pair.js';
export type { IssuerCredentials, IssueOptions, KeyUsageName, ExtendedKeyUsageName } from './issue-certificate.js';
export { issueCertificate } from './issue-certificate.js';
export type { CaHierarchyMember, CaOptions, ServerCertificateOptions } from './ca-hierarchy.js';
export { createRootCa, createIntermediateCa, createServerCertificate } from './ca-hierarchy.js';
export { AWS_ISSUED_NOT_AFTER, issueDeviceCertificate, createKeysAndCertificate } from './device-certificate.js';
export { checkVerificationCertificate } from './verification-certificate.js';
export type { PathCheck, PathInput, PathValidation } from './validate-certificate-path.js';
export { PATH_CHECKS, checkCaCertificate, checkDeviceCertificate, validateCertificatePath } from './validate-certificate-path.js';
