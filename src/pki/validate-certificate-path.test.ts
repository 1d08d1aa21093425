// issue 10 #5 and #6: device certificates are checked as X.509 demands (RFC 5280 path validation), with
// certificates crafted here (@peculiar/x509 + WebCrypto), validated at a fixed `now`.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Extension } from '@peculiar/x509';
import { parseCertificatePem } from './parse-certificate.js';
import type { ParsedCertificate } from './parse-certificate.js';
import { craftCertificatePem, testKeys } from './test-certificates.js';
import type { TestKeys } from './test-certificates.js';
import { checkCaCertificate, checkDeviceCertificate, validateCertificatePath } from './validate-certificate-path.js';
import type { PathValidation } from './validate-certificate-path.js';
import { ensurePkijsRuntime, ensureX509Runtime } from './x509-runtime.js';

const NOW = new Date('2030-06-01T00:00:00Z');
const DAY = 86_400_000;
const inDate = { notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + 365 * DAY) };
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

interface Ca {
  readonly subject: string;
  readonly keys: TestKeys;
  readonly parsed: ParsedCertificate;
}

function x509() {
  return ensureX509Runtime();
}

function keyUsage(...names: ('digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign')[]): Extension {
  const flags = names.reduce((acc, n) => acc | x509().KeyUsageFlags[n], 0);
  return new (x509().KeyUsagesExtension)(flags, true);
}

function extendedKeyUsage(...oids: string[]): Extension {
  return new (x509().ExtendedKeyUsageExtension)(oids, false);
}

/** nameConstraints permitting DNS names and/or directory-name subtrees, and excluding directory-name subtrees. */
function nameConstraints(permitted: { dns?: string[]; dn?: string[] }, excluded: { dn?: string[] } = {}): Extension {
  const { pkijs } = ensurePkijsRuntime();
  const dnSubtree = (dn: string) =>
    new pkijs.GeneralSubtree({
      base: new pkijs.GeneralName({ type: 4, value: pkijs.RelativeDistinguishedNames.fromBER(new (x509().Name)(dn).toArrayBuffer()) }),
    });
  const permittedSubtrees = [
    ...(permitted.dns ?? []).map((value) => new pkijs.GeneralSubtree({ base: new pkijs.GeneralName({ type: 2, value }) })),
    ...(permitted.dn ?? []).map(dnSubtree),
  ];
  const excludedSubtrees = (excluded.dn ?? []).map(dnSubtree);
  const der = new pkijs.NameConstraints({
    ...(permittedSubtrees.length > 0 ? { permittedSubtrees } : {}),
    ...(excludedSubtrees.length > 0 ? { excludedSubtrees } : {}),
  })
    .toSchema()
    .toBER();
  return new (x509().Extension)('2.5.29.30', true, der);
}

async function makeCa(
  subject: string,
  opts: { issuer?: Ca; pathLength?: number; extensions?: Extension[]; notBefore?: Date; notAfter?: Date } = {},
): Promise<Ca> {
  const keys = await testKeys('EC-P256');
  const pem = await craftCertificatePem({
    subject,
    keys,
    ca: true,
    ...inDate,
    ...(opts.notBefore !== undefined ? { notBefore: opts.notBefore } : {}),
    ...(opts.notAfter !== undefined ? { notAfter: opts.notAfter } : {}),
    ...(opts.pathLength !== undefined ? { pathLength: opts.pathLength } : {}),
    ...(opts.issuer !== undefined ? { issuer: { keys: opts.issuer.keys, subject: opts.issuer.subject } } : {}),
    extensions: [keyUsage('keyCertSign', 'cRLSign'), ...(opts.extensions ?? [])],
    serialNumber: '0a',
  });
  return { subject, keys, parsed: parseCertificatePem(pem) };
}

