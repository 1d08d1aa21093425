// The bench orchestrator (bench/run calls it): certgate and mosquitto side by side in one run, every load against
// both, a table of ratios, and the same as JSON in bench/results/<timestamp>.json. With --profile, certgate is
// then run under `node --cpu-prof` for the connection load and for QoS 0 1→1, and the top self-time functions
// inside each load's window are printed. Every child process is stopped on the way out, whatever the way.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../test/helpers/certgate-process.js';
import { TestPki } from '../test/helpers/openssl.js';
import { BENCH_LOADS, FULL_TIMING, PROFILED_LOAD_IDS, QUICK_TIMING } from './bench-loads.js';
import type { BenchLoad, BenchTiming } from './bench-loads.js';
import { formatProfileSummary, readCpuProfile, summarizeCpuProfile, tsxSourceLineMapper } from './cpu-profile-top.js';
import type { ProfileSummary } from './cpu-profile-top.js';
import type { DeviceFiles, GeneratorJob, LoadResult, TargetSpec } from './load-spec.js';
import { RESULT_PREFIX } from './load-spec.js';
import { provisionCertgateDevices, startCertgateServer, writeCertgateRoots } from './peers/certgate-peer.js';
import type { CertgateServer } from './peers/certgate-peer.js';
import { startMosquittoServer } from './peers/mosquitto-peer.js';
import type { MosquittoServer } from './peers/mosquitto-peer.js';
import { choosePinning, liveProcesses, pinSelf, runPinned, setPidFile } from './pinned-process.js';
import type { Pinning } from './pinned-process.js';
import { loadAverage } from './proc-stats.js';
import { formatComparisonTable, ratio } from './report.js';
import type { ComparisonRow } from './report.js';

/** Device certificates per server: one per in-flight handshake slot; the fan-out subscribers share them. */
const DEVICES_PER_SERVER = 32;
const GENERATOR_EXTRA_MS = 90_000;
const PAUSE_BETWEEN_RUNS_MS = 500;
const QUIET_LOAD_AVERAGE = 0.3;
const PROFILE_MIN_WARMUP_MS = 3_000;
const PROFILE_MIN_DURATION_MS = 5_000;

const USAGE = `usage: bench/run [--quick] [--duration <s>] [--warmup <s>] [--idle-connections <n>]
                 [--qos0-window <n>] [--qos0-fanout-window <n>] [--qos1-window <n>] [--keep-work-dir]
                 [--loads ${BENCH_LOADS.map((l) => l.id).join(',')}]
                 [--profile] [--profile-only] [--no-pin] [--work-dir <dir>] [--results-dir <dir>]`;

interface Options {
  readonly timing: BenchTiming;
  readonly loads: readonly BenchLoad[];
  readonly compare: boolean;
  readonly profile: boolean;
  readonly pin: boolean;
  readonly workDir: string;
  readonly resultsDir: string;
  readonly quick: boolean;
}

class OptionError extends Error {}

