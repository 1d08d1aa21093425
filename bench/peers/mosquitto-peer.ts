// Debian's mosquitto as the peer, configured as perf-anchors.md measured it: one listener on 127.0.0.1 with
// cafile/certfile/keyfile, require_certificate, use_identity_as_username, persistence false. Its PKI is made
// here with openssl: an EC P-256 CA, a server certificate for 127.0.0.1/localhost, EC P-256 client certificates.
import { spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOpenssl } from '../../test/helpers/openssl.js';
import type { TestPki } from '../../test/helpers/openssl.js';
import type { DeviceFiles } from '../load-spec.js';
import { spawnManaged } from '../pinned-process.js';
import type { ManagedProcess } from '../pinned-process.js';

const START_TIMEOUT_MS = 15_000;
const SERVER_EXT = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=serverAuth',
  'subjectAltName=IP:127.0.0.1,DNS:localhost',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
  '',
].join('\n');

export interface MosquittoServer {
  readonly process: ManagedProcess;
  readonly port: number;
  readonly caPath: string;
  readonly devices: readonly DeviceFiles[];
  readonly version: string;
}

export function findMosquitto(): string {
  for (const p of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto']) {
    if (spawnSync(p, ['-h'], { encoding: 'utf8' }).stdout?.includes('mosquitto version')) return p;
  }
  throw new Error('mosquitto not found: bench/run installs it with apt-get install -y mosquitto');
}

export function mosquittoVersion(bin: string): string {
  const m = /mosquitto version (\S+)/.exec(spawnSync(bin, ['-h'], { encoding: 'utf8' }).stdout ?? '');
  return m?.[1] ?? 'unknown';
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, proc: ManagedProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exited()) throw new Error(`mosquitto exited:\n${proc.output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`mosquitto did not listen on ${port} within ${START_TIMEOUT_MS} ms:\n${proc.output()}`);
}

export async function startMosquittoServer(opts: { pki: TestPki; dir: string; clients: number; cpu: number | undefined; logPath: string }): Promise<MosquittoServer> {
  const bin = findMosquitto();
  const { pki, dir } = opts;
  const ca = await pki.makeCa({ keyType: 'ec', cn: 'certgate bench mosquitto CA' });
  const serverCsr = await pki.makeCsr({ keyType: 'ec', curve: 'P-256' }, 'localhost');
  const serverCertPath = join(dir, 'mosquitto-server.pem');
  const extPath = join(dir, 'mosquitto-server-ext.cnf');
  await writeFile(extPath, SERVER_EXT);
  await runOpenssl(['x509', '-req', '-in', serverCsr.csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-days', '30', '-sha256', '-extfile', extPath, '-out', serverCertPath], dir);
  const devices: DeviceFiles[] = [];
  for (let i = 0; i < opts.clients; i++) {
    const c = await pki.makeDeviceCert(ca, { keyType: 'ec', cn: `bench-mosquitto-device-${i}`, days: 30 });
    devices.push({ certPath: c.certPath, keyPath: c.keyPath });
  }
  const port = await freePort();
  const confPath = join(dir, 'mosquitto.conf');
  await writeFile(
    confPath,
    [
      'per_listener_settings false',
      // Run as root, mosquitto would switch to the "mosquitto" user and then fail to read the work dir (0700).
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      `listener ${port} 127.0.0.1`,
      `cafile ${ca.certPath}`,
      `certfile ${serverCertPath}`,
      `keyfile ${serverCsr.keyPath}`,
      'require_certificate true',
      'use_identity_as_username true',
      '',
    ].join('\n'),
  );
  const proc = spawnManaged(bin, ['-c', confPath], { cpu: opts.cpu, cwd: dir, logPath: opts.logPath });
  await waitForPort(port, proc);
  return { process: proc, port, caPath: ca.certPath, devices, version: mosquittoVersion(bin) };
}
