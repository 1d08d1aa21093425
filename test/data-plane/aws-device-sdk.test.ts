// The AWS IoT Device SDK v2 for JavaScript (aws-iot-device-sdk-v2, CRT native clients) as a device against the
// REAL server: its MQTT 5 client (Mqtt5Client from AwsIotMqtt5ClientConfigBuilder) and its MQTT 3.1.1 client
// (MqttClientConnection from AwsIotMqttConnectionConfigBuilder), mutual TLS with the device certificate,
// certgate's two roots as the trust store, the account's iot:Data-ATS endpoint as host name (SNI and
// certificate name check) on certgate's port, and the SDK-metrics MQTT username the SDK sends by default.
// The endpoint `<prefix>-ats.iot.<region>.localhost` need not resolve on the test machine: the SDK reaches it
// through a local HTTP CONNECT tunnel (test/helpers/connect-proxy.ts); TLS stays end to end. The server runs
// with --require-sni, so a connection without the endpoint as SNI would be refused.
import assert from 'node:assert/strict';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { http, iot, mqtt, mqtt5 } from 'aws-iot-device-sdk-v2';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import type { ConnectProxy } from '../helpers/connect-proxy.js';
import { ALLOW_ALL_POLICY, createDevice } from '../helpers/device.js';
import type { Device } from '../helpers/device.js';
import { iotClient } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';
import { whyRecords } from '../helpers/why-records.js';

const WAIT_MS = 8_000;
/** MQTT 5 CONNACK "Not authorized". */
const NOT_AUTHORIZED = 0x87;

function withTimeout<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]);
}

function tunnel(proxy: ConnectProxy): http.HttpProxyOptions {
  return new http.HttpProxyOptions('127.0.0.1', proxy.port, http.HttpProxyAuthenticationType.None, undefined, undefined, undefined, http.HttpProxyConnectionType.Tunneling);
}

// ── MQTT 5 client ──────────────────────────────────────────────────────────────────────────────────────

type Mqtt5Outcome =
  | { readonly outcome: 'connected'; readonly client: mqtt5.Mqtt5Client; readonly connack: mqtt5.ConnackPacket }
  | { readonly outcome: 'failed'; readonly error: Error; readonly reasonCode: number | undefined };

function mqtt5Config(server: RunningCertgate, proxy: ConnectProxy, cert: { certPem: string; keyPem: string }, caPem: string, endpoint: string, clientId: string): mqtt5.Mqtt5ClientConfig {
  return iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromMemory(endpoint, cert.certPem, cert.keyPem)
    .withPort(server.mqttPort!)
    .withCertificateAuthority(caPem)
    .withHttpProxyOptions(tunnel(proxy))
    .withConnectProperties({ clientId, keepAliveIntervalSeconds: 60 })
    .withConnackTimeoutMs(WAIT_MS)
    .build();
}

/** Starts an Mqtt5Client and waits for its first connection success or failure; a failed client is stopped and closed. */
async function startMqtt5(config: mqtt5.Mqtt5ClientConfig): Promise<Mqtt5Outcome> {
  const client = new mqtt5.Mqtt5Client(config);
  const first = new Promise<Mqtt5Outcome>((resolve) => {
    client.once('connectionSuccess', (e: mqtt5.ConnectionSuccessEvent) => resolve({ outcome: 'connected', client, connack: e.connack }));
    client.once('connectionFailure', (e: mqtt5.ConnectionFailureEvent) =>
      resolve({ outcome: 'failed', error: e.error as unknown as Error, reasonCode: e.connack?.reasonCode }),
    );
  });
  client.start();
  let result: Mqtt5Outcome;
  try {
    result = await withTimeout(first, 'MQTT 5 connection outcome');
  } catch (e) {
    await stopMqtt5(client);
    throw e;
  }
  if (result.outcome === 'failed') await stopMqtt5(client); // no reconnect attempts left running
  return result;
}

/** Stops (DISCONNECT) and releases a client; bounded. */
async function stopMqtt5(client: mqtt5.Mqtt5Client): Promise<void> {
  const stopped = new Promise<void>((resolve) => client.once('stopped', () => resolve()));
  client.stop();
  await withTimeout(stopped, 'MQTT 5 client stopped').catch(() => undefined);
  client.close();
}

// ── MQTT 3.1.1 client ──────────────────────────────────────────────────────────────────────────────────

