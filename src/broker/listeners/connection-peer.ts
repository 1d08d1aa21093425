import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { ConnectionPeer } from '../../access/index.js';

/** Bound on the issuer walk (Node links issuerCertificate objects; a self-issued one points at itself). */
const MAX_CHAIN_LENGTH = 10;

function toBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Builds the ConnectionPeer of a handshaken socket, reading the peer certificates exactly once
 * (perf-anchors: re-reading costs). One `getPeerCertificate(true)` gives the leaf DER (`raw`) and the
 * chain the client sent through the `issuerCertificate` links. Node 20 quirk (reproduced in
 * test/data-plane/tls-listener.test.ts): after `getPeerX509Certificate()` or a first
 * `getPeerCertificate(true)`, a later `getPeerCertificate(true)` comes back without `issuerCertificate`,
 * so the chain cannot be read lazily — JITR needs it.
 */
export function connectionPeerOf(socket: TLSSocket, listener: string): ConnectionPeer {
  const leaf = socket.getPeerCertificate(true) as Partial<DetailedPeerCertificate> | undefined;
  const hasLeaf = leaf !== undefined && Buffer.isBuffer(leaf.raw) && leaf.raw.length > 0;
  const chainDer: Uint8Array[] = [];
  if (hasLeaf) {
    const seen = new Set<unknown>([leaf]);
    let current: Partial<DetailedPeerCertificate> = leaf;
    for (let i = 0; i < MAX_CHAIN_LENGTH; i++) {
      const issuer = current.issuerCertificate as Partial<DetailedPeerCertificate> | undefined;
      if (!issuer || !Buffer.isBuffer(issuer.raw) || seen.has(issuer) || issuer.raw.equals(current.raw!)) break;
      seen.add(issuer);
      chainDer.push(toBytes(issuer.raw));
      current = issuer;
    }
  }
  const servername = (socket as TLSSocket & { servername?: string | false | null }).servername;
  return {
    certificateDer: hasLeaf ? toBytes(leaf.raw!) : undefined,
    chainDer,
    serverName: typeof servername === 'string' && servername !== '' ? servername : undefined,
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    listener,
  };
}
