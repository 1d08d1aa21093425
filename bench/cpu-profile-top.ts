// Reads a V8 .cpuprofile (node --cpu-prof) and lists the functions with the most self time, optionally only
// the samples inside a window of the monotonic clock (the load's measurement window, so server start-up is
// left out), plus self time by area (which source folder or package the code is in).
//   node --import tsx bench/cpu-profile-top.ts <file.cpuprofile> [--from <µs>] [--to <µs>] [--top 15]
// Native work (OpenSSL, the libuv threads) shows up under the JS function that called into it, or as (program).
// certgate's TypeScript runs through tsx (esbuild, whitespace minified: every function sits on line 1), so frames
// in .ts files are mapped back to their source line by transforming the file again with tsx's esbuild options
// and reading the source map (node:module SourceMap); without esbuild the generated column is shown.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
}

/** Maps a (line, column) of tsx's output for a .ts file to its source line (1-based), or undefined. */
export type SourceLineMapper = (url: string, line: number, column: number) => number | undefined;

/** tsx's transform (tsx 4: esbuild with sourcemap, minifyWhitespace, keepNames, target = this Node), redone to get its map. */
export async function tsxSourceLineMapper(tsconfigPath: string): Promise<SourceLineMapper> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return () => undefined;
  }
  const tsconfigRaw = readFileSync(tsconfigPath, 'utf8');
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (url: string): SourceMap | undefined => {
    if (maps.has(url)) return maps.get(url);
    let map: SourceMap | undefined;
    try {
      const file = fileURLToPath(url);
      const out = esbuild.transformSync(readFileSync(file, 'utf8'), {
        loader: 'ts',
        format: 'esm',
        target: `node${process.versions.node}`,
        sourcemap: 'external',
        minifyWhitespace: true,
        keepNames: true,
        sourcefile: file,
        tsconfigRaw,
      });
      map = new SourceMap(JSON.parse(out.map) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      map = undefined;
    }
    maps.set(url, map);
    return map;
  };
  return (url, line, column) => {
    if (!url.startsWith('file://') || !url.endsWith('.ts') || url.includes('/node_modules/')) return undefined;
    const entry = mapOf(url)?.findEntry(line, column) as { originalLine?: number } | undefined;
    return entry?.originalLine !== undefined ? entry.originalLine + 1 : undefined;
  };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileRow {
  readonly name: string;
  readonly where: string;
  readonly area: string;
  /** The caller that accounts for most of this function's self time. */
  readonly via: string;
  readonly selfMs: number;
  /** Share of the non-idle samples in the window. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly samplesInWindow: number;
  readonly busyMs: number;
  readonly idlePercent: number;
  readonly windowApplied: boolean;
  readonly top: readonly ProfileRow[];
  readonly areas: readonly { readonly area: string; readonly percent: number }[];
}

/** Which part of the system a frame belongs to: certgate's own folders, a package, Node internals, or V8's pseudo-frames. */
function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const src = /\/src\/([a-z-]+)\//.exec(url);
  if (src !== null && !url.includes('/node_modules/')) return `src/${src[1]}`;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg !== null) return pkg[1]!;
  if (url.startsWith('node:')) {
    const m = /^node:(?:internal\/)?([a-z_]+)/.exec(url);
    return `node:${m?.[1] ?? 'internal'}`;
  }
  return url.replace(/^file:\/\//, '');
}

function shortWhere(url: string, line: number, column: number, mapper: SourceLineMapper | undefined): string {
  if (url === '') return '';
  const trimmed = url.replace(/^file:\/\//, '').replace(/^.*?\/(src|node_modules|bin|bench)\//, '$1/');
  const mapped = mapper?.(url, line, column);
  if (mapped !== undefined) return `${trimmed}:${mapped}`;
  return line === 0 && url.endsWith('.ts') ? `${trimmed}:1:${column + 1}` : `${trimmed}:${line + 1}`;
}

export function summarizeCpuProfile(profile: CpuProfile, opts: { fromMicros?: number; toMicros?: number; top?: number; mapper?: SourceLineMapper } = {}): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parentOf.set(c, n.id);
  }
  const inWindow = (t: number): boolean => (opts.fromMicros === undefined || t >= opts.fromMicros) && (opts.toMicros === undefined || t <= opts.toMicros);

  // Each sample's weight is the interval until the next sample (the last one gets the mean interval).
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) {
    t += d;
    times.push(t);
  }
  const mean = times.length > 1 ? (times[times.length - 1]! - times[0]!) / (times.length - 1) : 1000;
  let windowApplied = opts.fromMicros !== undefined || opts.toMicros !== undefined;
  let indices = profile.samples.map((_, i) => i).filter((i) => inWindow(times[i]!));
  if (indices.length === 0) {
    // The clocks did not line up: summarize the whole profile rather than nothing.
    indices = profile.samples.map((_, i) => i);
    windowApplied = false;
  }

  const self = new Map<number, number>();
  let idleMicros = 0;
  let busyMicros = 0;
  for (const i of indices) {
    const w = i + 1 < times.length ? times[i + 1]! - times[i]! : mean;
    const id = profile.samples[i]!;
    const node = byId.get(id);
    if (node?.callFrame.functionName === '(idle)') {
      idleMicros += w;
      continue;
    }
    busyMicros += w;
    self.set(id, (self.get(id) ?? 0) + w);
  }

  // Merge nodes of the same function (one function appears under many call paths).
  const byFunction = new Map<string, { name: string; where: string; area: string; micros: number; callers: Map<string, number> }>();
  const byArea = new Map<string, number>();
  for (const [id, micros] of self) {
    const f = byId.get(id)!.callFrame;
    const name = f.functionName === '' ? '(anonymous)' : f.functionName;
    const where = shortWhere(f.url, f.lineNumber, f.columnNumber, opts.mapper);
    const area = areaOf(f.url, name);
    const key = `${name}@${where}`;
    const row = byFunction.get(key) ?? { name, where, area, micros: 0, callers: new Map<string, number>() };
    row.micros += micros;
    const parentId = parentOf.get(id);
    const pf = parentId !== undefined ? byId.get(parentId)?.callFrame : undefined;
    const caller = pf === undefined ? '' : `${pf.functionName === '' ? '(anonymous)' : pf.functionName} ${shortWhere(pf.url, pf.lineNumber, pf.columnNumber, opts.mapper)}`.trim();
    row.callers.set(caller, (row.callers.get(caller) ?? 0) + micros);
    byFunction.set(key, row);
    byArea.set(area, (byArea.get(area) ?? 0) + micros);
  }
  const pct = (m: number): number => (busyMicros > 0 ? (100 * m) / busyMicros : 0);
  const top = [...byFunction.values()]
    .sort((a, b) => b.micros - a.micros)
    .slice(0, opts.top ?? 15)
    .map((r) => ({
      name: r.name,
      where: r.where,
      area: r.area,
      via: [...r.callers.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '',
      selfMs: r.micros / 1000,
      percent: pct(r.micros),
    }));
  const areas = [...byArea.entries()].sort((a, b) => b[1] - a[1]).map(([area, m]) => ({ area, percent: pct(m) }));
  return {
    samplesInWindow: indices.length,
    busyMs: busyMicros / 1000,
    idlePercent: idleMicros + busyMicros > 0 ? (100 * idleMicros) / (idleMicros + busyMicros) : 0,
    windowApplied,
    top,
    areas,
  };
}

