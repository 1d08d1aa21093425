import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

// The policy core is pure: it imports its own files, the kernel's index, and nothing with I/O.
describe('policy module boundaries', () => {
  const dir = new URL('./', import.meta.url);
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  it('has sources to check', () => assert.ok(sources.length >= 8));
  for (const file of sources) {
    it(`${file} imports only ./*.js and ../kernel/index.js, never process.env`, () => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]!);
      for (const s of specifiers) {
        assert.ok(/^\.\/[a-z0-9-]+\.js$/.test(s) || s === '../kernel/index.js', `${file} imports ${s}`);
      }
      assert.ok(!/process\.env/.test(text), `${file} reads process.env`);
      assert.ok(!/^export default/m.test(text), `${file} has a default export`);
    });
  }
});