async function makeDevice(issuer: Ca, opts: { subject?: string; ca?: boolean; extensions?: Extension[] } = {}): Promise<ParsedCertificate> {
  const pem = await craftCertificatePem({
    subject: opts.subject ?? 'CN=device-1',
    keys: await testKeys('EC-P256'),
    issuer: { keys: issuer.keys, subject: issuer.subject },
    ...inDate,
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    extensions: opts.extensions ?? [],
    serialNumber: '0b',
  });
  return parseCertificatePem(pem);
}

function assertRefused(v: PathValidation, check: string, pattern: RegExp): void {
  assert.equal(v.valid, false, 'expected a refusal');
  if (v.valid) return;
  assert.equal(v.check, check, v.reason);
  assert.match(v.reason, pattern);
}

describe('validateCertificatePath (issue 10 #5, #6)', () => {
  let root: Ca;

  before(async () => {
    root = await makeCa('CN=Root CA,O=Acme');
  });

  it('accepts a plain device certificate: keyUsage digitalSignature, EKU clientAuth — or neither extension (RFC 5280 allows them absent)', async () => {
    const full = await makeDevice(root, { extensions: [keyUsage('digitalSignature'), extendedKeyUsage(CLIENT_AUTH, SERVER_AUTH)] });
    assert.deepEqual(await validateCertificatePath({ device: full, trustAnchor: root.parsed, now: NOW }), { valid: true });
    const bare = await makeDevice(root);
    assert.deepEqual(await validateCertificatePath({ device: bare, trustAnchor: root.parsed, now: NOW }), { valid: true });
    const any = await makeDevice(root, { extensions: [extendedKeyUsage('2.5.29.37.0')] });
    assert.deepEqual(await validateCertificatePath({ device: any, trustAnchor: root.parsed, now: NOW }), { valid: true });
  });

  it('issue 10 #5: a CA certificate is not a device certificate', async () => {
    const ca = await makeDevice(root, { ca: true });
    assertRefused(checkDeviceCertificate(ca), 'CA_CERTIFICATE_AS_DEVICE', /basicConstraints CA:TRUE/);
    assertRefused(await validateCertificatePath({ device: ca, trustAnchor: root.parsed, now: NOW }), 'CA_CERTIFICATE_AS_DEVICE', /not a device certificate/);
    const signer = await makeDevice(root, { extensions: [keyUsage('digitalSignature', 'keyCertSign')] });
    assertRefused(checkDeviceCertificate(signer), 'CA_CERTIFICATE_AS_DEVICE', /keyCertSign/);
  });

  it('issue 10 #6: an extendedKeyUsage of serverAuth only is refused', async () => {
    const device = await makeDevice(root, { extensions: [extendedKeyUsage(SERVER_AUTH)] });
    assertRefused(await validateCertificatePath({ device, trustAnchor: root.parsed, now: NOW }), 'EXTENDED_KEY_USAGE', /without clientAuth/);
  });

  it('issue 10 #6: a keyUsage without digitalSignature is refused', async () => {
    const device = await makeDevice(root, { extensions: [keyUsage('keyEncipherment')] });
    assertRefused(await validateCertificatePath({ device, trustAnchor: root.parsed, now: NOW }), 'KEY_USAGE', /without digitalSignature/);
  });

  it('issue 10 #6: an unknown critical extension is refused (RFC 5280 §4.2)', async () => {
    const unknown = new (x509().Extension)('1.3.6.1.4.1.55555.1', true, new Uint8Array([0x05, 0x00]));
    const device = await makeDevice(root, { extensions: [unknown] });
    assertRefused(await validateCertificatePath({ device, trustAnchor: root.parsed, now: NOW }), 'UNKNOWN_CRITICAL_EXTENSION', /1\.3\.6\.1\.4\.1\.55555\.1/);
    // The same extension, not critical, is ignored.
    const quiet = await makeDevice(root, { extensions: [new (x509().Extension)('1.3.6.1.4.1.55555.1', false, new Uint8Array([0x05, 0x00]))] });
    assert.deepEqual(await validateCertificatePath({ device: quiet, trustAnchor: root.parsed, now: NOW }), { valid: true });
  });

  it("issue 10 #6: the CA's name constraints bind the device (directory name and DNS subtrees)", async () => {
    const constrained = await makeCa('CN=Acme devices CA,O=Acme', { extensions: [nameConstraints({ dn: ['O=Acme'], dns: ['devices.acme.example'] })] });
    // DER order: the constrained RDN (O=Acme) comes first, as a name within the subtree O=Acme must.
    const inside = await makeDevice(constrained, {
      subject: 'O=Acme,CN=sensor-1',
      extensions: [new (x509().SubjectAlternativeNameExtension)([{ type: 'dns', value: 'sensor-1.devices.acme.example' }])],
    });
    assert.deepEqual(await validateCertificatePath({ device: inside, trustAnchor: constrained.parsed, now: NOW }), { valid: true });
    const otherOrg = await makeDevice(constrained, { subject: 'O=Evil,CN=sensor-2' });
    assertRefused(await validateCertificatePath({ device: otherOrg, trustAnchor: constrained.parsed, now: NOW }), 'NAME_CONSTRAINTS', /name constraints/);
    const otherDns = await makeDevice(constrained, {
      subject: 'O=Acme,CN=sensor-3',
      extensions: [new (x509().SubjectAlternativeNameExtension)([{ type: 'dns', value: 'sensor-3.evil.example' }])],
    });
    assertRefused(await validateCertificatePath({ device: otherDns, trustAnchor: constrained.parsed, now: NOW }), 'NAME_CONSTRAINTS', /name constraints/);
  });

  it('issue 10 #6: pathLenConstraint 0 forbids an intermediate CA below it', async () => {
    const strict = await makeCa('CN=Strict root', { pathLength: 0 });
    const intermediate = await makeCa('CN=Forbidden intermediate', { issuer: strict });
    const device = await makeDevice(intermediate);
    assertRefused(
      await validateCertificatePath({ device, intermediates: [intermediate.parsed], trustAnchor: strict.parsed, now: NOW }),
      'PATH_LENGTH',
      /pathLenConstraint/,
    );
    // pathLenConstraint 1 allows it.
    const lenient = await makeCa('CN=Lenient root', { pathLength: 1 });
    const allowed = await makeCa('CN=Allowed intermediate', { issuer: lenient });
    const ok = await makeDevice(allowed);
    assert.deepEqual(await validateCertificatePath({ device: ok, intermediates: [allowed.parsed], trustAnchor: lenient.parsed, now: NOW }), { valid: true });
  });

  it('issue 10 #6: every certificate of the path is in date — an expired intermediate or CA refuses the device', async () => {
    const expired = await makeCa('CN=Expired intermediate', { issuer: root, notBefore: new Date(NOW.getTime() - 400 * DAY), notAfter: new Date(NOW.getTime() - DAY) });
    const device = await makeDevice(expired);
    assertRefused(
      await validateCertificatePath({ device, intermediates: [expired.parsed], trustAnchor: root.parsed, now: NOW }),
      'VALIDITY',
      /intermediate CA certificate 1 .* expired at/,
    );
    assertRefused(await validateCertificatePath({ device, trustAnchor: expired.parsed, now: NOW }), 'VALIDITY', /CA certificate .* expired at/);
  });

  it('an issuer that is not a CA, or a CA without keyCertSign, cannot issue', async () => {
    const notCaKeys = await testKeys('EC-P256');
    const notCa: Ca = {
      subject: 'CN=Not a CA',
      keys: notCaKeys,
      parsed: parseCertificatePem(await craftCertificatePem({ subject: 'CN=Not a CA', keys: notCaKeys, ...inDate })),
    };
    assertRefused(await validateCertificatePath({ device: await makeDevice(notCa), trustAnchor: notCa.parsed, now: NOW }), 'ISSUER_NOT_CA', /not a CA/);
    const noSignKeys = await testKeys('EC-P256');
    const noSignPem = await craftCertificatePem({ subject: 'CN=No keyCertSign', keys: noSignKeys, ca: true, ...inDate, extensions: [keyUsage('digitalSignature')] });
    const noSign: Ca = { subject: 'CN=No keyCertSign', keys: noSignKeys, parsed: parseCertificatePem(noSignPem) };
    assertRefused(await validateCertificatePath({ device: await makeDevice(noSign), trustAnchor: noSign.parsed, now: NOW }), 'ISSUER_KEY_USAGE', /keyCertSign/);
  });

  it('a device signed by another key than the CA has no path', async () => {
    const impostor = await makeCa('CN=Root CA,O=Acme');
    const device = await makeDevice(impostor);
    assertRefused(await validateCertificatePath({ device, trustAnchor: root.parsed, now: NOW }), 'NO_PATH', /no valid path/);
  });

  it('issue 10 review #1: a directoryName constraint is a prefix of the subject, RDN by RDN — an RDN of another type cannot be prepended', async () => {
    const constrained = await makeCa('C=US,O=Acme,CN=Acme US CA', { extensions: [nameConstraints({ dn: ['C=US,O=Acme'] })] });
    const valid = async (subject: string) => validateCertificatePath({ device: await makeDevice(constrained, { subject }), trustAnchor: constrained.parsed, now: NOW });
    // pkijs matched the constraint's attributes in order anywhere in the subject: OU=Evil before C=US passed.
    assertRefused(await valid('OU=Evil,C=US,O=Acme,CN=x'), 'NAME_CONSTRAINTS', /OU=Evil.* is not within the permitted directoryName subtrees .*C=US, O=Acme/);
    assertRefused(await valid('C=US,OU=Evil,O=Acme,CN=x'), 'NAME_CONSTRAINTS', /not within the permitted directoryName subtrees/);
    assertRefused(await valid('C=US,CN=x'), 'NAME_CONSTRAINTS', /not within the permitted directoryName subtrees/);
    // Within the subtree: the constraint's RDNs first, compared as RFC 5280 §7.1 says (case and insignificant spaces ignored).
    assert.deepEqual(await valid('C=US,O=Acme,CN=x'), { valid: true });
    assert.deepEqual(await valid('C=us,O=ACME,OU=Lab,CN=y'), { valid: true });
    assert.deepEqual(await valid('C=US,O=Acme'), { valid: true });
  });

  it('issue 10 review #1: an excluded directoryName subtree excludes the names that start with it, and an empty subject is judged by its SANs', async () => {
    const ca = await makeCa('CN=Excluding CA', { extensions: [nameConstraints({}, { dn: ['O=Evil'] })] });
    const valid = async (subject: string, extensions: Extension[] = []) =>
      validateCertificatePath({ device: await makeDevice(ca, { subject, extensions }), trustAnchor: ca.parsed, now: NOW });
    assertRefused(await valid('O=Evil,CN=x'), 'NAME_CONSTRAINTS', /is within the excluded directoryName subtree O=Evil/);
    assertRefused(await valid('O=evil,OU=Lab,CN=x'), 'NAME_CONSTRAINTS', /excluded directoryName subtree/);
    assert.deepEqual(await valid('O=Good,CN=x'), { valid: true });
    // Not within O=Evil (RFC 5280 §7.1: the subtree's DN is a prefix of the name), so not excluded.
    assert.deepEqual(await valid('OU=Lab,O=Evil,CN=x'), { valid: true });
    // An empty subject has no distinguished name to constrain (RFC 5280 §4.2.1.6: the identity is in the SAN).
    const san = new (x509().SubjectAlternativeNameExtension)([{ type: 'dns', value: 'device.example' }], true);
    assert.deepEqual(await valid('', [san]), { valid: true });
  });

  it("issue 10 review #1: directoryName names in the subjectAltName are constrained too", async () => {
    const constrained = await makeCa('O=Acme,CN=Acme CA', { extensions: [nameConstraints({ dn: ['O=Acme'] })] });
    const device = await makeDevice(constrained, {
      subject: 'O=Acme,CN=x',
      extensions: [new (x509().SubjectAlternativeNameExtension)([{ type: 'dn', value: 'O=Evil,CN=x' }])],
    });
    assertRefused(await validateCertificatePath({ device, trustAnchor: constrained.parsed, now: NOW }), 'NAME_CONSTRAINTS', /subjectAltName directoryName O=Evil, CN=x is not within/);
  });

  it("issue 10 review #1: an intermediate's directoryName constraints narrow its CA's, and the intermediate's own subject is constrained by its CA", async () => {
    const anchor = await makeCa('O=Acme,CN=Acme root', { extensions: [nameConstraints({ dn: ['O=Acme'] })] });
    const widening = await makeCa('O=Acme,CN=Widening intermediate', { issuer: anchor, extensions: [nameConstraints({ dn: ['O=Evil'] })] });
    const evil = await makeDevice(widening, { subject: 'O=Evil,CN=x' });
    assertRefused(
      await validateCertificatePath({ device: evil, intermediates: [widening.parsed], trustAnchor: anchor.parsed, now: NOW }),
      'NAME_CONSTRAINTS',
      /device certificate .* is not within the permitted directoryName subtrees of the CA certificate/,
    );
    const prepended = await makeCa('OU=Evil,O=Acme,CN=Prepended intermediate', { issuer: anchor });
    const device = await makeDevice(prepended, { subject: 'O=Acme,CN=y' });
    assertRefused(
      await validateCertificatePath({ device, intermediates: [prepended.parsed], trustAnchor: anchor.parsed, now: NOW }),
      'NAME_CONSTRAINTS',
      /intermediate CA certificate 1 .* is not within the permitted directoryName subtrees/,
    );
    const fine = await makeCa('O=Acme,OU=Lab,CN=Lab intermediate', { issuer: anchor, extensions: [nameConstraints({ dn: ['O=Acme,OU=Lab'] })] });
    const ok = await makeDevice(fine, { subject: 'O=Acme,OU=Lab,CN=z' });
    assert.deepEqual(await validateCertificatePath({ device: ok, intermediates: [fine.parsed], trustAnchor: anchor.parsed, now: NOW }), { valid: true });
  });

  it('issue 10 review #2: a repeated extension is malformed (RFC 5280 §4.2) — device, CA and path', async () => {
    // craftCertificatePem puts basicConstraints CA:FALSE first; a second one says CA:TRUE.
    const twoBasic = await makeDevice(root, { extensions: [new (x509().BasicConstraintsExtension)(true, undefined, true)] });
    assertRefused(checkDeviceCertificate(twoBasic), 'MALFORMED_EXTENSION', /more than one basicConstraints extension \(2\.5\.29\.19\)/);
    assertRefused(await validateCertificatePath({ device: twoBasic, trustAnchor: root.parsed, now: NOW }), 'MALFORMED_EXTENSION', /device certificate .*more than one basicConstraints/);
    // Judged on the first EKU (clientAuth) it passed; the second says serverAuth only.
    const twoEku = await makeDevice(root, { extensions: [extendedKeyUsage(CLIENT_AUTH), extendedKeyUsage(SERVER_AUTH)] });
    assertRefused(checkDeviceCertificate(twoEku), 'MALFORMED_EXTENSION', /more than one extKeyUsage extension \(2\.5\.29\.37\)/);
    // A CA with two keyUsage extensions: refused when registered, and as an intermediate or anchor of a path.
    const twoKu = await makeCa('CN=Two keyUsages', { issuer: root, extensions: [keyUsage('digitalSignature')] });
    assertRefused(checkCaCertificate(twoKu.parsed), 'MALFORMED_EXTENSION', /CA certificate .*more than one keyUsage extension \(2\.5\.29\.15\)/);
    const below = await makeDevice(twoKu);
    assertRefused(
      await validateCertificatePath({ device: below, intermediates: [twoKu.parsed], trustAnchor: root.parsed, now: NOW }),
      'MALFORMED_EXTENSION',
      /intermediate CA certificate 1 .*more than one keyUsage/,
    );
    assertRefused(await validateCertificatePath({ device: below, trustAnchor: twoKu.parsed, now: NOW }), 'MALFORMED_EXTENSION', /more than one keyUsage/);
  });
});
