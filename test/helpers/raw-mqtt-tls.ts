// A raw MQTT connection over mutual TLS (node:tls + mqtt-packet), for what a well-behaved client library never
// sends: garbage after CONNECT, invalid remaining lengths, reserved header flags. It records every packet the
// server sends back and whether, and how, the server closed the connection. Every wait is bounded.
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';

export const RAW_WAIT_MS = 5_000;

export interface RawTlsTarget {
  readonly port: number;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** SNI (the account endpoint). */
  readonly servername: string;
}

export class RawMqttConnection {
  readonly socket: TLSSocket;
  readonly received: Packet[] = [];
  /** Set when the server's bytes could not be parsed (should never happen). */
  parseError: Error | undefined;
  #closed = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: TLSSocket, protocolVersion: 4 | 5) {
    this.socket = socket;
    const parser = mqttPacket.parser({ protocolVersion });
    parser.on('packet', (p: Packet) => {
      this.received.push(p);
      this.#wake();
    });
    parser.on('error', (e: Error) => {
      this.parseError = e;
    });
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => undefined); // a reset after the server closes is expected
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  /** TLS with the device's certificate, verifying the server against `caPem` and the SNI name. */
  static open(target: RawTlsTarget, protocolVersion: 4 | 5): Promise<RawMqttConnection> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: target.port,
        servername: target.servername,
        ca: target.caPem,
        cert: target.certPem,
        key: target.keyPem,
        rejectUnauthorized: true,
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TLS handshake not done within ${RAW_WAIT_MS} ms`));
      }, RAW_WAIT_MS);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(new RawMqttConnection(socket, protocolVersion));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** Opens, sends CONNECT and waits for the CONNACK (rejects if none arrives). */
  static async connected(target: RawTlsTarget, protocolVersion: 4 | 5, clientId: string): Promise<RawMqttConnection> {
    const c = await RawMqttConnection.open(target, protocolVersion);
    c.send(mqttPacket.generate({ cmd: 'connect', protocolVersion, clientId, clean: true, keepalive: 60 }));
    const connack = await c.waitFor((p) => p.cmd === 'connack');
    if (connack === undefined) {
      c.destroy();
      throw new Error(`no CONNACK (closed: ${String(c.closed)})`);
    }
    return c;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(bytes: Buffer | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The first received packet matching `pred` (already received or arriving within `ms`), else undefined. */
  async waitFor(pred: (p: Packet) => boolean, ms = RAW_WAIT_MS): Promise<Packet | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit !== undefined || this.#closed || Date.now() >= deadline) return hit;
      await this.#next(deadline - Date.now());
    }
  }

  /** True when the server closed the connection within `ms`. */
  async waitClosed(ms = RAW_WAIT_MS): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.#closed && Date.now() < deadline) await this.#next(deadline - Date.now());
    return this.#closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(ms, 0));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.push(done);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
