// The comparison table bench/run prints (and stores in the results JSON): one row per load, both servers side
// by side, the certgate/mosquitto ratio of the raw figure and of the per-server-core-second figure, and
// where the CPU went (server, generator, everything else on the machine).
import type { LoadResult } from './load-spec.js';

export interface ComparisonRow {
  readonly id: string;
  readonly label: string;
  readonly lowerIsBetter: boolean;
  readonly certgate: LoadResult | undefined;
  readonly mosquitto: LoadResult | undefined;
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined;
  return a / b;
}

function num(v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function pct(cpuSeconds: number, wallSeconds: number): string {
  return wallSeconds > 0 ? `${Math.round((100 * cpuSeconds) / wallSeconds)}%` : '—';
}

function utilisation(r: LoadResult | undefined): string {
  if (r === undefined) return '—';
  const m = r.meter;
  return `${pct(m.serverCpuSeconds, m.wallSeconds)}/${pct(m.generatorCpuSeconds, m.wallSeconds)}/${pct(m.otherCpuSeconds, m.wallSeconds)}`;
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

export function formatComparisonTable(rows: readonly ComparisonRow[]): string {
  const header = ['load', 'certgate', 'mosquitto', 'ratio', 'cg /core-s', 'mq /core-s', 'ratio /core', 'cpu cg srv/gen/other', 'cpu mq srv/gen/other', 'errors cg/mq'];
  const body = rows.map((r) => {
    const digits = r.lowerIsBetter ? 1 : 0;
    return [
      r.label + (r.lowerIsBetter ? ' (lower is better)' : ''),
      num(r.certgate?.value, digits),
      num(r.mosquitto?.value, digits),
      num(ratio(r.certgate?.value, r.mosquitto?.value), 2),
      num(r.certgate?.perServerCoreSecond),
      num(r.mosquitto?.perServerCoreSecond),
      num(ratio(r.certgate?.perServerCoreSecond, r.mosquitto?.perServerCoreSecond), 2),
      utilisation(r.certgate),
      utilisation(r.mosquitto),
      `${r.certgate?.errors ?? '—'}/${r.mosquitto?.errors ?? '—'}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [pad(header, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map((b) => pad(b, widths))].join('\n');
}
