// The dependency rule (shared/architecture.md): the core imports no adapter and no I/O module,
// and never reads process.env.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const CORE = ['kernel', 'pki', 'policy', 'registry', 'access', 'provisioning'];
const ADAPTERS = ['broker', 'api', 'store', 'keys', 'cluster', 'telemetry', 'cli', 'main', 'web'];
const FORBIDDEN_MODULES = [
  'net', 'tls', 'http', 'https', 'http2', 'fs', 'fs/promises', 'dgram', 'child_process',
  'fastify', 'mqtt-packet', 'kysely', 'better-sqlite3', 'pg', 'pino', 'commander',
];

function sources(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sources(p);
    return n.endsWith('.ts') && !n.endsWith('.test.ts') ? [p] : [];
  });
}

function imports(text: string): string[] {
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? '',
  );
}

describe('dependency rule', () => {
  for (const mod of CORE) {
    it(`src/${mod} imports no adapter, no I/O module and reads no process.env`, () => {
      const problems: string[] = [];
      for (const file of sources(join(root, 'src', mod))) {
        const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
        const rel = relative(root, file);
        for (const spec of imports(text)) {
          const bare = spec.replace(/^node:/, '');
          if (FORBIDDEN_MODULES.includes(bare)) problems.push(`${rel} imports ${spec}`);
          if (spec.startsWith('.') && ADAPTERS.some((a) => new RegExp(`(^|/)\\.\\./(\\.\\./)*${a}(/|$)`).test(spec))) {
            problems.push(`${rel} imports adapter ${spec}`);
          }
        }
        if (/process\.env/.test(text)) problems.push(`${rel} reads process.env`);
      }
      assert.deepEqual(problems, []);
    });
  }
});
