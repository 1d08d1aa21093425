// certgate as a bench target: `node [flags] bin/certgate.js serve` on free ports with a data dir, read its
// CERTGATE_READY line, then make EC P-256 device certificates through the real API (CreateCertificateFromCsr,
// an allow-all policy attached to each) with the credentials certgate wrote to DATA/credentials.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AttachPolicyCommand, CreateCertificateFromCsrCommand, CreatePolicyCommand } from '@aws-sdk/client-iot';
import { CERTGATE_BIN, parseCredentialsFile, REPO_ROOT } from '../../test/helpers/certgate-process.js';
import { ALLOW_ALL_POLICY } from '../../test/helpers/device.js';
import { iotClient } from '../../test/helpers/iot-clients.js';
import type { TestPki } from '../../test/helpers/openssl.js';
import type { DeviceFiles } from '../load-spec.js';
import { spawnManaged } from '../pinned-process.js';
import type { ManagedProcess } from '../pinned-process.js';

const READY_PREFIX = 'CERTGATE_READY ';
const START_TIMEOUT_MS = 60_000;
export const BENCH_POLICY_NAME = 'bench-allow-all';

export interface CertgateServer {
  readonly process: ManagedProcess;
  readonly apiUrl: string;
  readonly region: string;
  readonly mqttPort: number;
  readonly dataDir: string;
}

export async function startCertgateServer(opts: { dataDir: string; cpu: number | undefined; logPath: string; nodeFlags?: readonly string[] }): Promise<CertgateServer> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CERTGATE_')) env[k] = v;
  const args = [...(opts.nodeFlags ?? []), CERTGATE_BIN, 'serve', '--data-dir', opts.dataDir, '--api-port', '0', '--mqtt-port', '0', '--print-ready-json', '--log-level', 'warn'];
  const proc = spawnManaged(process.execPath, args, { cpu: opts.cpu, cwd: REPO_ROOT, logPath: opts.logPath, env });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const line = proc.output().split('\n').find((l) => l.startsWith(READY_PREFIX));
    if (line !== undefined) {
      const ready = JSON.parse(line.slice(READY_PREFIX.length)) as { apiUrl: string; region: string; mqttPort?: number };
      if (typeof ready.mqttPort !== 'number') throw new Error('certgate ready line has no mqttPort');
      return { process: proc, apiUrl: ready.apiUrl, region: ready.region, mqttPort: ready.mqttPort, dataDir: opts.dataDir };
    }
    if (proc.exited()) throw new Error(`certgate exited before ready:\n${proc.output()}`);
    if (Date.now() > deadline) {
      await proc.stop(1000);
      throw new Error(`certgate not ready within ${START_TIMEOUT_MS} ms:\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** certgate's two roots in one file: what a device embeds to verify the server chain. */
export async function writeCertgateRoots(dataDir: string, outPath: string): Promise<string> {
  const rsa = await readFile(join(dataDir, 'root-ca-rsa.pem'), 'utf8');
  const ecc = await readFile(join(dataDir, 'root-ca-ecc.pem'), 'utf8');
  await writeFile(outPath, rsa.trimEnd() + '\n' + ecc.trimEnd() + '\n');
  return outPath;
}

/** `count` EC P-256 device certificates issued by certgate from CSRs, ACTIVE, with the allow-all policy attached. */
export async function provisionCertgateDevices(server: CertgateServer, pki: TestPki, count: number, outDir: string): Promise<DeviceFiles[]> {
  const credentials = parseCredentialsFile(await readFile(join(server.dataDir, 'credentials'), 'utf8'));
  const iot = iotClient({ apiUrl: server.apiUrl, region: server.region, ...credentials });
  await iot.send(new CreatePolicyCommand({ policyName: BENCH_POLICY_NAME, policyDocument: JSON.stringify(ALLOW_ALL_POLICY) }));
  const devices: DeviceFiles[] = [];
  for (let i = 0; i < count; i++) {
    const csr = await pki.makeCsr({ keyType: 'ec', curve: 'P-256' }, `bench-certgate-device-${i}`);
    const out = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.csrPem, setAsActive: true }));
    if (out.certificatePem === undefined || out.certificateArn === undefined) throw new Error('CreateCertificateFromCsr returned no certificate');
    await iot.send(new AttachPolicyCommand({ policyName: BENCH_POLICY_NAME, target: out.certificateArn }));
    const certPath = join(outDir, `certgate-device-${i}.pem`);
    await writeFile(certPath, out.certificatePem);
    devices.push({ certPath, keyPath: csr.keyPath });
  }
  iot.destroy();
  return devices;
}
