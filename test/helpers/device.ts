// Devices for data-plane tests against a real certgate process: a registered certificate (made by certgate
// with CreateKeysAndCertificate, or brought along and registered with RegisterCertificate), a policy attached to
// it, and mqtt.js clients over mutual TLS that verify the server against certgate's two root CAs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  DescribeEndpointCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
} from '@aws-sdk/client-iot';
import { connect as mqttConnect } from 'mqtt';
import type { IClientOptions, IConnackPacket, MqttClient } from 'mqtt';
import type { RunningCertgate } from './certgate-process.js';
import { iotClient } from './iot-clients.js';
import type { ApiAccount } from './iot-clients.js';

/** Bounded waits: a refused or broken connection must never hang a test. */
export const DEVICE_WAIT_MS = 8_000;

export interface DeviceConnectOptions {
  clientId?: string;
  protocolVersion?: 4 | 5;
  /** MQTT 3.1.1 clean session / MQTT 5 clean start (default true). */
  clean?: boolean;
  /** SNI: the account endpoint by default; null sends none (connects to 127.0.0.1 without a server name). */
  servername?: string | null;
  /** Connect to the ALPN port with x-amzn-mqtt-ca. */
  alpn?: boolean;
  /** Connect to this port instead (e.g. the ALPN port without offering ALPN). */
  port?: number;
  /** Override the client certificate (e.g. another device's), or send none (null). */
  cert?: { certPem: string; keyPem: string } | null;
  will?: IClientOptions['will'];
  properties?: IClientOptions['properties'];
  keepalive?: number;
}

export type ConnectOutcome =
  | { readonly outcome: 'connected'; readonly client: MqttClient; readonly connack: IConnackPacket }
  | {
      readonly outcome: 'refused';
      /** The CONNACK reason/return code when one arrived (MQTT 5: 0x87 Not authorized). */
      readonly reasonCode: number | undefined;
      readonly error: Error | undefined;
    };

export interface Device {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** certgate's root CAs (DATA/root-ca-rsa.pem + DATA/root-ca-ecc.pem), what the device embeds. */
  readonly caPem: string;
  /** The account's iot:Data-ATS endpoint (SNI). */
  readonly endpoint: string;
  readonly policyName: string | undefined;
  /** A connected client (rejects when the connection is refused). Caller ends it. */
  connect(opts?: DeviceConnectOptions): Promise<MqttClient>;
  /** Connect and report the outcome: connected, or refused (with the CONNACK code if any). Never hangs. */
  tryConnect(opts?: DeviceConnectOptions): Promise<ConnectOutcome>;
}

export interface DeviceOptions {
  /** Another account than the server's default one. */
  account?: ApiAccount;
  /** A policy document to create and attach (omit: no policy). */
  policyDocument?: object | string;
  /** Bring your own certificate: registered with RegisterCertificate (with its CA) or RegisterCertificateWithoutCA. */
  certificate?: { certPem: string; keyPem: string; caCertificatePem?: string; withoutCa?: boolean; status?: 'ACTIVE' | 'INACTIVE' };
}

export async function certgateRootCas(server: Pick<RunningCertgate, 'dataDir'>): Promise<string> {
  const rsa = await readFile(join(server.dataDir, 'root-ca-rsa.pem'), 'utf8');
  const ecc = await readFile(join(server.dataDir, 'root-ca-ecc.pem'), 'utf8');
  return rsa.trimEnd() + '\n' + ecc.trimEnd() + '\n';
}

export async function dataEndpointOf(account: ApiAccount): Promise<string> {
  const out = await iotClient(account).send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
  assert.ok(out.endpointAddress, 'DescribeEndpoint returned no address');
  return out.endpointAddress;
}

function mqttPortOf(server: RunningCertgate, alpn: boolean): number {
  const port = alpn ? server.alpnPort : server.mqttPort;
  assert.ok(port !== undefined, `the server's ready line has no ${alpn ? 'alpnPort' : 'mqttPort'}`);
  return port;
}

/** mqtt.js options for a device: no reconnects, verification of the server chain against certgate's roots. */
export function deviceClientOptions(
  server: RunningCertgate,
  base: { certPem: string; keyPem: string; caPem: string; endpoint: string },
  opts: DeviceConnectOptions = {},
): IClientOptions {
  const alpn = opts.alpn === true;
  const cert = opts.cert === undefined ? { certPem: base.certPem, keyPem: base.keyPem } : opts.cert;
  const servername = opts.servername === undefined ? base.endpoint : opts.servername;
  return {
    protocol: 'mqtts',
    host: '127.0.0.1',
    port: opts.port ?? mqttPortOf(server, alpn),
    clientId: opts.clientId ?? `dev-${randomBytes(5).toString('hex')}`,
    protocolVersion: opts.protocolVersion ?? 4,
    clean: opts.clean ?? true,
    reconnectPeriod: 0,
    connectTimeout: DEVICE_WAIT_MS,
    keepalive: opts.keepalive ?? 60,
    ca: base.caPem,
    rejectUnauthorized: true,
    ...(servername !== null ? { servername } : {}),
    ...(cert !== null ? { cert: cert.certPem, key: cert.keyPem } : {}),
    ...(alpn ? { ALPNProtocols: ['x-amzn-mqtt-ca'] } : {}),
    ...(opts.will !== undefined ? { will: opts.will } : {}),
    ...(opts.properties !== undefined ? { properties: opts.properties } : {}),
  } as IClientOptions;
}

