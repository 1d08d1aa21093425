import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from '../../src/policy/index.js';
import { bothMustAllow } from '../../src/access/combine-decisions.js';
import { isSingleDerSequence } from '../../src/access/peer-certificate.js';
import { routeServerName } from '../../src/access/server-name.js';
import { sourceIp } from '../../src/access/connection-context.js';
import { BoundedMap } from '../../src/access/bounded-map.js';

const allow: Decision = { effect: 'Allow', matched: [{ policyName: 'p', versionId: '1', statementIndex: 0, effect: 'Allow' }], reasons: ['a'] };
const implicit: Decision = { effect: 'ImplicitDeny', matched: [], reasons: ['i'] };
const explicit: Decision = { effect: 'ExplicitDeny', matched: [{ policyName: 'd', versionId: '1', statementIndex: 1, effect: 'Deny' }], reasons: ['e'] };

describe('access building blocks', () => {
  it('bothMustAllow: explicit deny > implicit deny > allow; reasons of both kept', () => {
    assert.deepEqual(bothMustAllow(allow, allow), { effect: 'Allow', matched: [...allow.matched, ...allow.matched], reasons: ['a', 'a'] });
    assert.deepEqual(bothMustAllow(allow, implicit), { effect: 'ImplicitDeny', matched: [], reasons: ['a', 'i'] });
    assert.deepEqual(bothMustAllow(implicit, explicit), { effect: 'ExplicitDeny', matched: explicit.matched, reasons: ['i', 'e'] });
    assert.deepEqual(bothMustAllow(explicit, allow).effect, 'ExplicitDeny');
  });

  it('routeServerName: endpoint / none (absent, localhost, IP literal) / foreign', () => {
    assert.deepEqual(routeServerName('abc123-ats.iot.eu-west-1.example.org', 'example.org'), {
      kind: 'endpoint',
      host: 'abc123-ats.iot.eu-west-1.example.org',
      endpointPrefix: 'abc123',
      region: 'eu-west-1',
    });
    assert.equal(routeServerName('ABC123.iot.eu-west-1.example.org.', 'example.org').kind, 'endpoint'); // legacy form, root dot
    for (const none of [undefined, '', 'localhost', 'LOCALHOST', '192.168.0.1', '::1', '[::1]']) {
      assert.equal(routeServerName(none, 'example.org').kind, 'none', String(none));
    }
    for (const foreign of ['example.org', 'abc-ats.iot.eu-west-1.other.org', 'a.b.abc-ats.iot.eu-west-1.example.org']) {
      assert.equal(routeServerName(foreign, 'example.org').kind, 'foreign', foreign);
    }
  });

  it('isSingleDerSequence: exact outer length only', () => {
    assert.equal(isSingleDerSequence(new Uint8Array([0x30, 0x02, 1, 2])), true);
    assert.equal(isSingleDerSequence(new Uint8Array([0x30, 0x02, 1, 2, 3])), false);
    assert.equal(isSingleDerSequence(new Uint8Array([0x30, 0x81, 0x01, 9])), true);
    assert.equal(isSingleDerSequence(new Uint8Array([0x30, 0x82, 0x00, 0x01, 9])), true);
    assert.equal(isSingleDerSequence(new Uint8Array([0x31, 0x02, 1, 2])), false);
    assert.equal(isSingleDerSequence(new Uint8Array([0x30, 0x80, 1, 2])), false); // indefinite length is not DER
    assert.equal(isSingleDerSequence(new Uint8Array([0x30, 0x85, 1, 1, 1, 1, 1])), false);
    assert.equal(isSingleDerSequence(new Uint8Array([0x30])), false);
  });

  it('sourceIp: IPv4-mapped IPv6 → IPv4; others unchanged', () => {
    assert.equal(sourceIp('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(sourceIp('::1'), '::1');
    assert.equal(sourceIp('fe80::ffff:1'), 'fe80::ffff:1');
    assert.equal(sourceIp('127.0.0.1'), '127.0.0.1');
  });

  it('BoundedMap evicts the least recently used entry', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    assert.equal(m.get('a'), 1); // a is now the most recent
    m.set('c', 3);
    assert.equal(m.get('b'), undefined);
    assert.equal(m.get('a'), 1);
    assert.equal(m.get('c'), 3);
    assert.equal(m.size, 2);
    assert.equal(m.deleteWhere((v) => v > 2), 1);
    assert.equal(m.size, 1);
  });
});
