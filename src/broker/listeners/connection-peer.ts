import type { TLSSocket } from 'node:tls';
import type { ConnectionPeer } from '../../access/index.js';

/** Guards against a pathological issuer chain (Node links issuerCertificate objects; a self-issued one points at itself). */
const MAX_CHAIN_LENGTH = 10;

function toBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The further certificates the client sent (leaf excluded), as DER. Node links `issuerCertificate`
 * objects starting at the leaf; a self-signed certificate links to itself, which ends the walk.
 */
function readChainDer(socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  let current = socket.getPeerCertificate(true) as Partial<import('node:tls').DetailedPeerCertificate> | undefined;
  const seen = new Set<unknown>();
  for (let i = 0; i < MAX_CHAIN_LENGTH && current && current.raw; i++) {
    seen.add(current);
    const issuer = current.issuerCertificate as Partial<import('node:tls').DetailedPeerCertificate> | undefined;
    if (!issuer || !issuer.raw || seen.has(issuer) || issuer.raw.equals(current.raw)) break;
    chain.push(toBytes(issuer.raw));
    current = issuer;
  }
  return chain;
}

/**
 * Builds the ConnectionPeer of a handshaken socket. perf-anchors: the leaf is read exactly once
 * (`getPeerX509Certificate().raw`, no re-parse into a JS object with fingerprints); the rest of the
 * chain, which only JITR needs, is read on first access and memoized (while the socket is open).
 */
export function connectionPeerOf(socket: TLSSocket, listener: string): ConnectionPeer {
  const leaf = socket.getPeerX509Certificate();
  const certificateDer = leaf === undefined ? undefined : toBytes(leaf.raw);
  const servername = (socket as TLSSocket & { servername?: string | false | null }).servername;
  let chain: Uint8Array[] | undefined;
  return {
    certificateDer,
    get chainDer(): readonly Uint8Array[] {
      chain ??= certificateDer === undefined ? [] : readChainDer(socket);
      return chain;
    },
    serverName: typeof servername === 'string' && servername !== '' ? servername : undefined,
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    listener,
  };
}
