import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/kernel/index.js';
import { FileCaKeyVault } from '../../src/keys/index.js';
import { dataDirLayout } from '../../src/main/data-dir-layout.js';
import { ensureServiceCas } from '../../src/main/service-cas.js';
import { StartupError } from '../../src/main/startup-error.js';
import { parseCertificatePem } from '../../src/pki/index.js';

describe('ensureServiceCas', () => {
  let dir: string;
  const masterKey = randomBytes(32);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certgate-cas-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the five CAs once and reloads them unchanged', async () => {
    const layout = dataDirLayout(dir);
    const vault = new FileCaKeyVault(layout.keysDir, masterKey);
    const now = new Date();
    const first = await ensureServiceCas({ layout, vault, now, logger: silentLogger });
    assert.equal(first.rootRsa.certificate.subject, first.intermediateRsa.certificate.issuer);
    assert.equal(first.rootEcc.certificate.subject, first.intermediateEcc.certificate.issuer);
    assert.equal(first.rootEcc.certificate.publicKey.curve, 'P-256');
    assert.equal(first.deviceIssuer.certificate.subjectAttributes['CN']?.[0], 'certgate Device Issuing CA');
    assert.equal(first.deviceIssuer.certificate.subject, first.deviceIssuer.certificate.issuer);
    assert.equal(parseCertificatePem(await readFile(layout.rootCaRsa, 'utf8')).certificateId, first.rootRsa.certificate.certificateId);

    const again = await ensureServiceCas({ layout, vault: new FileCaKeyVault(layout.keysDir, masterKey), now, logger: silentLogger });
    for (const role of ['rootRsa', 'rootEcc', 'intermediateRsa', 'intermediateEcc', 'deviceIssuer'] as const) {
      assert.equal(again[role].certificatePem, first[role].certificatePem);
      assert.equal(again[role].privateKeyPem, first[role].privateKeyPem);
    }
  });

  it('fails with a clear message, writing nothing, on a wrong master key or a missing key', async () => {
    const layout = dataDirLayout(dir);
    const before = await readdir(layout.keysDir);
    await assert.rejects(
      ensureServiceCas({ layout, vault: new FileCaKeyVault(layout.keysDir, randomBytes(32)), now: new Date(), logger: silentLogger }),
      (e: unknown) => e instanceof StartupError && /^cannot decrypt CA keys: wrong master key\?/.test(e.message),
    );
    assert.deepEqual(await readdir(layout.keysDir), before);

    const rootPem = await readFile(layout.rootCaEcc, 'utf8');
    await rm(join(layout.keysDir, 'root-ca-ecc.key.enc'));
    await assert.rejects(
      ensureServiceCas({ layout, vault: new FileCaKeyVault(layout.keysDir, masterKey), now: new Date(), logger: silentLogger }),
      (e: unknown) => e instanceof StartupError && /root-ca-ecc\.pem exists but its private key 'root-ca-ecc' is missing/.test(e.message),
    );
    assert.equal(await readFile(layout.rootCaEcc, 'utf8'), rootPem, 'root not regenerated');
  });

  it('refuses a certificate that does not match its key', async () => {
    const layout = dataDirLayout(dir);
    const vault = new FileCaKeyVault(layout.keysDir, masterKey);
    // A valid EC key, but the intermediate's, under the root's name.
    await vault.put('root-ca-ecc', (await vault.get('intermediate-ecc'))!);
    await assert.rejects(ensureServiceCas({ layout, vault, now: new Date(), logger: silentLogger }), /does not match its private key 'root-ca-ecc'/);
  });
});