/** Connect and wait for CONNACK, a refusal, or a close — whichever comes first (bounded). */
export function tryConnectWith(options: IClientOptions): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const client = mqttConnect(options);
    let done = false;
    let lastError: Error | undefined;
    let reasonCode: number | undefined;
    const finish = (o: ConnectOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (o.outcome === 'refused') client.end(true);
      resolve(o);
    };
    const timer = setTimeout(() => finish({ outcome: 'refused', reasonCode, error: lastError ?? new Error(`no CONNACK within ${DEVICE_WAIT_MS} ms`) }), DEVICE_WAIT_MS + 1_000);
    client.once('connect', (connack) => finish({ outcome: 'connected', client, connack }));
    client.on('error', (e) => {
      lastError = e;
      const code = (e as Error & { code?: unknown }).code;
      if (typeof code === 'number') reasonCode = code;
    });
    client.on('packetreceive', (p) => {
      if (p.cmd === 'connack') reasonCode = p.reasonCode ?? p.returnCode;
    });
    // mqtt.js emits 'close' after a refused CONNACK or a server close; give a pending 'error' a tick to land.
    client.on('close', () => setImmediate(() => finish({ outcome: 'refused', reasonCode, error: lastError })));
  });
}

/** Ends a client, bounded (a dead connection must not hang the test). */
export function endClient(client: MqttClient, force = false): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.end(true);
      resolve();
    }, 3_000);
    client.end(force, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * A device of `account` (default: the server's own account): a certificate (CreateKeysAndCertificate with
 * setAsActive, or the one given), and when `policyDocument` is given a new policy attached to it.
 */
export async function createDevice(server: RunningCertgate, opts: DeviceOptions = {}): Promise<Device> {
  const account: ApiAccount = opts.account ?? server;
  const iot = iotClient(account);
  let certificateId: string;
  let certificateArn: string;
  let certPem: string;
  let keyPem: string;
  if (opts.certificate === undefined) {
    const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    assert.ok(out.certificateId && out.certificateArn && out.certificatePem && out.keyPair?.PrivateKey);
    certificateId = out.certificateId;
    certificateArn = out.certificateArn;
    certPem = out.certificatePem;
    keyPem = out.keyPair.PrivateKey;
  } else {
    const c = opts.certificate;
    const status = c.status ?? 'ACTIVE';
    const out = c.withoutCa === true
      ? await iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: c.certPem, status }))
      : await iot.send(new RegisterCertificateCommand({ certificatePem: c.certPem, ...(c.caCertificatePem !== undefined ? { caCertificatePem: c.caCertificatePem } : {}), status }));
    assert.ok(out.certificateId && out.certificateArn);
    certificateId = out.certificateId;
    certificateArn = out.certificateArn;
    certPem = c.certPem;
    keyPem = c.keyPem;
  }
  let policyName: string | undefined;
  if (opts.policyDocument !== undefined) {
    policyName = `policy-${randomBytes(5).toString('hex')}`;
    const policyDocument = typeof opts.policyDocument === 'string' ? opts.policyDocument : JSON.stringify(opts.policyDocument);
    await iot.send(new CreatePolicyCommand({ policyName, policyDocument }));
    await iot.send(new AttachPolicyCommand({ policyName, target: certificateArn }));
  }
  const caPem = await certgateRootCas(server);
  const endpoint = await dataEndpointOf(account);
  const base = { certPem, keyPem, caPem, endpoint };
  const tryConnect = (o: DeviceConnectOptions = {}): Promise<ConnectOutcome> => tryConnectWith(deviceClientOptions(server, base, o));
  return {
    certificateId,
    certificateArn,
    certPem,
    keyPem,
    caPem,
    endpoint,
    policyName,
    tryConnect,
    connect: async (o = {}) => {
      const r = await tryConnect(o);
      if (r.outcome !== 'connected') {
        throw new Error(`device ${certificateId.slice(0, 12)}… was refused (reason code ${String(r.reasonCode)}): ${r.error?.message ?? 'closed'}`);
      }
      return r.client;
    },
  };
}

/** An allow-everything policy for the account's resources (iot:* on *). */
export const ALLOW_ALL_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }],
} as const;
