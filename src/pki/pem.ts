import { ensureX509Runtime } from './x509-runtime.js';

export interface PemBlock {
  readonly type: string;
  readonly der: Uint8Array;
}

/**
 * Every PEM block in `text`, in order. Line endings and surrounding white space on each line are
 * normalised first (pasted PEMs often carry CRLF or trailing blanks); the block grammar itself is
 * @peculiar/x509's PemConverter. Malformed input yields no blocks rather than an exception.
 */
export function decodePemBlocks(text: string): PemBlock[] {
  const x509 = ensureX509Runtime();
  const normalised = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trim())
    .join('\n');
  try {
    return x509.PemConverter.decodeWithHeaders(normalised).map((block) => ({
      type: block.type,
      der: new Uint8Array(block.rawData),
    }));
  } catch {
    return [];
  }
}

/** A single PEM block with 64-character lines and a trailing newline. */
export function encodePem(der: Uint8Array, type: string): string {
  const x509 = ensureX509Runtime();
  const pem = x509.PemConverter.encode(der, type).replace(/\r\n/g, '\n');
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
