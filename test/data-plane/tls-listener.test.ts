// The device-facing TLS listener on its own (no broker): server chains picked per client, trust trick,
// ConnectionPeer contents, ALPN mode, no session tickets, bad handshakes never crash.
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ConnectionPeer } from '../../src/access/index.js';
import { createMqttTlsListener } from '../../src/broker/listeners/index.js';
import type { MqttTlsListener } from '../../src/broker/listeners/index.js';
import { silentLogger } from '../../src/kernel/index.js';
import { issueServerCertificates } from '../../src/main/server-certificates.js';
import type { ServiceCa, ServiceCas } from '../../src/main/service-cas.js';
import { createIntermediateCa, createRootCa, parseCertificatePem } from '../../src/pki/index.js';
import { TestPki } from '../helpers/openssl.js';
import type { KeyAndCert } from '../helpers/openssl.js';
import { sClient } from './openssl-s-client.js';

const ENDPOINT = 'abc123def456-ats.iot.us-east-1.localhost';
const WAIT_MS = 5_000;

async function serviceCa(member: { certificatePem: string; privateKeyPem: string }, keyName: string): Promise<ServiceCa> {
  return { keyName, certificateFile: `/nonexistent/${keyName}.pem`, ...member, certificate: parseCertificatePem(member.certificatePem) };
}

async function makeCas(): Promise<ServiceCas> {
  const now = new Date();
  const rootRsa = await createRootCa({ keyType: 'RSA', commonName: 'test Root RSA', organization: 'certgate', now, years: 2 });
  const rootEcc = await createRootCa({ keyType: 'EC', commonName: 'test Root ECC', organization: 'certgate', now, years: 2 });
  const intRsa = await createIntermediateCa(rootRsa, { keyType: 'RSA', commonName: 'test Int RSA', organization: 'certgate', now, years: 1 });
  const intEcc = await createIntermediateCa(rootEcc, { keyType: 'EC', commonName: 'test Int ECC', organization: 'certgate', now, years: 1 });
  return {
    rootRsa: await serviceCa(rootRsa, 'root-ca-rsa'),
    rootEcc: await serviceCa(rootEcc, 'root-ca-ecc'),
    intermediateRsa: await serviceCa(intRsa, 'intermediate-rsa'),
    intermediateEcc: await serviceCa(intEcc, 'intermediate-ecc'),
    deviceIssuer: await serviceCa(rootRsa, 'device-issuing-ca'),
  };
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
    }),
  ]);
}

