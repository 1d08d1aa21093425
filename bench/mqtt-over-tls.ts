// The generator's MQTT 3.1.1 client: a raw node:tls socket and mqtt-packet's codec, no client library, so
// that the generator costs as little CPU as possible. One TLS secure context per device, built once: a
// handshake then costs only the handshake. No SNI (the host is an IP literal), no session resumption (no
// `session` is ever passed), and the server chain is verified against the target's roots for both servers.
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import type { SecureContext, TLSSocket } from 'node:tls';
import mqtt from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import type { DeviceFiles, TargetSpec, TlsVersion } from './load-spec.js';

/** TLS 1.2: one ECDHE-ECDSA suite, so both servers use their EC certificate (certgate also holds an RSA one) and the same cipher. */
const TLS12_ECDSA_CIPHERS = 'ECDHE-ECDSA-AES128-GCM-SHA256';
/** TLS 1.3: offer only ECDSA signature algorithms, for the same reason. */
const ECDSA_SIGALGS = 'ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512';

export const KEEPALIVE_SECONDS = 1200;

export function deviceContexts(target: TargetSpec, tlsVersion: TlsVersion): SecureContext[] {
  const ca = readFileSync(target.caPath);
  return target.devices.map((d: DeviceFiles) =>
    createSecureContext({
      cert: readFileSync(d.certPath),
      key: readFileSync(d.keyPath),
      ca,
      minVersion: tlsVersion,
      maxVersion: tlsVersion,
      sigalgs: ECDSA_SIGALGS,
      ...(tlsVersion === 'TLSv1.2' ? { ciphers: TLS12_ECDSA_CIPHERS } : {}),
    }),
  );
}

/** A TLS connection that completed its handshake (server chain verified), or a rejection within timeoutMs. */
export function openTls(target: TargetSpec, secureContext: SecureContext, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: target.host, port: target.port, secureContext, rejectUnauthorized: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS handshake with ${target.name} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.on('error', () => undefined);
      socket.setNoDelay(true);
      resolve(socket);
    });
    const onError = (e: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    socket.once('error', onError);
  });
}

export function connectPacket(clientId: string): Buffer {
  return mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: KEEPALIVE_SECONDS });
}

export const DISCONNECT_PACKET: Buffer = mqtt.generate({ cmd: 'disconnect' });

/** An MQTT 3.1.1 session on one TLS socket: every parsed packet goes to onPacket. */
export class MqttWire {
  readonly socket: TLSSocket;
  readonly #parser = mqtt.parser({ protocolVersion: 4 });
  onPacket: (p: Packet) => void = () => undefined;
  /** Called after each chunk of bytes is parsed (the place to top up a send window once per chunk). */
  onChunk: () => void = () => undefined;
  closed = false;

  constructor(socket: TLSSocket) {
    this.socket = socket;
    this.#parser.on('packet', (p: Packet) => this.onPacket(p));
    this.#parser.on('error', () => socket.destroy());
    socket.on('data', (b: Buffer) => {
      this.#parser.parse(b);
      this.onChunk();
    });
    socket.once('close', () => (this.closed = true));
  }

  send(packet: Packet): void {
    this.socket.write(mqtt.generate(packet));
  }

  /** Resolves with the first packet of this command (bounded). */
  expect<C extends Packet['cmd']>(cmd: C, timeoutMs: number): Promise<Extract<Packet, { cmd: C }>> {
    return new Promise((resolve, reject) => {
      const previous = this.onPacket;
      const timer = setTimeout(() => {
        this.onPacket = previous;
        reject(new Error(`no ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onClose = (): void => {
        clearTimeout(timer);
        this.onPacket = previous;
        reject(new Error(`connection closed while waiting for ${cmd}`));
      };
      this.socket.once('close', onClose);
      this.onPacket = (p) => {
        if (p.cmd !== cmd) return previous(p);
        clearTimeout(timer);
        this.socket.off('close', onClose);
        this.onPacket = previous;
        resolve(p as Extract<Packet, { cmd: C }>);
      };
    });
  }

  end(): void {
    if (this.closed) return;
    this.socket.end(DISCONNECT_PACKET);
  }
}

/** TLS handshake, CONNECT, CONNACK 0 — or a rejection (bounded by timeoutMs for each step). */
export async function connectMqtt(target: TargetSpec, secureContext: SecureContext, clientId: string, timeoutMs: number): Promise<MqttWire> {
  const wire = new MqttWire(await openTls(target, secureContext, timeoutMs));
  const connack = wire.expect('connack', timeoutMs);
  wire.socket.write(connectPacket(clientId));
  try {
    const p = await connack;
    if ((p.returnCode ?? p.reasonCode ?? 0) !== 0) throw new Error(`${target.name} refused CONNECT of ${clientId}: return code ${p.returnCode ?? p.reasonCode}`);
  } catch (e) {
    wire.socket.destroy();
    throw e;
  }
  return wire;
}

/** Subscribes and waits for a granted SUBACK. */
export async function subscribe(wire: MqttWire, topic: string, qos: 0 | 1, timeoutMs: number): Promise<void> {
  const suback = wire.expect('suback', timeoutMs);
  wire.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] });
  const p = await suback;
  const granted = p.granted[0];
  if (granted !== qos) throw new Error(`SUBACK for ${topic} granted ${String(granted)}, wanted ${qos}`);
}

/** A hard cap for everything: n tasks, at most `concurrency` at a time. */
export async function inParallel<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}
