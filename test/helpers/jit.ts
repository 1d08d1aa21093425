// Just-in-time registration/provisioning test support: a CA registered with proof of possession and
// auto-registration, device certificates it signs, an operator process (mqtt.js over mutual TLS) that
// listens on $aws/events/certificates/registered/<caId>, raw TLS handshakes, and `certgate why`.
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { GetRegistrationCodeCommand, ListCertificatesByCACommand, RegisterCACertificateCommand } from '@aws-sdk/client-iot';
import type { IoTClient, RegistrationConfig } from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { runCertgateCli } from './certgate-process.js';
import type { RunningCertgate } from './certgate-process.js';
import { createDevice, deviceClientOptions, tryConnectWith } from './device.js';
import type { ConnectOutcome, Device, DeviceConnectOptions } from './device.js';
import type { ApiAccount } from './iot-clients.js';
import type { KeyAndCert, TestCa, TestPki } from './openssl.js';

export const JIT_WAIT_MS = 10_000;

export interface RegisteredCa {
  readonly ca: TestCa;
  readonly caCertificateId: string;
}

/** RegisterCACertificate with a verification certificate; ACTIVE unless told otherwise. */
export async function registerCa(
  iot: IoTClient,
  pki: TestPki,
  opts: { allowAutoRegistration?: boolean; setAsActive?: boolean; registrationConfig?: RegistrationConfig; ca?: TestCa } = {},
): Promise<RegisteredCa> {
  const code = (await iot.send(new GetRegistrationCodeCommand({}))).registrationCode;
  assert.ok(code);
  const ca = opts.ca ?? (await pki.makeCa());
  const verification = await pki.makeVerificationCert(ca, code);
  const out = await iot.send(
    new RegisterCACertificateCommand({
      caCertificate: ca.certPem,
      verificationCertificate: verification.certPem,
      setAsActive: opts.setAsActive ?? true,
      allowAutoRegistration: opts.allowAutoRegistration ?? true,
      ...(opts.registrationConfig !== undefined ? { registrationConfig: opts.registrationConfig } : {}),
    }),
  );
  assert.ok(out.certificateId);
  return { ca, caCertificateId: out.certificateId };
}

/** Certificate ids registered under a CA (ListCertificatesByCA, every page). */
export async function certificatesByCa(iot: IoTClient, caCertificateId: string): Promise<{ certificateId: string; status: string }[]> {
  const out: { certificateId: string; status: string }[] = [];
  let marker: string | undefined;
  do {
    const page = await iot.send(new ListCertificatesByCACommand({ caCertificateId, ...(marker !== undefined ? { marker } : {}) }));
    for (const c of page.certificates ?? []) out.push({ certificateId: c.certificateId ?? '', status: c.status ?? '' });
    marker = page.nextMarker;
  } while (marker !== undefined);
  return out;
}

/** A device that is not registered: its certificate (optionally followed by the CA in the TLS chain) and key. */
export interface UnregisteredDevice {
  readonly cert: KeyAndCert;
  /** Connect with this certificate; `withChain` sends the CA certificate after the leaf. */
  tryConnect(opts?: DeviceConnectOptions & { withChain?: boolean }): Promise<ConnectOutcome>;
}

/** The connection settings (roots, endpoint) of `template`, with another certificate. */
export function unregisteredDevice(server: RunningCertgate, template: Device, cert: KeyAndCert, ca: TestCa | undefined): UnregisteredDevice {
  return {
    cert,
    tryConnect: (opts = {}) => {
      const certPem = opts.withChain === true && ca !== undefined ? `${cert.certPem.trimEnd()}\n${ca.certPem}` : cert.certPem;
      return tryConnectWith(deviceClientOptions(server, { certPem, keyPem: cert.keyPem, caPem: template.caPem, endpoint: template.endpoint }, { ...opts, cert: { certPem, keyPem: cert.keyPem } }));
    },
  };
}

