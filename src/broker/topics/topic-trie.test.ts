import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterMatches, TopicTrie } from './topic-trie.js';
import { parseFilter, topicNameProblem } from './validate-topic.js';
import { reservedPublishProblem } from './reserved-topics.js';

const MATCHES: [filter: string, topic: string, expected: boolean][] = [
  ['a/b', 'a/b', true],
  ['a/b', 'a/c', false],
  ['a/+', 'a/b', true],
  ['a/+', 'a/b/c', false],
  ['a/#', 'a', true], // [MQTT-4.7.1-2] '#' includes the parent level
  ['a/#', 'a/b/c', true],
  ['#', 'a/b', true],
  ['+/+', 'a/b', true],
  ['+', '/a', false],
  ['+/a', '/a', true],
  ['a/+/c', 'a//c', true],
  ['#', '$aws/events/presence/connected/x', false], // [MQTT-4.7.2-1]
  ['+/events/#', '$aws/events/x', false], // [MQTT-4.7.2-1]
  ['$aws/events/#', '$aws/events/presence/connected/x', true],
  ['$aws/+/presence/#', '$aws/events/presence/connected/x', true],
  ['sport/tennis/+', 'sport/tennis', false],
];

describe('topic trie and filterMatches agree [MQTT-4.7]', () => {
  for (const [filter, topic, expected] of MATCHES) {
    it(`${filter} ${expected ? 'matches' : 'does not match'} ${topic}`, () => {
      assert.equal(filterMatches(filter, topic), expected);
      const trie = new TopicTrie<string>();
      trie.add(filter, 'k', filter);
      const hits: string[] = [];
      trie.match(topic, (v) => hits.push(v));
      assert.deepEqual(hits, expected ? [filter] : []);
    });
  }
  it('removes values and prunes branches', () => {
    const trie = new TopicTrie<number>();
    trie.add('a/b', 'x', 1);
    trie.add('a/+', 'y', 2);
    assert.equal(trie.size, 2);
    assert.equal(trie.remove('a/b', 'x'), true);
    assert.equal(trie.remove('a/b', 'x'), false);
    const hits: number[] = [];
    trie.match('a/b', (v) => hits.push(v));
    assert.deepEqual(hits, [2]);
    assert.equal(trie.size, 1);
  });
});

describe('topic and filter validation (AWS IoT limits, MQTT §4.7)', () => {
  const TOPICS: [string, RegExp | undefined][] = [
    ['a/b', undefined],
    ['', /empty/],
    ['a/+', /wildcard/],
    ['a/#', /wildcard/],
    ['a\u0000b', /U\+0000/],
    ['x'.repeat(257), /256 bytes/],
    ['é'.repeat(129), /256 bytes/], // 258 bytes of UTF-8
    ['1/2/3/4/5/6/7/8/9', /7 slashes/],
    ['1/2/3/4/5/6/7/8', undefined],
    ['$aws/rules/myRule/1/2/3/4/5/6/7/8', undefined], // the $aws/rules/<rule>/ prefix does not count
  ];
  for (const [topic, problem] of TOPICS) {
    it(`topic ${JSON.stringify(topic.slice(0, 40))}: ${problem === undefined ? 'valid' : String(problem)}`, () => {
      const why = topicNameProblem(topic);
      if (problem === undefined) assert.equal(why, undefined);
      else assert.match(why ?? '', problem);
    });
  }
  const FILTERS: [string, boolean, string | undefined][] = [
    ['a/+/b', true, undefined],
    ['a/#', true, undefined],
    ['#', true, undefined],
    ['a/#/b', false, undefined],
    ['a/b#', false, undefined],
    ['a+/b', false, undefined],
    ['$share/g/a/+', true, 'g'],
    ['$share/g', false, undefined],
    ['$share//a', false, undefined],
    ['$share/g+/a', false, undefined],
  ];
  for (const [filter, ok, group] of FILTERS) {
    it(`filter ${filter} is ${ok ? 'valid' : 'invalid'} [MQTT-4.7.1-2/3, MQTT-4.8.2-1/2]`, () => {
      const r = parseFilter(filter);
      assert.equal(r.ok, ok);
      if (r.ok) assert.equal(r.value.shareGroup, group);
    });
  }
  it('reserved $ topics: devices may publish on $aws/things/ and $aws/rules/, never on $aws/events/', () => {
    assert.equal(reservedPublishProblem('a/b'), undefined);
    assert.equal(reservedPublishProblem('$aws/things/t/shadow/update'), undefined);
    assert.equal(reservedPublishProblem('$aws/rules/r/x'), undefined);
    assert.match(reservedPublishProblem('$aws/events/presence/connected/x') ?? '', /\$aws\/events/);
    assert.match(reservedPublishProblem('$SYS/x') ?? '', /reserved/);
  });
});
