// A minimal HTTP CONNECT proxy (RFC 9110 §9.3.6) that tunnels every request to one local port.
// Why: clients that take only a host name (the AWS IoT Device SDK's CRT clients use it for DNS, SNI and
// certificate verification alike) must present the account endpoint `<prefix>-ats.iot.<region>.localhost`,
// which the test machine's resolver need not know. Through the proxy the client still sends that name as
// SNI and verifies the server certificate against it, while the TCP connection goes to 127.0.0.1:<port>.
// The proxy only moves bytes: TLS stays end to end between the client and certgate.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ConnectProxy {
  readonly port: number;
  /** The authorities (`host:port`) clients asked to reach, in order. */
  readonly requested: readonly string[];
  close(): Promise<void>;
}

export async function startConnectProxy(targetPort: number): Promise<ConnectProxy> {
  const requested: string[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server: Server = createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    track(client);
    requested.push(req.url ?? '');
    const upstream = netConnect(targetPort, '127.0.0.1');
    track(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requested,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