function mqtt3Connection(client: mqtt.MqttClient, server: RunningCertgate, proxy: ConnectProxy, cert: { certPem: string; keyPem: string }, caPem: string, endpoint: string, clientId: string): mqtt.MqttClientConnection {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(cert.certPem, cert.keyPem)
    .with_certificate_authority(caPem)
    .with_endpoint(endpoint)
    .with_port(server.mqttPort!)
    .with_client_id(clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(60)
    .with_http_proxy_options(tunnel(proxy))
    .with_reconnect_min_sec(60)
    .with_reconnect_max_sec(60)
    .build();
  return client.new_connection(config);
}

/** DISCONNECT and release the native connection (disconnect() also frees it); bounded. */
async function releaseMqtt3(connection: mqtt.MqttClientConnection): Promise<void> {
  await withTimeout(connection.disconnect(), 'MQTT 3.1.1 disconnect').catch(() => undefined);
}

describe('AWS IoT Device SDK v2 (CRT MQTT 5 and MQTT 3.1.1 clients) against the real server', () => {
  let server: RunningCertgate;
  let proxy: ConnectProxy;
  let pki: TestPki;
  let device: Device;
  let mqtt3Client: mqtt.MqttClient;

  before(async () => {
    server = await startCertgate({ args: ['--require-sni'] });
    assert.ok(server.mqttPort !== undefined, `no mqttPort in the ready line:\n${server.output()}`);
    proxy = await startConnectProxy(server.mqttPort);
    pki = await TestPki.create();
    device = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    mqtt3Client = new mqtt.MqttClient();
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
    await pki?.cleanup();
  });

  const cert = (): { certPem: string; keyPem: string } => ({ certPem: device.certPem, keyPem: device.keyPem });
  const newClientId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

  it('MQTT 5: connects (server chain verified against certgate\'s roots and the endpoint name, SNI sent, SDK-metrics username accepted)', async () => {
    const clientId = newClientId('sdk5');
    const config = mqtt5Config(server, proxy, cert(), device.caPem, device.endpoint, clientId);
    assert.notEqual(config.disableMetrics, true, 'the SDK sends its metrics string as the MQTT username (the default)');
    const r = await startMqtt5(config);
    if (r.outcome !== 'connected') assert.fail(`MQTT 5 connection failed: ${r.error.message} (reason ${String(r.reasonCode)})`);
    try {
      assert.equal(r.connack.reasonCode, mqtt5.ConnectReasonCode.Success);
      assert.equal(r.connack.maximumQos, mqtt5.QoS.AtLeastOnce, 'AWS IoT: QoS 0 and 1 only');
      assert.ok(proxy.requested.includes(`${device.endpoint}:${server.mqttPort}`), `the SDK asked for the endpoint: ${proxy.requested.join(', ')}`);
      const records = await whyRecords(server, clientId);
      assert.ok(records.some((x) => x.kind === 'connect' && x.outcome === 'allowed'), JSON.stringify(records));
    } finally {
      await stopMqtt5(r.client);
    }
  });

  it('MQTT 5: subscribe / publish QoS 1 round trip through the server', async () => {
    const topic = `sdk/${randomBytes(4).toString('hex')}/v5`;
    const r = await startMqtt5(mqtt5Config(server, proxy, cert(), device.caPem, device.endpoint, newClientId('sdk5-rt')));
    if (r.outcome !== 'connected') assert.fail(`MQTT 5 connection failed: ${r.error.message}`);
    const client = r.client;
    try {
      const suback = await withTimeout(client.subscribe({ subscriptions: [{ topicFilter: topic, qos: mqtt5.QoS.AtLeastOnce }] }), 'SUBACK');
      assert.deepEqual(suback.reasonCodes, [mqtt5.SubackReasonCode.GrantedQoS1]);
      const received = new Promise<{ topic: string; payload: string; qos: number }>((resolve) => {
        client.on('messageReceived', (e: mqtt5.MessageReceivedEvent) => {
          if (e.message.topicName !== topic) return;
          resolve({ topic: e.message.topicName, payload: Buffer.from(e.message.payload as ArrayBuffer).toString(), qos: e.message.qos });
        });
      });
      const puback = await withTimeout(client.publish({ topicName: topic, qos: mqtt5.QoS.AtLeastOnce, payload: 'hello from the MQTT 5 SDK' }), 'PUBACK');
      assert.equal((puback as { packet?: mqtt5.PubackPacket }).packet?.reasonCode ?? 0, mqtt5.PubackReasonCode.Success);
      const got = await withTimeout(received, 'message');
      assert.deepEqual(got, { topic, payload: 'hello from the MQTT 5 SDK', qos: mqtt5.QoS.AtLeastOnce });
    } finally {
      await stopMqtt5(client);
    }
  });

  it('MQTT 3.1.1: connects, and a subscribe / publish QoS 1 round trip works', async () => {
    const topic = `sdk/${randomBytes(4).toString('hex')}/v311`;
    const connection = mqtt3Connection(mqtt3Client, server, proxy, cert(), device.caPem, device.endpoint, newClientId('sdk3'));
    try {
      const sessionPresent = await withTimeout(connection.connect(), 'MQTT 3.1.1 CONNACK');
      assert.equal(sessionPresent, false);
      let onMessage: (payload: string) => void = () => undefined;
      const received = new Promise<string>((resolve) => (onMessage = resolve));
      // subscribe() resolves on SUBACK; publish only once the subscription is in place.
      const sub = await withTimeout(
        connection.subscribe(topic, mqtt.QoS.AtLeastOnce, (t, payload) => {
          if (t === topic) onMessage(Buffer.from(payload).toString());
        }),
        'SUBACK',
      );
      assert.equal(sub.qos, mqtt.QoS.AtLeastOnce);
      await withTimeout(connection.publish(topic, 'hello from the MQTT 3.1.1 SDK', mqtt.QoS.AtLeastOnce), 'PUBACK');
      assert.equal(await withTimeout(received, 'message'), 'hello from the MQTT 3.1.1 SDK');
    } finally {
      await releaseMqtt3(connection);
    }
  });

  it('MQTT 5 and MQTT 3.1.1 SDK clients interoperate (3.1.1 publishes, 5 receives)', async () => {
    const topic = `sdk/${randomBytes(4).toString('hex')}/cross`;
    const r = await startMqtt5(mqtt5Config(server, proxy, cert(), device.caPem, device.endpoint, newClientId('sdk5-x')));
    if (r.outcome !== 'connected') assert.fail(`MQTT 5 connection failed: ${r.error.message}`);
    const connection = mqtt3Connection(mqtt3Client, server, proxy, cert(), device.caPem, device.endpoint, newClientId('sdk3-x'));
    try {
      await withTimeout(r.client.subscribe({ subscriptions: [{ topicFilter: topic, qos: mqtt5.QoS.AtLeastOnce }] }), 'SUBACK');
      const received = new Promise<string>((resolve) => {
        r.client.on('messageReceived', (e: mqtt5.MessageReceivedEvent) => {
          if (e.message.topicName === topic) resolve(Buffer.from(e.message.payload as ArrayBuffer).toString());
        });
      });
      await withTimeout(connection.connect(), 'MQTT 3.1.1 CONNACK');
      await withTimeout(connection.publish(topic, 'v3 to v5', mqtt.QoS.AtLeastOnce), 'PUBACK');
      assert.equal(await withTimeout(received, 'message'), 'v3 to v5');
    } finally {
      await releaseMqtt3(connection);
      await stopMqtt5(r.client);
    }
  });

  it('refused certificates: the SDK reports a connection failure (MQTT 5: CONNACK 0x87 Not authorized; MQTT 3.1.1: connect() rejects)', async () => {
    const stranger = await pki.makeSelfSigned(); // registered nowhere
    const inactive = await createDevice(server, { policyDocument: ALLOW_ALL_POLICY });
    await iotClient(server).send(new UpdateCertificateCommand({ certificateId: inactive.certificateId, newStatus: 'INACTIVE' }));
    for (const refused of [
      { name: 'unregistered', certPem: stranger.certPem, keyPem: stranger.keyPem },
      { name: 'INACTIVE', certPem: inactive.certPem, keyPem: inactive.keyPem },
    ]) {
      const v5 = await startMqtt5(mqtt5Config(server, proxy, refused, device.caPem, device.endpoint, newClientId('sdk5-no')));
      if (v5.outcome === 'connected') {
        await stopMqtt5(v5.client);
        assert.fail(`${refused.name}: the MQTT 5 client connected`);
      }
      assert.equal(v5.reasonCode, NOT_AUTHORIZED, `${refused.name}: ${v5.error.message}`);

      const connection = mqtt3Connection(mqtt3Client, server, proxy, refused, device.caPem, device.endpoint, newClientId('sdk3-no'));
      try {
        // The CRT 3.1.1 client rejects with a message string: the server closed the socket without a CONNACK.
        await assert.rejects(withTimeout(connection.connect(), 'MQTT 3.1.1 connect'), (e: unknown) => {
          assert.match(String(e), /Failed to connect: .*SOCKET_CLOSED/, `${refused.name}: ${String(e)}`);
          return true;
        });
      } finally {
        await releaseMqtt3(connection);
      }
      // Both attempts reached certgate's admission and were refused there (not at the TLS or proxy layer).
      const certificateId = createHash('sha256').update(new X509Certificate(refused.certPem).raw).digest('hex');
      const records = await whyRecords(server, certificateId);
      const refusals = records.filter((x) => x.kind === 'admission' && x.outcome === 'denied');
      assert.equal(refusals.length, 2, `${refused.name}: ${JSON.stringify(records)}`);
      const rule = refused.name === 'INACTIVE' ? 'CERTIFICATE_NOT_ACTIVE' : 'UNKNOWN_CERTIFICATE';
      assert.ok(refusals.every((x) => x.reasons.some((reason) => reason.startsWith(rule))), JSON.stringify(refusals));
    }
  });
});
