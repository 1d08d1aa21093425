import { connect } from 'node:net';
import type { Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';

/**
 * Test support: a byte-level MQTT peer (mqtt-packet codec over a plain socket) for what a real client
 * library refuses to send — QoS 2 against Maximum QoS 1, garbage, packets before CONNECT.
 */
export interface RawClient {
  readonly socket: Socket;
  send(packet: Packet): void;
  sendBytes(bytes: Buffer): void;
  next(timeoutMs?: number): Promise<Packet>;
  readonly received: Packet[];
  /** Resolves when the server closed the connection (bounded). */
  closed(timeoutMs?: number): Promise<void>;
}

export async function rawClient(url: string, protocolVersion: 4 | 5): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const parser = mqttPacket.parser({ protocolVersion });
  const received: Packet[] = [];
  const waiting: ((p: Packet) => void)[] = [];
  let read = 0;
  parser.on('packet', (p: Packet) => {
    received.push(p);
    const w = waiting.shift();
    if (w !== undefined) {
      read++;
      w(p);
    }
  });
  socket.on('data', (b: Buffer) => parser.parse(b));
  let isClosed = false;
  const closeWaiters: (() => void)[] = [];
  socket.on('close', () => {
    isClosed = true;
    for (const w of closeWaiters) w();
  });
  return {
    socket,
    received,
    send: (packet) => void socket.write(mqttPacket.generate(packet, { protocolVersion })),
    sendBytes: (bytes) => void socket.write(bytes),
    next(timeoutMs = 3000) {
      if (read < received.length) return Promise.resolve(received[read++]!);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no packet in time')), timeoutMs);
        waiting.push((p) => {
          clearTimeout(t);
          resolve(p);
        });
      });
    },
    closed(timeoutMs = 3000) {
      if (isClosed) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('not closed in time')), timeoutMs);
        closeWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