describe('MQTT TLS listener (data-plane.md "Listeners", "The server\'s certificates")', () => {
  let cas: ServiceCas;
  let certs: Awaited<ReturnType<typeof issueServerCertificates>>;
  let listener: MqttTlsListener;
  let alpnListener: MqttTlsListener;
  let pki: TestPki;
  let device: KeyAndCert;
  let deviceCa: KeyAndCert;
  const peers: ConnectionPeer[] = [];
  const waiters: ((p: ConnectionPeer) => void)[] = [];
  const onConnection = (socket: TLSSocket, peer: ConnectionPeer): void => {
    void peer.chainDer; // as admission does, while the connection is open (JITR reads the chain)
    peers.push(peer);
    waiters.shift()?.(peer);
    socket.end(); // a listener that just closes
  };
  const nextPeer = (): Promise<ConnectionPeer> => withTimeout(new Promise((resolve) => waiters.push(resolve)), 'a connection');

  before(async () => {
    cas = await makeCas();
    certs = await issueServerCertificates({ cas, regions: ['us-east-1', 'eu-west-1'], domain: 'localhost', host: '127.0.0.1', now: new Date() });
    const credentials = [certs.rsa, certs.ecc];
    listener = await createMqttTlsListener({ host: '127.0.0.1', port: 0, credentials, name: 'mqtt', logger: silentLogger, onConnection });
    alpnListener = await createMqttTlsListener({ host: '127.0.0.1', port: 0, credentials, alpn: true, name: 'alpn-mqtt', logger: silentLogger, onConnection });
    pki = await TestPki.create();
    deviceCa = await pki.makeCa({ keyType: 'ec' });
    device = await pki.makeDeviceCert(deviceCa, { keyType: 'ec' });
  });
  after(async () => {
    await listener?.close();
    await alpnListener?.close();
    await pki?.cleanup();
  });

  it('server certificates carry the endpoint wildcard per region, localhost, loopback IPs; leaf + intermediate only', () => {
    assert.deepEqual(certs.ecc.dnsNames, ['*.iot.us-east-1.localhost', '*.iot.eu-west-1.localhost', 'localhost']);
    assert.deepEqual(certs.ecc.ipAddresses, ['127.0.0.1', '::1']);
    for (const [cred, intermediate] of [[certs.rsa, cas.intermediateRsa], [certs.ecc, cas.intermediateEcc]] as const) {
      const leaf = parseCertificatePem(cred.certificateChainPem);
      assert.deepEqual(leaf.subjectAltNames.dns, ['*.iot.us-east-1.localhost', '*.iot.eu-west-1.localhost', 'localhost']);
      assert.equal(leaf.issuer, intermediate.certificate.subject);
      assert.equal(leaf.authorityKeyId, intermediate.certificate.subjectKeyId);
      assert.equal(cred.certificateChainPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
      assert.ok(new X509Certificate(leaf.pem).checkHost(ENDPOINT));
      assert.equal(new X509Certificate(leaf.pem).checkPrivateKey(createPrivateKey(cred.privateKeyPem)), true);
    }
  });

  it('TLS 1.2 client offering only ECDSA suites gets leaf + ECC intermediate (AKI = issuer SKI), root not sent', async () => {
    const r = await sClient({ port: listener.port, servername: ENDPOINT, cipher: 'aECDSA', tls: '1.2', certPath: device.certPath, keyPath: device.keyPath });
    assert.equal(r.chain.length, 2, r.stdout + r.stderr);
    const [leaf, intermediate] = r.chain as [typeof r.chain[0], typeof r.chain[0]];
    assert.equal(leaf.publicKey.algorithm, 'EC');
    assert.equal(intermediate.certificateId, cas.intermediateEcc.certificate.certificateId);
    assert.equal(leaf.authorityKeyId, intermediate.subjectKeyId);
    assert.ok(!r.chain.some((c) => c.certificateId === cas.rootEcc.certificate.certificateId || c.certificateId === cas.rootRsa.certificate.certificateId));
    const peer = peers.at(-1);
    assert.ok(peer);
  });

  it('TLS 1.2 RSA-only client gets leaf + RSA intermediate', async () => {
    const r = await sClient({ port: listener.port, servername: ENDPOINT, cipher: 'aRSA', tls: '1.2', certPath: device.certPath, keyPath: device.keyPath });
    assert.equal(r.chain.length, 2, r.stdout + r.stderr);
    assert.equal(r.chain[0]!.publicKey.algorithm, 'RSA');
    assert.equal(r.chain[1]!.certificateId, cas.intermediateRsa.certificate.certificateId);
    assert.equal(r.chain[0]!.authorityKeyId, r.chain[1]!.subjectKeyId);
  });

  it('TLS 1.3 picks the chain by signature algorithms: RSA-PSS only → RSA chain, ECDSA only → ECC chain', async () => {
    const rsa = await sClient({ port: listener.port, servername: ENDPOINT, tls: '1.3', sigalgs: 'rsa_pss_rsae_sha256', certPath: device.certPath, keyPath: device.keyPath });
    assert.equal(rsa.chain[1]?.certificateId, cas.intermediateRsa.certificate.certificateId, rsa.stdout + rsa.stderr);
    const ecc = await sClient({ port: listener.port, servername: ENDPOINT, tls: '1.3', sigalgs: 'ecdsa_secp256r1_sha256', certPath: device.certPath, keyPath: device.keyPath });
    assert.equal(ecc.chain[1]?.certificateId, cas.intermediateEcc.certificate.certificateId, ecc.stdout + ecc.stderr);
  });

  it('TLS 1.3 works and the server sends no session ticket (perf-anchors)', async () => {
    const r = await sClient({ port: listener.port, servername: ENDPOINT, tls: '1.3', certPath: device.certPath, keyPath: device.keyPath });
    assert.equal(r.protocol, 'TLSv1.3', r.stdout);
    assert.equal(r.chain.length, 2);
    assert.equal(r.sawSessionTicket, false, r.stdout);
    const r12 = await sClient({ port: listener.port, servername: ENDPOINT, tls: '1.2', certPath: device.certPath, keyPath: device.keyPath });
    assert.equal(r12.protocol, 'TLSv1.2', r12.stdout);
    assert.equal(r12.sawSessionTicket, false, r12.stdout);
  });

  it('ConnectionPeer: leaf DER, the chain the client sent (leaf excluded), SNI, remote address, listener name', async () => {
    const got = nextPeer();
    const socket = tlsConnect({
      host: '127.0.0.1', port: listener.port, servername: ENDPOINT, rejectUnauthorized: false,
      cert: device.certPem + deviceCa.certPem, key: device.keyPem,
    });
    socket.on('error', () => undefined);
    const peer = await got;
    socket.destroy();
    assert.ok(peer.certificateDer);
    assert.equal(parseCertificatePem(device.certPem).certificateId, new X509Certificate(peer.certificateDer).fingerprint256.replace(/:/g, '').toLowerCase());
    assert.equal(peer.serverName, ENDPOINT);
    assert.equal(peer.remoteAddress, '127.0.0.1');
    assert.ok(peer.remotePort > 0);
    assert.equal(peer.listener, 'mqtt');
    assert.equal(peer.chainDer.length, 1);
    assert.ok(new X509Certificate(peer.certificateDer).checkIssued(new X509Certificate(peer.chainDer[0]!)));
  });

  it('a client without a certificate completes the handshake with certificateDer undefined (admission refuses it later)', async () => {
    const got = nextPeer();
    const socket = tlsConnect({ host: '127.0.0.1', port: listener.port, rejectUnauthorized: false });
    socket.on('error', () => undefined);
    const peer = await got;
    socket.destroy();
    assert.equal(peer.certificateDer, undefined);
    assert.deepEqual(peer.chainDer, []);
    assert.equal(peer.serverName, undefined);
  });

  it('ALPN mode: x-amzn-mqtt-ca is negotiated; a client without it is refused', async () => {
    const ok = await sClient({ port: alpnListener.port, servername: ENDPOINT, alpn: 'x-amzn-mqtt-ca', certPath: device.certPath, keyPath: device.keyPath });
    assert.equal(ok.alpn, 'ALPN protocol: x-amzn-mqtt-ca', ok.stdout);
    const count = peers.length;
    const socket = tlsConnect({ host: '127.0.0.1', port: alpnListener.port, servername: ENDPOINT, rejectUnauthorized: false, cert: device.certPem, key: device.keyPem });
    const closed = await withTimeout(new Promise<string>((resolve) => {
      socket.on('error', (e) => resolve(`error ${e.message}`));
      socket.on('close', () => resolve('close'));
    }), 'the refused ALPN-less connection to close');
    assert.ok(closed);
    assert.equal(peers.length, count, 'no connection handed over without ALPN');
  });

  it('garbage instead of a ClientHello and a client that never finishes are closed; the listener keeps serving', async () => {
    const garbage = netConnect({ host: '127.0.0.1', port: listener.port });
    garbage.on('error', () => undefined);
    garbage.write(Buffer.from('\x10\x20MQTT not TLS at all\r\n\r\n'));
    await withTimeout(new Promise<void>((resolve) => garbage.on('close', () => resolve())), 'the garbage connection to close');
    const r = await sClient({ port: listener.port, servername: ENDPOINT, certPath: device.certPath, keyPath: device.keyPath });
    assert.equal(r.chain.length, 2);
  });

  it('close() ends connections stuck in their handshake instead of waiting for handshakeTimeout', async () => {
    const l = await createMqttTlsListener({
      host: '127.0.0.1', port: 0, credentials: [certs.rsa, certs.ecc], name: 'mqtt', logger: silentLogger,
      handshakeTimeoutMs: 600_000, onConnection: (socket) => socket.destroy(),
    });
    const stuck = netConnect({ host: '127.0.0.1', port: l.port });
    stuck.on('error', () => undefined);
    await withTimeout(new Promise<void>((resolve) => stuck.once('connect', () => resolve())), 'the TCP connect');
    const stuckClosed = new Promise<void>((resolve) => stuck.once('close', () => resolve()));
    await withTimeout(l.close(), 'close() with a client mid-handshake');
    await withTimeout(stuckClosed, 'the stuck client to be closed');
  });
});
