// What the bench reads from /proc: a process's CPU time (utime+stime, all threads) and resident set size,
// and the whole machine's busy CPU time (to tell how much other processes used during a load).
import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat and /proc/stat (getconf CLK_TCK; 100 on every Linux we run). */
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat). */
export function processCpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: split after its closing one.
  const afterName = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // afterName[0] is field 3 (state): utime is field 14 → index 11, stime field 15 → index 12.
  const utime = Number(afterName[11]);
  const stime = Number(afterName[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot read CPU times of pid ${pid}`);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** VmRSS of a process in KiB (/proc/<pid>/status). */
export function processRssKiB(pid: number): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** Busy CPU-seconds of the whole machine so far (all CPUs: everything but idle and iowait), from /proc/stat. */
export function machineBusyCpuSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest times are already counted in user/nice)
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / CLOCK_TICKS_PER_SECOND;
}

export function loadAverage(): [number, number, number] {
  const f = readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).map(Number);
  return [f[0] ?? NaN, f[1] ?? NaN, f[2] ?? NaN];
}

/** CPU-seconds of this process (user + system), all threads. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface MeterReading {
  readonly wallSeconds: number;
  readonly serverCpuSeconds: number;
  readonly generatorCpuSeconds: number;
  /** Busy CPU-seconds of everything else on the machine during the window (noise). */
  readonly otherCpuSeconds: number;
  /** The window on the monotonic clock (µs), to cut a --cpu-prof profile to it. */
  readonly fromMicros: number;
  readonly toMicros: number;
}

interface Snapshot {
  readonly t: bigint;
  readonly server: number;
  readonly own: number;
  readonly machine: number;
}

/** Brackets a measurement window: the server's CPU, the generator's own CPU and the machine's, over wall time. */
export class Meter {
  readonly #serverPid: number;
  #start: Snapshot | undefined;

  constructor(serverPid: number) {
    this.#serverPid = serverPid;
  }

  #snapshot(): Snapshot {
    return { t: process.hrtime.bigint(), server: processCpuSeconds(this.#serverPid), own: ownCpuSeconds(), machine: machineBusyCpuSeconds() };
  }

  start(): void {
    this.#start = this.#snapshot();
  }

  stop(): MeterReading {
    const a = this.#start;
    if (a === undefined) throw new Error('Meter.stop() before start()');
    const b = this.#snapshot();
    const serverCpuSeconds = b.server - a.server;
    const generatorCpuSeconds = b.own - a.own;
    return {
      wallSeconds: Number(b.t - a.t) / 1e9,
      serverCpuSeconds,
      generatorCpuSeconds,
      otherCpuSeconds: Math.max(0, b.machine - a.machine - serverCpuSeconds - generatorCpuSeconds),
      fromMicros: Number(a.t / 1000n),
      toMicros: Number(b.t / 1000n),
    };
  }
}
