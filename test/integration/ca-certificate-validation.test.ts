// Issue 10 (CA rules): RegisterCACertificate checks the CA certificate's own X.509 extensions, in DEFAULT mode
// (with a verification certificate) and in SNI_ONLY mode, so that a CA which could never sign a valid device
// path is refused when the operator registers it rather than at every later device registration
// (ISSUER_KEY_USAGE …). CertificateValidationException (botocore: "The certificate is invalid") naming the
// rule; nothing is registered. The proof of possession is unchanged. Real certgate process,
// @aws-sdk/client-iot and the aws CLI, certificates made by openssl at run time.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DescribeCACertificateCommand,
  GetRegistrationCodeCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import {
  CA_DEFECT_REASON,
  CA_EXTENSIONS,
  DEFECTIVE_CA_EXTENSIONS,
  makeCaValidBetween,
  makeCaWith,
  signWith,
} from '../helpers/extension-certificates.js';
import { awsCli, expectIotError, iotClient } from '../helpers/iot-clients.js';
import { certificateIdOfPem } from '../helpers/jit.js';
import { runOpenssl, TestPki } from '../helpers/openssl.js';
import type { TestCa } from '../helpers/openssl.js';

describe("RegisterCACertificate checks the CA certificate's own extensions (issue 10, CA rules)", { timeout: 300_000 }, () => {
  let server: RunningCertgate;
  let iot: IoTClient;
  let pki: TestPki;
  let code: string;

  before(async () => {
    server = await startCertgate();
    iot = iotClient(server);
    pki = await TestPki.create();
    const out = await iot.send(new GetRegistrationCodeCommand({}));
    assert.ok(out.registrationCode);
    code = out.registrationCode;
  });

  after(async () => {
    iot?.destroy();
    await server?.stop();
    await pki?.cleanup();
  });

  /** DEFAULT mode: with a verification certificate (CN = registration code, signed by the CA's key). */
  async function registerDefault(ca: TestCa): Promise<string | undefined> {
    const verification = await pki.makeVerificationCert(ca, code);
    const out = await iot.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, verificationCertificate: verification.certPem, setAsActive: true }));
    return out.certificateId;
  }

  function registerSniOnly(ca: TestCa): Promise<unknown> {
    return iot.send(new RegisterCACertificateCommand({ caCertificate: ca.certPem, certificateMode: 'SNI_ONLY', setAsActive: true }));
  }

  async function assertCaNotRegistered(ca: TestCa): Promise<void> {
    await expectIotError(iot.send(new DescribeCACertificateCommand({ certificateId: certificateIdOfPem(ca.certPem) })), 'ResourceNotFoundException');
  }

  async function assertRefusedInBothModes(ca: TestCa, reason: RegExp): Promise<void> {
    const inDefault = await expectIotError(registerDefault(ca), 'CertificateValidationException', 400);
    assert.match(inDefault.message, reason);
    await assertCaNotRegistered(ca);
    const inSniOnly = await expectIotError(registerSniOnly(ca), 'CertificateValidationException', 400);
    assert.match(inSniOnly.message, reason);
    await assertCaNotRegistered(ca);
  }

  for (const [defect, extensions] of Object.entries(DEFECTIVE_CA_EXTENSIONS) as [keyof typeof DEFECTIVE_CA_EXTENSIONS, readonly string[]][]) {
    it(`issue 10 CA rules: RegisterCACertificate refuses a CA certificate with ${defect} (DEFAULT and SNI_ONLY)`, async () => {
      const ca = await makeCaWith(pki, { extensions });
      await assertRefusedInBothModes(ca, CA_DEFECT_REASON[defect]);
    });
  }

  it('issue 10 CA rules: RegisterCACertificate refuses a CA certificate that is not a CA (basicConstraints CA:FALSE), in both modes', async () => {
    const notCa = await pki.makeCa({ isCa: false });
    await assertRefusedInBothModes(notCa, /not a CA certificate \(basicConstraints CA:TRUE is missing\)/);
  });

  it('issue 10 CA rules: RegisterCACertificate refuses an expired CA certificate and one not yet valid, in both modes', async () => {
    const expired = await makeCaValidBetween(pki, '20200101000000Z', '20210101000000Z');
    await assertRefusedInBothModes(expired, /expired/);
    const future = await makeCaValidBetween(pki, '20450101000000Z', '20460101000000Z');
    await assertRefusedInBothModes(future, /not yet valid/);
  });

  it('issue 10 CA rules: the aws CLI gets CertificateValidationException naming the rule for a CA whose keyUsage lacks keyCertSign', async () => {
    const ca = await makeCaWith(pki, { extensions: DEFECTIVE_CA_EXTENSIONS['a keyUsage without keyCertSign'] });
    const res = await awsCli(['register-ca-certificate', '--ca-certificate', `file://${ca.certPath}`, '--certificate-mode', 'SNI_ONLY', '--set-as-active'], server);
    assert.ok(res.code === 254 || res.code === 255, `expected exit code 254/255, got ${res.code}; stderr: ${res.stderr}`);
    assert.match(res.stderr, /\(CertificateValidationException\)/);
    assert.match(res.stderr, /keyUsage without keyCertSign/);
    await assertCaNotRegistered(ca);
  });

  it("CA certificates a device path can use still register: no keyUsage at all, pathlen:0, critical name constraints (their devices register), the CA of AWS's guide, SNI_ONLY", async () => {
    const variants: readonly (readonly string[])[] = [
      ['basicConstraints=critical,CA:TRUE', 'subjectKeyIdentifier=hash'],
      ['basicConstraints=critical,CA:TRUE,pathlen:0', ...CA_EXTENSIONS.slice(1)],
      [...CA_EXTENSIONS, 'nameConstraints=critical,permitted;DNS:devices.example'],
    ];
    for (const extensions of variants) {
      const ca = await makeCaWith(pki, { extensions });
      const caId = await registerDefault(ca);
      assert.equal(caId, certificateIdOfPem(ca.certPem), `registers: ${extensions.join('; ')}`);
      const device = await signWith(pki, ca);
      const out = await iot.send(new RegisterCertificateCommand({ certificatePem: device.certPem, caCertificatePem: ca.certPem, status: 'ACTIVE' }));
      assert.equal(out.certificateId, certificateIdOfPem(device.certPem));
    }
    // The CA of AWS's guide (manage-your-CA-certs.html): `openssl req -x509 -new -nodes -key … -sha256 -days 1024`,
    // extensions from openssl's default configuration.
    const keyFile = await pki.newKey('rsa');
    await runOpenssl(['req', '-x509', '-new', '-nodes', '-key', keyFile, '-subj', '/CN=certgate guide CA', '-sha256', '-days', '1024', '-out', 'guide-ca.pem'], pki.dir);
    const guideCa: TestCa = {
      cn: 'certgate guide CA',
      certPem: await readFile(join(pki.dir, 'guide-ca.pem'), 'utf8'),
      keyPem: await readFile(join(pki.dir, keyFile), 'utf8'),
      certPath: join(pki.dir, 'guide-ca.pem'),
      keyPath: join(pki.dir, keyFile),
    };
    assert.equal(await registerDefault(guideCa), certificateIdOfPem(guideCa.certPem));

    const sni = await makeCaWith(pki);
    await registerSniOnly(sni);
    const d = await iot.send(new DescribeCACertificateCommand({ certificateId: certificateIdOfPem(sni.certPem) }));
    assert.equal(d.certificateDescription?.certificateMode, 'SNI_ONLY');
  });

  it('the proof of possession is unchanged: the CA rules do not apply to the verification certificate, and its own errors still come', async () => {
    // The verification certificate is a leaf (CA:FALSE, keyUsage without keyCertSign): accepted.
    const ca = await makeCaWith(pki);
    assert.equal(await registerDefault(ca), certificateIdOfPem(ca.certPem));

    // Wrong CN → RegistrationCodeValidationException; signed by another key → CertificateValidationException.
    const other = await makeCaWith(pki);
    const wrongCn = await signWith(pki, other, { subject: { CN: 'not-the-registration-code' } });
    await expectIotError(iot.send(new RegisterCACertificateCommand({ caCertificate: other.certPem, verificationCertificate: wrongCn.certPem })), 'RegistrationCodeValidationException', 400);
    const stranger = await makeCaWith(pki);
    const foreign = await pki.makeVerificationCert(stranger, code);
    const err = await expectIotError(iot.send(new RegisterCACertificateCommand({ caCertificate: other.certPem, verificationCertificate: foreign.certPem })), 'CertificateValidationException', 400);
    assert.match(err.message, /not signed by the CA certificate's private key/);
    await assertCaNotRegistered(other);

    // A defective CA is refused for its own rule before its proof of possession is looked at.
    const bad = await makeCaWith(pki, { extensions: DEFECTIVE_CA_EXTENSIONS['an unknown critical extension'] });
    const badCn = await signWith(pki, bad, { subject: { CN: 'not-the-registration-code' } });
    const first = await expectIotError(iot.send(new RegisterCACertificateCommand({ caCertificate: bad.certPem, verificationCertificate: badCn.certPem })), 'CertificateValidationException', 400);
    assert.match(first.message, CA_DEFECT_REASON['an unknown critical extension']);
  });
});
