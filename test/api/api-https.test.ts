// issue 10 #9: the control plane (which hands out private keys) must not be in clear beyond loopback.
// Real server processes, real clients: the aws CLI with --ca-bundle and with DATA/config, @aws-sdk/client-iot
// with an https agent trusting DATA/ca-bundle.pem, a plain-HTTP request, `certgate why`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ListThingsCommand } from '@aws-sdk/client-iot';
import { runCertgateCli, startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { awsCli, iotClient } from '../helpers/iot-clients.js';

const execFileP = promisify(execFile);

/** A plain-HTTP GET; resolves with the status code, rejects when the connection fails. Bounded. */
function plainHttpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function portOf(apiUrl: string): string {
  return new URL(apiUrl).port;
}

describe('issue 10 #9: the API is in clear on the device-facing address', () => {
  describe('beyond loopback (--api-host 0.0.0.0): HTTPS only, with certgate\'s own certificate', () => {
    let server: RunningCertgate;
    before(async () => {
      server = await startCertgate({ args: ['--api-host', '0.0.0.0'] });
    });
    after(async () => {
      await server?.stop();
    });

    it('the ready line names an https endpoint and the CA bundle; DATA/config carries both', async () => {
      assert.match(server.apiUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(server.caBundle, join(server.dataDir, 'ca-bundle.pem'));
      const bundle = await readFile(server.caBundle!, 'utf8');
      const roots = (await readFile(join(server.dataDir, 'root-ca-rsa.pem'), 'utf8')) + (await readFile(join(server.dataDir, 'root-ca-ecc.pem'), 'utf8'));
      assert.equal(bundle.replace(/\s+/g, ''), roots.replace(/\s+/g, ''), 'the bundle is certgate\'s two roots');
      const config = await readFile(join(server.dataDir, 'config'), 'utf8');
      assert.match(config, new RegExp(`^ca_bundle = ${server.caBundle!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
      assert.match(config, new RegExp(`^endpoint_url = ${server.apiUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
    });

    it('the aws CLI works with --ca-bundle, and with DATA/config alone (no --endpoint-url, no --ca-bundle)', async () => {
      const withFlag = await awsCli(['list-things'], server);
      assert.equal(withFlag.code, 0, withFlag.stderr);
      assert.deepEqual((withFlag.json as { things: unknown[] }).things, []);
      const fromConfig = await awsCli(['list-things'], { ...server, caBundle: undefined }, { configFile: join(server.dataDir, 'config'), endpointUrl: null });
      assert.equal(fromConfig.code, 0, fromConfig.stderr);
    });

    it('the aws CLI without the bundle refuses the certificate (it is not publicly trusted)', async () => {
      const res = await awsCli(['list-things'], { ...server, caBundle: undefined });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /SSL|certificate/i);
    });

    it('@aws-sdk/client-iot with an https agent trusting the bundle', async () => {
      const out = await iotClient(server).send(new ListThingsCommand({}));
      assert.deepEqual(out.things, []);
    });

    it('a plain-HTTP request to the API port fails', async () => {
      await assert.rejects(plainHttpGet(`http://127.0.0.1:${portOf(server.apiUrl)}/things`));
    });

    it('the certificate names localhost and 127.0.0.1 (openssl verifies it against the bundle)', async () => {
      const { stdout } = await execFileP('openssl', ['s_client', '-connect', `127.0.0.1:${portOf(server.apiUrl)}`, '-CAfile', server.caBundle!, '-verify_ip', '127.0.0.1', '-verify_return_error', '-servername', 'localhost'], { timeout: 20_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      assert.match(stdout, /Verify return code: 0 \(ok\)/);
    });

    it('`certgate why` reaches it over HTTPS with DATA/config alone', async () => {
      const res = await runCertgateCli(['why', 'nobody', '--data-dir', server.dataDir]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /no access records/);
    });
  });

  it('--host 0.0.0.0 (the API following the device-facing address) is HTTPS too', async () => {
    const server = await startCertgate({ args: ['--host', '0.0.0.0'] });
    try {
      assert.match(server.apiUrl, /^https:\/\//);
      await assert.rejects(plainHttpGet(`http://127.0.0.1:${portOf(server.apiUrl)}/things`));
      const res = await awsCli(['list-things'], server);
      assert.equal(res.code, 0, res.stderr);
    } finally {
      await server.stop();
    }
  });

  it('--api-insecure-http gives plain HTTP beyond loopback, with a loud warning in the log', async () => {
    const server = await startCertgate({ args: ['--api-host', '0.0.0.0', '--api-insecure-http'] });
    try {
      assert.match(server.apiUrl, /^http:\/\//);
      assert.equal(server.caBundle, undefined);
      assert.equal(await plainHttpGet(`${server.apiUrl}/things`), 403); // unsigned: MissingAuthenticationToken, but answered in clear
      assert.match(server.output(), /INSECURE/);
      assert.match(server.output(), /"level":40/); // pino warn
    } finally {
      await server.stop();
    }
  });

  it('the default loopback start is still plain HTTP (the README\'s first command)', async () => {
    const server = await startCertgate();
    try {
      assert.match(server.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await awsCli(['list-things'], server);
      assert.equal(res.code, 0, res.stderr);
    } finally {
      await server.stop();
    }
  });

  it('--api-tls on forces HTTPS on loopback', async () => {
    const server = await startCertgate({ args: ['--api-tls', 'on'] });
    try {
      assert.match(server.apiUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      const out = await iotClient(server).send(new ListThingsCommand({}));
      assert.deepEqual(out.things, []);
    } finally {
      await server.stop();
    }
  });

  it('the operator\'s certificate and key (--api-tls-cert/--api-tls-key)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certgate-api-cert-'));
    try {
      const cert = join(dir, 'api.crt');
      const key = join(dir, 'api.key');
      await execFileP('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-keyout', key, '-out', cert, '-subj', '/CN=operator api', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { timeout: 20_000 });
      const server = await startCertgate({ args: ['--api-host', '0.0.0.0', '--api-tls-cert', cert, '--api-tls-key', key] });
      try {
        assert.match(server.apiUrl, /^https:\/\//);
        assert.equal(server.caBundle, undefined, 'certgate does not know the operator\'s CA: no bundle is named');
        const res = await awsCli(['list-things'], server, { caBundle: cert });
        assert.equal(res.code, 0, res.stderr);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bad combinations fail at start in one line naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--api-tls', 'maybe'], /--api-tls/],
      [['--api-tls', 'off', '--api-host', '0.0.0.0'], /--api-insecure-http/],
      [['--api-tls', 'on', '--api-insecure-http'], /--api-insecure-http/],
      [['--api-tls-cert', '/nonexistent.crt'], /--api-tls-key/],
    ];
    for (const [args, want] of cases) {
      const res = await runCertgateCli(['serve', '--data-dir', '/nonexistent-certgate-dir', ...args]);
      assert.equal(res.code, 1, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, want);
    }
  });
});
