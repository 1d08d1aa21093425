// `openssl s_client` as a TLS client for the data-plane tests: what chain does the server send, does the
// handshake complete, which ALPN was negotiated. stdin is closed at once, so s_client exits after the handshake.
import { spawn } from 'node:child_process';
import { parseCertificateChainPem } from '../../src/pki/index.js';
import type { ParsedCertificate } from '../../src/pki/index.js';

const S_CLIENT_TIMEOUT_MS = 20_000;

export interface SClientOptions {
  readonly port: number;
  readonly host?: string;
  readonly servername?: string;
  /** e.g. 'aECDSA' or 'aRSA' (TLS 1.2 cipher strings). */
  readonly cipher?: string;
  readonly tls?: '1.2' | '1.3';
  /** TLS 1.3 signature algorithms, e.g. 'rsa_pss_rsae_sha256' (an RSA-only client). */
  readonly sigalgs?: string;
  readonly alpn?: string;
  readonly certPath?: string;
  readonly keyPath?: string;
}

export interface SClientResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The certificates the server sent, in order (leaf first). */
  readonly chain: ParsedCertificate[];
  /** "ALPN protocol: x" / "No ALPN negotiated". */
  readonly alpn: string | undefined;
  readonly protocol: string | undefined;
  /** A session ticket was received ("TLS session ticket:" / "Post-Handshake New Session Ticket"). */
  readonly sawSessionTicket: boolean;
}

export function sClient(opts: SClientOptions): Promise<SClientResult> {
  const args = ['s_client', '-connect', `${opts.host ?? '127.0.0.1'}:${opts.port}`, '-showcerts'];
  if (opts.servername !== undefined) args.push('-servername', opts.servername);
  else args.push('-noservername');
  if (opts.tls === '1.2') args.push('-tls1_2');
  if (opts.tls === '1.3') args.push('-tls1_3');
  if (opts.cipher !== undefined) args.push('-cipher', opts.cipher);
  if (opts.sigalgs !== undefined) args.push('-sigalgs', opts.sigalgs);
  if (opts.alpn !== undefined) args.push('-alpn', opts.alpn);
  if (opts.certPath !== undefined) args.push('-cert', opts.certPath);
  if (opts.keyPath !== undefined) args.push('-key', opts.keyPath);
  const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Give TLS 1.3 post-handshake messages (tickets) a moment to arrive before EOF on stdin ends s_client.
  const endStdin = setTimeout(() => child.stdin.end(), 300);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`openssl ${args.join(' ')} did not finish within ${S_CLIENT_TIMEOUT_MS} ms\n${stdout}\n${stderr}`));
    }, S_CLIENT_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      clearTimeout(endStdin);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      clearTimeout(endStdin);
      const chainText = /Certificate chain\n([\s\S]*?)\n---\n/.exec(stdout)?.[1] ?? '';
      let chain: ParsedCertificate[] = [];
      try {
        chain = chainText.includes('BEGIN CERTIFICATE') ? parseCertificateChainPem(chainText) : [];
      } catch {
        chain = [];
      }
      const alpnLine = /^(ALPN protocol: .*|No ALPN negotiated)$/m.exec(stdout)?.[1];
      const protocol = /^\s*Protocol\s*:\s*(\S+)/m.exec(stdout)?.[1] ?? /^New, (TLSv[\d.]+),/m.exec(stdout)?.[1];
      resolve({
        code,
        stdout,
        stderr,
        chain,
        alpn: alpnLine,
        protocol,
        sawSessionTicket: /TLS session ticket:|Post-Handshake New Session Ticket arrived/.test(stdout),
      });
    });
  });
}
