/**
 * IPv4/IPv6 addresses and CIDR blocks for the IpAddress / NotIpAddress condition operators,
 * without node:net (the policy core imports no I/O module). IPv4-mapped IPv6 addresses
 * (`::ffff:10.0.0.1`, what a dual-stack socket reports) are compared as IPv4.
 */

export interface IpBlock {
  readonly bytes: readonly number[]; // 4 or 16
  readonly prefix: number;
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIpv6(text: string): number[] | undefined {
  let head = text;
  let v4Tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    v4Tail = v4;
    head = text.slice(0, lastColon + 1) + '0:0'; // placeholder groups, replaced below
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (left === undefined || right === undefined) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...left, ...new Array<number>(missing).fill(0), ...right];
  const bytes: number[] = [];
  for (const g of all) bytes.push(g >> 8, g & 0xff);
  if (v4Tail.length === 4) bytes.splice(12, 4, ...v4Tail);
  return bytes;
}

/** Parses an address; IPv4-mapped IPv6 comes back as 4 bytes. */
export function parseIpAddress(text: string): number[] | undefined {
  if (!text.includes(':')) return parseIpv4(text);
  const bytes = parseIpv6(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
  if (bytes === undefined) return undefined;
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

/** Parses `a.b.c.d/n`, `x::y/n` or a bare address (a block of one). */
export function parseIpBlock(text: string): IpBlock | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseIpAddress(addr);
  if (bytes === undefined) return undefined;
  const max = bytes.length * 8;
  if (slash < 0) return { bytes, prefix: max };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  let prefix = Number(prefixText);
  if (addr.includes(':') && bytes.length === 4) prefix -= 96; // ::ffff:a.b.c.d/120 → /24
  if (prefix < 0 || prefix > max) return undefined;
  return { bytes, prefix };
}

export function ipBlockContains(block: IpBlock, address: readonly number[]): boolean {
  if (block.bytes.length !== address.length) return false;
  let bits = block.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((block.bytes[i]! & mask) !== (address[i]! & mask)) return false;
  }
  return true;
}
