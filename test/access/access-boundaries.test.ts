// access/ is core (architecture.md "Core"): it imports only modules below it through their index.ts or
// ports.ts (kernel ← pki, policy ← registry ← access) and pure libraries; never node:net/tls/http/fs,
// an adapter, or process.env; named exports only. node:crypto is allowed for pure computation (SHA-256).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const ALLOWED = new Set([
  '../kernel/index.js',
  '../pki/index.js',
  '../policy/index.js',
  '../registry/index.js',
  '../registry/ports.js',
  'node:crypto',
]);

describe('access module boundaries', () => {
  const dir = new URL('../../src/access/', import.meta.url);
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  it('has sources to check (device-access.ts, index.ts and the implementation)', () => {
    assert.ok(sources.includes('device-access.ts') && sources.includes('index.ts'));
    assert.ok(sources.length >= 5, sources.join(', '));
  });
  for (const file of sources) {
    it(`${file}: imports only ./*.js, the core modules' index/ports and node:crypto; no process.env; no default export`, () => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]!);
      const dynamic = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
      for (const s of [...specifiers, ...dynamic]) {
        assert.ok(/^\.\/[a-z0-9-]+\.js$/.test(s) || ALLOWED.has(s), `${file} imports ${s}`);
      }
      assert.ok(!/process\.env/.test(text), `${file} reads process.env`);
      assert.ok(!/\brequire\(/.test(text), `${file} uses require()`);
      assert.ok(!/^export default/m.test(text), `${file} has a default export`);
    });
  }
  it('file names are kebab-case', () => {
    for (const f of sources) assert.match(f, /^[a-z0-9]+(?:-[a-z0-9]+)*\.ts$/);
  });
});