function parseOptions(): Options {
  const parse = () =>
    parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        'idle-connections': { type: 'string' },
        'qos0-window': { type: 'string' },
        'qos0-fanout-window': { type: 'string' },
        'qos1-window': { type: 'string' },
        loads: { type: 'string' },
        profile: { type: 'boolean', default: false },
        'profile-only': { type: 'boolean', default: false },
        'no-pin': { type: 'boolean', default: false },
        'work-dir': { type: 'string' },
        'results-dir': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (e) {
    throw new OptionError(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new OptionError(`--${what} wants a positive number, got ${v}`);
    return n;
  };
  const base = values.quick === true ? QUICK_TIMING : FULL_TIMING;
  const duration = positive(values.duration, 'duration');
  const warmup = positive(values.warmup, 'warmup');
  const idle = positive(values['idle-connections'], 'idle-connections');
  const windows = {
    qos0Window: positive(values['qos0-window'], 'qos0-window'),
    qos0FanOutWindow: positive(values['qos0-fanout-window'], 'qos0-fanout-window'),
    qos1Window: positive(values['qos1-window'], 'qos1-window'),
  };
  const timing: BenchTiming = {
    ...base,
    ...(duration !== undefined ? { durationMs: duration * 1000 } : {}),
    ...(warmup !== undefined ? { warmupMs: warmup * 1000 } : {}),
    ...(idle !== undefined ? { idleConnections: Math.min(Math.round(idle), 18_000) } : {}),
    ...Object.fromEntries(Object.entries(windows).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Math.round(v!)])),
  };
  let loads = BENCH_LOADS;
  if (values.loads !== undefined) {
    const ids = values.loads.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const id of ids) if (!BENCH_LOADS.some((l) => l.id === id)) throw new OptionError(`unknown load ${id}\n${USAGE}`);
    loads = BENCH_LOADS.filter((l) => ids.includes(l.id));
  }
  const workDir = values['work-dir'] ?? join('/tmp', `certgate-bench-${process.pid}`);
  return {
    timing,
    loads,
    compare: values['profile-only'] !== true,
    profile: values.profile === true || values['profile-only'] === true,
    pin: values['no-pin'] !== true,
    workDir,
    resultsDir: values['results-dir'] ?? join(REPO_ROOT, 'bench', 'results'),
    quick: values.quick === true,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function killEverything(): void {
  for (const p of liveProcesses) p.child.kill('SIGKILL');
}

let jobCounter = 0;

async function runLoad(opts: Options, pinning: Pinning, target: TargetSpec, load: BenchLoad): Promise<LoadResult | undefined> {
  jobCounter++;
  const spec = load.spec(opts.timing);
  const job: GeneratorJob = { target, load: spec, runId: `${process.pid.toString(36)}${jobCounter}` };
  const jobPath = join(opts.workDir, `job-${jobCounter}-${load.id}-${target.name}.json`);
  writeFileSync(jobPath, JSON.stringify(job, null, 2));
  const planned = spec.kind === 'idle-memory' ? 120_000 : spec.warmupMs + spec.durationMs;
  // BENCH_GENERATOR_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir /tmp/gen") profiles the generator itself.
  const generatorFlags = (process.env['BENCH_GENERATOR_NODE_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');
  const out = await runPinned(process.execPath, [...generatorFlags, '--import', 'tsx', join(REPO_ROOT, 'bench', 'load-generator.ts'), jobPath], {
    cpu: pinning.generatorCpu,
    cwd: REPO_ROOT,
    timeoutMs: planned + GENERATOR_EXTRA_MS,
    logPath: join(opts.workDir, 'generator.log'),
  });
  const line = out.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (out.code !== 0 || line === undefined) {
    console.error(`  ${load.id} against ${target.name} failed (exit ${String(out.code)}): ${out.stderr.trim().split('\n').slice(-5).join(' | ')}`);
    return undefined;
  }
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as LoadResult;
}

function describe(r: LoadResult | undefined): string {
  if (r === undefined) return 'failed';
  const perCore = r.perServerCoreSecond !== undefined ? `, ${Math.round(r.perServerCoreSecond)} per server core-s` : '';
  return `${r.value.toFixed(r.unit.startsWith('KiB') ? 1 : 0)} ${r.unit}${perCore}, server ${r.meter.serverCpuSeconds.toFixed(2)} cpu-s / ${r.meter.wallSeconds.toFixed(2)} s, errors ${r.errors}`;
}

function certgateTarget(cg: CertgateServer, caPath: string, devices: readonly DeviceFiles[]): TargetSpec {
  return { name: 'certgate', host: '127.0.0.1', port: cg.mqttPort, caPath, devices, pid: cg.process.pid };
}

interface ProfiledLoad {
  readonly result: LoadResult;
  readonly profile: string;
  readonly summary: ProfileSummary;
}

async function profileCertgate(opts: Options, pinning: Pinning, dataDir: string, caPath: string, devices: readonly DeviceFiles[], stamp: string): Promise<Record<string, ProfiledLoad>> {
  const summaries: Record<string, ProfiledLoad> = {};
  // With --loads, profile those (idle memory excepted); otherwise the connection and QoS 0 loads.
  const chosen = opts.loads.length < BENCH_LOADS.length ? opts.loads.map((l) => l.id).filter((id) => id !== 'idle-memory') : [...PROFILED_LOAD_IDS];
  for (const id of chosen) {
    const load = BENCH_LOADS.find((l) => l.id === id)!;
    const profDir = join(opts.workDir, `cpu-prof-${id}`);
    mkdirSync(profDir, { recursive: true });
    const cg = await startCertgateServer({ dataDir, cpu: pinning.serverCpu, logPath: join(opts.workDir, `certgate-prof-${id}.log`), nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profDir] });
    console.log(`profiling certgate (pid ${cg.process.pid}) under ${id} …`);
    // Long enough a warm-up that the JIT and certgate's per-fingerprint certificate cache are warm (32 devices).
    const profileOpts: Options = { ...opts, timing: { ...opts.timing, warmupMs: Math.max(opts.timing.warmupMs, PROFILE_MIN_WARMUP_MS), durationMs: Math.max(opts.timing.durationMs, PROFILE_MIN_DURATION_MS) } };
    const result = await runLoad(profileOpts, pinning, certgateTarget(cg, caPath, devices), load);
    const code = await cg.process.stop();
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (result === undefined || file === undefined) {
      console.error(`  no profile for ${id} (load ${result === undefined ? 'failed' : 'ok'}, certgate exit ${String(code)})`);
      continue;
    }
    console.log(`  ${describe(result)} (under the profiler)`);
    const summary = summarizeCpuProfile(readCpuProfile(join(profDir, file)), {
      fromMicros: result.meter.fromMicros,
      toMicros: result.meter.toMicros,
      top: 15,
      mapper: await tsxSourceLineMapper(join(REPO_ROOT, 'tsconfig.json')),
    });
    mkdirSync(opts.resultsDir, { recursive: true });
    const kept = join(opts.resultsDir, `${stamp}-${id}.cpuprofile`);
    copyFileSync(join(profDir, file), kept);
    summaries[id] = { result, profile: kept, summary };
    console.log(formatProfileSummary(`certgate under ${id} (${kept})`, summary));
  }
  return summaries;
}

async function main(): Promise<number> {
  const opts = parseOptions();
  mkdirSync(opts.workDir, { recursive: true });
  setPidFile(join(opts.workDir, 'pids'));
  const pinning: Pinning = opts.pin ? choosePinning() : { serverCpu: undefined, generatorCpu: undefined, note: 'not pinned (--no-pin)' };
  pinSelf(pinning.generatorCpu);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const loadBefore = loadAverage();
  console.log(`certgate bench ${startedAt.toISOString()} — ${opts.quick ? 'quick' : 'full'} run, ${opts.timing.durationMs / 1000} s per load after ${opts.timing.warmupMs / 1000} s warm-up; ${pinning.note}`);
  console.log(`load average before: ${loadBefore.join(' ')}${loadBefore[0] > QUIET_LOAD_AVERAGE ? '  (the machine is not quiet: figures will be noisy)' : ''}`);
  console.log(`work dir ${opts.workDir}`);

  const pki = await TestPki.create();
  try {
    const dataDir = join(opts.workDir, 'certgate-data');
    const cg = await startCertgateServer({ dataDir, cpu: pinning.serverCpu, logPath: join(opts.workDir, 'certgate.log') });
    const cgDevices = await provisionCertgateDevices(cg, pki, DEVICES_PER_SERVER, opts.workDir);
    const cgRoots = await writeCertgateRoots(dataDir, join(opts.workDir, 'certgate-roots.pem'));
    console.log(`certgate pid ${cg.process.pid} mqtt ${cg.mqttPort} api ${cg.apiUrl}, ${cgDevices.length} EC P-256 devices (CreateCertificateFromCsr, allow-all policy)`);

    const rows: ComparisonRow[] = [];
    let mosquitto: MosquittoServer | undefined;
    if (opts.compare) {
      mosquitto = await startMosquittoServer({ pki, dir: opts.workDir, clients: DEVICES_PER_SERVER, cpu: pinning.serverCpu, logPath: join(opts.workDir, 'mosquitto.log') });
      console.log(`mosquitto ${mosquitto.version} pid ${mosquitto.process.pid} port ${mosquitto.port}, ${mosquitto.devices.length} EC P-256 client certificates`);
      const targets: TargetSpec[] = [
        certgateTarget(cg, cgRoots, cgDevices),
        { name: 'mosquitto', host: '127.0.0.1', port: mosquitto.port, caPath: mosquitto.caPath, devices: mosquitto.devices, pid: mosquitto.process.pid },
      ];
      for (const load of opts.loads) {
        const results: Partial<Record<TargetSpec['name'], LoadResult>> = {};
        for (const target of targets) {
          await sleep(PAUSE_BETWEEN_RUNS_MS);
          const r = await runLoad(opts, pinning, target, load);
          if (r !== undefined) results[target.name] = r;
          console.log(`  ${load.id.padEnd(14)} ${target.name.padEnd(9)} ${describe(r)}`);
        }
        rows.push({ id: load.id, label: load.label, lowerIsBetter: load.lowerIsBetter, certgate: results.certgate, mosquitto: results.mosquitto });
      }
    }

    const loadAfter = loadAverage();
    let table = '';
    if (rows.length > 0) {
      table = formatComparisonTable(rows);
      console.log('');
      console.log(table);
      console.log(`ratio = certgate / mosquitto; /core-s = per server CPU-second; cpu = server / generator / rest of the machine, % of one core`);
      console.log(`load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`);
    }

    let profiles: Record<string, ProfiledLoad> = {};
    if (opts.profile) {
      await cg.process.stop();
      profiles = await profileCertgate(opts, pinning, dataDir, cgRoots, cgDevices, stamp);
    }

    mkdirSync(opts.resultsDir, { recursive: true });
    const resultPath = join(opts.resultsDir, `${stamp}.json`);
    const report = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      mode: opts.quick ? 'quick' : 'full',
      timing: opts.timing,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      node: process.version,
      openssl: process.versions.openssl,
      mosquittoVersion: mosquitto?.version,
      gitCommit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim(),
      pinning,
      tls: 'generator verifies both servers (certgate: DATA/root-ca-*.pem; mosquitto: its CA); no SNI; no session resumption; EC P-256 client certificates',
      results: rows.map((r) => ({
        load: r.id,
        label: r.label,
        lowerIsBetter: r.lowerIsBetter,
        ratio: ratio(r.certgate?.value, r.mosquitto?.value),
        ratioPerServerCoreSecond: ratio(r.certgate?.perServerCoreSecond, r.mosquitto?.perServerCoreSecond),
        certgate: r.certgate,
        mosquitto: r.mosquitto,
      })),
      table,
      profiles,
    };
    writeFileSync(resultPath, JSON.stringify(report, null, 2) + '\n');
    console.log(`results: ${resultPath}`);
    const failed = rows.filter((r) => r.certgate === undefined || r.mosquitto === undefined).length;
    return failed > 0 ? 1 : 0;
  } finally {
    await Promise.all([...liveProcesses].map((p) => p.stop(10_000)));
    await pki.cleanup();
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, stopping the servers`);
    killEverything();
    process.exit(130);
  });
}
process.once('exit', killEverything);

try {
  process.exitCode = await main();
} catch (e) {
  if (e instanceof OptionError) console.error(e.message);
  else console.error('bench failed:', e);
  killEverything();
  process.exitCode = 1;
}
