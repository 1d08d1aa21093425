// Child processes of the bench: optionally pinned to one CPU with `taskset -c <cpu>` (which execs the command,
// so the child's pid is the program's pid and /proc/<pid> measures the program itself), output kept to a
// log file, and a stop that always ends (SIGTERM, then SIGKILL after a bound).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface Pinning {
  /** CPU for the servers, or undefined when not pinning. */
  readonly serverCpu: number | undefined;
  readonly generatorCpu: number | undefined;
  readonly note: string;
}

/** Servers on CPU 0, generator (and this orchestrator) on CPU 1 — when there are two CPUs and taskset exists. */
export function choosePinning(): Pinning {
  const cpus = availableParallelism();
  if (cpus < 2) return { serverCpu: undefined, generatorCpu: undefined, note: `not pinned: only ${cpus} CPU` };
  const taskset = spawnSync('taskset', ['--version'], { encoding: 'utf8' });
  if (taskset.status !== 0) return { serverCpu: undefined, generatorCpu: undefined, note: 'not pinned: taskset not found (util-linux)' };
  return { serverCpu: 0, generatorCpu: 1, note: `servers on CPU 0, generator on CPU 1 (of ${cpus})` };
}

/** Pins an already running process (this one) to a CPU; returns false when it could not. */
export function pinSelf(cpu: number | undefined): boolean {
  if (cpu === undefined) return false;
  return spawnSync('taskset', ['-pc', String(cpu), String(process.pid)], { encoding: 'utf8' }).status === 0;
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr interleaved), also written to logPath. */
  output(): string;
  exited(): boolean;
  /** SIGTERM, SIGKILL after killAfterMs; resolves with the exit code (null when killed by a signal). */
  stop(killAfterMs?: number): Promise<number | null>;
}

/** Every process this bench started and has not seen exit: the orchestrator kills them on any way out. */
export const liveProcesses = new Set<ManagedProcess>();

/** Where the pids of live servers are listed, for bench/run's trap (one pid a line). */
let pidFile: string | undefined;
export function setPidFile(path: string): void {
  pidFile = path;
}

export function spawnManaged(command: string, args: readonly string[], opts: { cpu: number | undefined; cwd: string; logPath: string; env?: NodeJS.ProcessEnv }): ManagedProcess {
  const [file, argv] = opts.cpu === undefined ? [command, [...args]] : ['taskset', ['-c', String(opts.cpu), command, ...args]];
  const child = spawn(file, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  if (pidFile !== undefined) appendFileSync(pidFile, `${pid}\n`);
  const log = createWriteStream(opts.logPath, { flags: 'a' });
  let output = '';
  const keep = (d: Buffer): void => {
    // Bounded: the last 256 KiB are plenty to explain a failure.
    output = (output + d.toString('utf8')).slice(-256 * 1024);
    log.write(d);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitCode: number | null | undefined;
  const exitedPromise = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      liveProcesses.delete(managed);
      log.end();
      resolve(code);
    }),
  );
  const managed: ManagedProcess = {
    child,
    pid,
    output: () => output,
    exited: () => exitCode !== undefined,
    stop: async (killAfterMs = 20_000) => {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const code = await exitedPromise;
      clearTimeout(timer);
      return code;
    },
  };
  liveProcesses.add(managed);
  return managed;
}

/** Runs a command to completion (bounded), pinned like spawnManaged; resolves with its stdout. */
export function runPinned(command: string, args: readonly string[], opts: { cpu: number | undefined; cwd: string; timeoutMs: number; logPath: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file, argv] = opts.cpu === undefined ? [command, [...args]] : ['taskset', ['-c', String(opts.cpu), command, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(opts.logPath, { flags: 'a' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      log.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      log.write(d);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      log.end();
      resolve({ code, stdout, stderr });
    });
  });
}
