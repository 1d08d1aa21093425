import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ipBlockContains, parseIpAddress, parseIpBlock } from './ip-address.js';

describe('ip-address', () => {
  const inBlock = (cidr: string, ip: string): boolean => {
    const block = parseIpBlock(cidr);
    const addr = parseIpAddress(ip);
    assert.ok(block !== undefined && addr !== undefined, `${cidr} / ${ip} parse`);
    return ipBlockContains(block, addr);
  };
  it('IPv4 CIDR', () => {
    assert.equal(inBlock('192.168.0.0/16', '192.168.255.1'), true);
    assert.equal(inBlock('192.168.0.0/16', '192.169.0.1'), false);
    assert.equal(inBlock('10.0.0.1', '10.0.0.1'), true);
    assert.equal(inBlock('0.0.0.0/0', '8.8.8.8'), true);
    assert.equal(inBlock('10.0.0.0/9', '10.128.0.0'), false);
  });
  it('IPv6 CIDR, compression and embedded IPv4', () => {
    assert.equal(inBlock('2001:db8::/32', '2001:0db8:ffff::1'), true);
    assert.equal(inBlock('2001:db8::/32', '2001:db9::1'), false);
    assert.equal(inBlock('::1', '0:0:0:0:0:0:0:1'), true);
    assert.equal(inBlock('64:ff9b::/96', '64:ff9b::192.0.2.33'), true);
  });
  it('IPv4-mapped IPv6 compares as IPv4, families do not mix otherwise', () => {
    assert.equal(inBlock('10.0.0.0/8', '::ffff:10.2.3.4'), true);
    assert.equal(inBlock('::ffff:10.0.0.0/104', '10.2.3.4'), true);
    assert.equal(inBlock('2001:db8::/32', '10.0.0.1'), false);
  });
  it('refuses malformed input', () => {
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.4/33', '1::2::3', '12345::', 'x', '1.2.3.4/', ':::']) {
      assert.equal(parseIpBlock(bad), undefined, bad);
    }
  });
});