export function readCpuProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

export function formatProfileSummary(title: string, s: ProfileSummary): string {
  const lines = [
    `${title}: ${s.samplesInWindow} samples${s.windowApplied ? ' in the load window' : ' (whole profile)'}, ${s.busyMs.toFixed(0)} ms busy, ${s.idlePercent.toFixed(1)}% idle`,
    `  self%   self ms  function  (where)`,
  ];
  for (const r of s.top) lines.push(`  ${r.percent.toFixed(1).padStart(5)}  ${r.selfMs.toFixed(0).padStart(8)}  ${r.name}  (${r.where || r.area})${r.via !== '' ? `  ← ${r.via}` : ''}`);
  lines.push(`  by area: ${s.areas.slice(0, 12).map((a) => `${a.area} ${a.percent.toFixed(1)}%`).join(', ')}`);
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string' } } });
  const file = positionals[0];
  if (file === undefined) {
    console.error('usage: node --import tsx bench/cpu-profile-top.ts <file.cpuprofile> [--from µs] [--to µs] [--top 15]');
    process.exit(2);
  }
  const summary = summarizeCpuProfile(readCpuProfile(file), {
    ...(values.from !== undefined ? { fromMicros: Number(values.from) } : {}),
    ...(values.to !== undefined ? { toMicros: Number(values.to) } : {}),
    top: values.top !== undefined ? Number(values.top) : 15,
    mapper: await tsxSourceLineMapper(fileURLToPath(new URL('../tsconfig.json', import.meta.url))),
  });
  console.log(formatProfileSummary(file, summary));
}
