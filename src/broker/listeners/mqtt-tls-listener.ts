import { constants as cryptoConstants } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { ConnectionPeer } from '../../access/index.js';
import type { Logger } from '../../kernel/index.js';
import { connectionPeerOf } from './connection-peer.js';
import { DEFAULT_TLS_SECURITY_POLICY, tlsPolicyOptions } from './tls-security-policies.js';
import type { TlsPolicyOptions } from './tls-security-policies.js';

/** One server certificate: leaf followed by its intermediate (never the root: the device embeds it). */
export interface ServerCredential {
  /** PEM of leaf + intermediate, in that order. */
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
}

/** AWS IoT Core's ALPN protocol for MQTT over 443 (AWS IoT developer guide, "Protocols, port mappings, and authentication"). */
export const AWS_MQTT_ALPN = 'x-amzn-mqtt-ca';

export interface MqttTlsListenerOptions {
  readonly host: string;
  /** 0 = random. */
  readonly port: number;
  /** Both the RSA and the ECC credential: OpenSSL picks the one matching what the client offers. */
  readonly credentials: readonly ServerCredential[];
  /** ALPN mode (port 443): offer only `x-amzn-mqtt-ca` and refuse clients that did not negotiate it. */
  readonly alpn?: boolean;
  /** ConnectionPeer.listener; default 'mqtt', or 'alpn-mqtt' in ALPN mode. */
  readonly name?: string;
  readonly logger: Logger;
  /** Clients that do not finish the TLS handshake within this time are dropped. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** Protocol versions, suites and renegotiation (tls-security-policies.ts); default: certgate's default policy. */
  readonly tlsPolicy?: TlsPolicyOptions;
  readonly onConnection: (socket: TLSSocket, peer: ConnectionPeer) => void;
}

export interface MqttTlsListener {
  readonly port: number;
  readonly host: string;
  /**
   * Stops accepting and destroys every connection still open (those mid-handshake included). Close the
   * broker first: it owns the established connections and says goodbye to them (DISCONNECT, wills).
   */
  close(): Promise<void>;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * MQTT over mutual TLS (8883, or 443 with ALPN). Trust trick (stack.md): `requestCert: true,
 * rejectUnauthorized: false` and no `ca`, so any client certificate completes the handshake and the
 * registry decides (data-plane.md "Authenticating the device" 1–2). No session tickets and no session
 * cache: AWS sends none, and building them costs 16% of a Node handshake (perf-anchors.md).
 */
export async function createMqttTlsListener(options: MqttTlsListenerOptions): Promise<MqttTlsListener> {
  const { logger } = options;
  const name = options.name ?? (options.alpn === true ? 'alpn-mqtt' : 'mqtt');
  const policy = options.tlsPolicy ?? tlsPolicyOptions(DEFAULT_TLS_SECURITY_POLICY);
  const server = createServer({
    cert: options.credentials.map((c) => c.certificateChainPem),
    key: options.credentials.map((c) => c.privateKeyPem),
    requestCert: true,
    rejectUnauthorized: false,
    ...policy,
    secureOptions: policy.secureOptions | cryptoConstants.SSL_OP_NO_TICKET,
    sessionTimeout: 0,
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    ...(options.alpn === true ? { ALPNProtocols: [AWS_MQTT_ALPN] } : {}),
  });

  // Every accepted TCP connection until it closes (a TLS socket's close closes it too), so that close()
  // need not wait handshakeTimeout for clients stuck in their handshake.
  const rawSockets = new Set<import('node:net').Socket>();
  server.on('connection', (raw: import('node:net').Socket) => {
    rawSockets.add(raw);
    raw.once('close', () => rawSockets.delete(raw));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    // A socket error after the handshake is the broker's to handle; this guard only keeps an
    // unhandled 'error' from crashing the process before the broker attaches its own listeners.
    socket.on('error', (e) => logger.debug({ err: e, listener: name }, 'TLS socket error'));
    if (options.alpn === true && socket.alpnProtocol !== AWS_MQTT_ALPN) {
      logger.debug({ listener: name, remoteAddress: socket.remoteAddress, alpn: socket.alpnProtocol }, `refused: client did not negotiate ALPN ${AWS_MQTT_ALPN}`);
      socket.destroy();
      return;
    }
    let peer: ConnectionPeer;
    try {
      peer = connectionPeerOf(socket, name);
    } catch (e) {
      logger.debug({ err: e, listener: name }, 'cannot read TLS peer');
      socket.destroy();
      return;
    }
    try {
      options.onConnection(socket, peer);
    } catch (e) {
      logger.error({ err: e, listener: name }, 'connection handler failed');
      socket.destroy();
    }
  });
  // Handshake failures and handshake timeouts (Node emits tlsClientError and destroys the socket).
  server.on('tlsClientError', (e, socket) => {
    logger.debug({ err: e, listener: name, remoteAddress: socket.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  });
  server.on('error', (e) => logger.error({ err: e, listener: name }, 'TLS listener error'));

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    host: options.host,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const raw of rawSockets) raw.destroy();
      })),
  };
}
