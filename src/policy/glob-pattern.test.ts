import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { globFromPieces, globFromString, globMatches } from './glob-pattern.js';

describe('glob-pattern', () => {
  const m = (p: string, v: string): boolean => globMatches(globFromString(p), v);
  it('matches literally without wildcards', () => {
    assert.equal(m('a/b', 'a/b'), true);
    assert.equal(m('a/b', 'a/bc'), false);
    assert.equal(m('a.b', 'axb'), false);
  });
  it('* matches any run including / and the empty run', () => {
    assert.equal(m('a/*', 'a/'), true);
    assert.equal(m('a/*/z', 'a/b/c/z'), true);
    assert.equal(m('*', ''), true);
    assert.equal(m('*a*b*', 'xxaxxbxx'), true);
    assert.equal(m('*a*b*', 'xxbxxaxx'), false);
    assert.equal(m('ab*ba', 'aba'), false);
    assert.equal(m('ab*ba', 'abba'), true);
  });
  it('? matches exactly one character', () => {
    assert.equal(m('a?c', 'abc'), true);
    assert.equal(m('a?c', 'ac'), false);
    assert.equal(m('*?x', 'x'), false);
    assert.equal(m('*?x', 'yx'), true);
    assert.equal(m('a*?', 'ab'), true);
  });
  it('+ and # are literal', () => {
    assert.equal(m('a/+/b', 'a/+/b'), true);
    assert.equal(m('a/+/b', 'a/x/b'), false);
    assert.equal(m('a/#', 'a/b'), false);
  });
  it('non-wild pieces keep * and ? literal', () => {
    const g = globFromPieces([{ text: 'a/', wild: true }, { text: '*?', wild: false }, { text: '/*', wild: true }]);
    assert.equal(globMatches(g, 'a/*?/x'), true);
    assert.equal(globMatches(g, 'a/bc/x'), false);
  });
  it('ignoreCase folds both sides', () => {
    assert.equal(globMatches(globFromString('iot:Pub*', true), 'IOT:PUBLISH'), true);
  });
  it('answers adversarial input (many stars, long subject) without backtracking blow-up', { timeout: 30_000 }, () => {
    assert.equal(m('*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
  });
});
