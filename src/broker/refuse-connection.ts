import type { Duplex } from 'node:stream';
import mqtt from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import type { AccessLog, AdmissionResult, ConnectionPeer, ServiceMessage } from '../access/index.js';
import type { Clock, Logger } from '../kernel/index.js';
import { BROKER_LIMITS } from './limits.js';
import { REASON_CODES } from './reason-codes.js';

type Refusal = Extract<AdmissionResult, { admitted: false }>;

/**
 * A peer admission refused (data-plane.md "Authenticating the device" step 4): the reason is
 * recorded and logged; on the wire, MQTT 3.1.1 is closed without CONNACK and MQTT 5 gets CONNACK 0x87,
 * once its CONNECT arrives (or the stream is closed after a short wait). No session state is created.
 * A refusal with a follow-up (just-in-time registration) runs it when the CONNECT arrives — never on a bare
 * TLS handshake (aws-reference.md §2.1) — records its outcome, publishes its service messages (the registered
 * event) and then refuses as above: AWS closes the connection after registering.
 */
export function refuseConnection(
  stream: Duplex,
  peer: ConnectionPeer,
  refusal: Refusal,
  deps: { accessLog: AccessLog; logger: Logger; clock: Clock; publish?: ((message: ServiceMessage) => void) | undefined },
): void {
  /** A denied admission record, filed under `certificateId` (the device's, or its CA's for a JIT outcome). */
  const recordDenied = (certificateId: string | undefined, reasons: readonly string[], clientId?: string): void =>
    deps.accessLog.record({
      at: deps.clock.now(),
      kind: 'admission',
      outcome: 'denied',
      ...(refusal.accountId !== undefined ? { accountId: refusal.accountId } : {}),
      ...(refusal.region !== undefined ? { region: refusal.region } : {}),
      ...(certificateId !== undefined ? { certificateId } : {}),
      ...(clientId !== undefined ? { clientId } : {}),
      remoteAddress: peer.remoteAddress,
      reasons,
    });
  recordDenied(refusal.certificateId, [`${refusal.refusal}: ${refusal.reason}`]);
  deps.logger.warn(
    { refusal: refusal.refusal, reason: refusal.reason, certificateId: refusal.certificateId, remoteAddress: peer.remoteAddress, serverName: peer.serverName },
    'broker: connection refused at admission',
  );
  if (stream.destroyed) return;
  const parser = mqtt.parser({ protocolVersion: 4 });
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    stream.removeAllListeners('data');
    stream.destroy();
  };
  const timer = setTimeout(finish, BROKER_LIMITS.refusalConnectWaitMs);
  timer.unref();
  // A refused peer gets to send one CONNECT, no more: bytes beyond one maximal packet are not buffered.
  let received = 0;
  const answer = (protocolVersion: number | undefined): void => {
    if (stream.destroyed) return;
    if (protocolVersion !== 5) {
      stream.destroy();
      return;
    }
    stream.end(mqtt.generate({ cmd: 'connack', sessionPresent: false, reasonCode: REASON_CODES.NOT_AUTHORIZED }, { protocolVersion: 5 }));
    const t = setTimeout(() => stream.destroy(), 2000);
    t.unref();
    stream.once('close', () => clearTimeout(t));
  };
  parser.on('packet', (packet: Packet) => {
    if (done) return;
    if (packet.cmd !== 'connect') {
      finish();
      return;
    }
    done = true;
    clearTimeout(timer);
    stream.removeAllListeners('data');
    if (refusal.onConnect === undefined) {
      answer(packet.protocolVersion);
      return;
    }
    const clientId = packet.clientId;
    // The follow-up (registry transaction) is not waited on forever: the peer is closed after the CONNECT wait;
    // the follow-up still completes and is recorded.
    const followUpTimer = setTimeout(() => stream.destroy(), BROKER_LIMITS.connectWaitMs);
    followUpTimer.unref();
    stream.once('close', () => clearTimeout(followUpTimer));
    refusal.onConnect().then(
      (outcome) => {
        const filedUnder = [refusal.certificateId, outcome.caCertificateId].filter((id, i, all): id is string => id !== undefined && all.indexOf(id) === i);
        for (const certificateId of filedUnder.length > 0 ? filedUnder : [undefined]) recordDenied(certificateId, outcome.reasons, clientId);
        deps.logger.info({ certificateId: refusal.certificateId, clientId, reasons: outcome.reasons }, 'broker: just-in-time registration at CONNECT');
        for (const message of outcome.messages) deps.publish?.(message);
        clearTimeout(followUpTimer);
        answer(packet.protocolVersion);
      },
      (err: unknown) => {
        deps.logger.error({ err, certificateId: refusal.certificateId }, 'broker: just-in-time registration failed');
        clearTimeout(followUpTimer);
        answer(packet.protocolVersion);
      },
    );
  });
  parser.on('error', finish);
  stream.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > BROKER_LIMITS.maxPacketBytes) {
      finish();
      return;
    }
    try {
      parser.parse(chunk);
    } catch {
      finish();
    }
  });
  stream.on('end', finish);
}
