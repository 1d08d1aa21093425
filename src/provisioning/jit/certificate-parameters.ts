import type { ParsedCertificate } from '../../pki/index.js';

/** The subject attributes JITP reads, by AWS parameter name (aws-reference.md §2.2; AWS jit-provisioning page). */
const SUBJECT_PARAMETERS = [
  ['AWS::IoT::Certificate::Country', 'C'],
  ['AWS::IoT::Certificate::Organization', 'O'],
  ['AWS::IoT::Certificate::OrganizationalUnit', 'OU'],
  ['AWS::IoT::Certificate::DistinguishedNameQualifier', 'dnQualifier'],
  ['AWS::IoT::Certificate::StateName', 'ST'],
  ['AWS::IoT::Certificate::CommonName', 'CN'],
  ['AWS::IoT::Certificate::SerialNumber', 'serialNumber'],
] as const;

/**
 * JITP's parameters: exactly the seven subject attributes the certificate carries (first value of each) and
 * `AWS::IoT::Certificate::Id` (the certificateId, not something in the certificate). Nothing else: a template
 * declaring any other parameter, or one the subject lacks, fails with "Cannot resolve reference value".
 */
export function certificateParameters(device: ParsedCertificate, certificateId: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [parameter, attribute] of SUBJECT_PARAMETERS) {
    const value = device.subjectAttributes[attribute]?.[0];
    if (value !== undefined) out[parameter] = value;
  }
  out['AWS::IoT::Certificate::Id'] = certificateId;
  return out;
}