/** The operator's policy: connect, and subscribe/receive on the registered events only. */
export const OPERATOR_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: '*' },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: 'arn:aws:iot:*:*:topicfilter/$aws/events/certificates/registered/*' },
    { Effect: 'Allow', Action: 'iot:Receive', Resource: 'arn:aws:iot:*:*:topic/$aws/events/certificates/registered/*' },
    { Effect: 'Allow', Action: ['iot:Subscribe'], Resource: 'arn:aws:iot:*:*:topicfilter/operator/*' },
    { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: 'arn:aws:iot:*:*:topic/operator/*' },
  ],
} as const;

export interface RegisteredEvent {
  readonly topic: string;
  readonly body: Record<string, unknown>;
}

/** An operator process: an mqtt.js client of its own ACTIVE certificate, subscribed to the registered events. */
export interface Operator {
  readonly device: Device;
  readonly client: MqttClient;
  readonly events: RegisteredEvent[];
  /** Resolves with the first event matching `pred` (bounded). */
  waitForEvent(pred: (e: RegisteredEvent) => boolean): Promise<RegisteredEvent>;
  /**
   * A QoS 1 round trip through the broker: every event published before this call has been delivered once it
   * resolves (one connection's messages arrive in order).
   */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export async function startOperator(server: RunningCertgate, account?: ApiAccount): Promise<Operator> {
  const device = await createDevice(server, { policyDocument: OPERATOR_POLICY, ...(account !== undefined ? { account } : {}) });
  const client = await device.connect({ protocolVersion: 5 });
  const events: RegisteredEvent[] = [];
  const waiters = new Set<() => void>();
  const markers = new Set<string>();
  const syncTopic = `operator/sync-${randomBytes(4).toString('hex')}`;
  client.on('message', (topic, payload) => {
    if (topic.startsWith('$aws/events/certificates/registered/')) events.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> });
    if (topic === syncTopic) markers.add(payload.toString());
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((resolve, reject) =>
    client.subscribe(['$aws/events/certificates/registered/+', syncTopic], { qos: 1 }, (err, granted) => {
      if (err) return reject(err);
      const codes = (granted ?? []).map((g) => g.qos);
      if (codes.some((c) => c > 1)) return reject(new Error(`subscription refused: ${JSON.stringify(granted)}`));
      resolve();
    }),
  );
  const waitFor = (check: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (check()) return resolve();
      const w = (): void => {
        if (!check()) return;
        waiters.delete(w);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`${what} not received within ${JIT_WAIT_MS} ms`));
      }, JIT_WAIT_MS);
      waiters.add(w);
    });
  return {
    device,
    client,
    events,
    async waitForEvent(pred) {
      await waitFor(() => events.some(pred), 'registered event');
      return events.find(pred)!;
    },
    async sync() {
      const marker = randomBytes(6).toString('hex');
      client.publish(syncTopic, marker, { qos: 1 });
      await waitFor(() => markers.has(marker), 'operator sync message');
    },
    close: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
  };
}

/**
 * A bare TLS handshake with `cert` (no MQTT at all), held until the server closes it (it waits a bounded
 * time for a CONNECT that never comes). Resolves true once the handshake had completed and the server closed.
 */
export function bareTlsHandshake(server: RunningCertgate, cert: KeyAndCert, rootsPem: string, servername: string): Promise<boolean> {
  return new Promise((resolve) => {
    let secured = false;
    const socket = tlsConnect({ host: '127.0.0.1', port: server.mqttPort!, cert: cert.certPem, key: cert.keyPem, ca: rootsPem, servername });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, JIT_WAIT_MS + 5_000);
    socket.on('secureConnect', () => {
      secured = true;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(secured);
    });
  });
}

export interface WhyRecord {
  kind: string;
  outcome: string;
  accountId?: string;
  clientId?: string;
  reasons: string[];
}

/** `certgate why <certificateId> --json` as `account`. */
export async function whyCertificate(server: RunningCertgate, certificateId: string, account: ApiAccount): Promise<WhyRecord[]> {
  const res = await runCertgateCli(['why', certificateId, '--data-dir', server.dataDir, '--endpoint-url', server.apiUrl, '--json'], {
    env: { AWS_ACCESS_KEY_ID: account.accessKeyId, AWS_SECRET_ACCESS_KEY: account.secretAccessKey },
  });
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout) as WhyRecord[];
}

/** AWS's certificateId of a PEM certificate: SHA-256 of its DER. */
export function certificateIdOfPem(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}
