// A startup step that fails after the API and MQTT listeners are open must close them, so that `certgate
// serve` exits with the error instead of hanging with its ports bound (noticed while building issue 10 #12).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCertgateCli } from '../helpers/certgate-process.js';

describe('startup failure after the listeners are open', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'certgate-startup-failure-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a DATA/config that cannot be written (a directory there): serve closes what it opened and exits 1 naming the file', async () => {
    // DATA/config is written once the API listens (it names the API's URL): make that write fail.
    await mkdir(join(dataDir, 'config'));
    // runCertgateCli rejects when the process has not exited within its bound (a hang, the defect).
    const res = await runCertgateCli(['serve', '--data-dir', dataDir, '--api-port', '0', '--mqtt-port', '0', '--alpn-port', '0', '--print-ready-json']);
    assert.equal(res.code, 1, `exit code; stderr:\n${res.stderr}`);
    assert.match(res.stderr, /^certgate: cannot write .*config/m);
    assert.doesNotMatch(res.stderr, /unexpected error/);
    assert.doesNotMatch(res.stdout, /CERTGATE_READY/);
  });
});
