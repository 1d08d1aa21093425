// Load: memory per idle connection. Opens `connections` mutual-TLS MQTT connections (CONNACK 0 each, then
// nothing but the socket), and reports (server RSS after − RSS before) / connections from /proc/<pid>/status.
// A first small batch is opened and closed before the "before" reading so one-time allocations (first
// handshake, first session) are not charged to the idle connections.
import type { GeneratorJob, LoadResult, LoadSpec } from '../load-spec.js';
import { connectMqtt, deviceContexts, inParallel } from '../mqtt-over-tls.js';
import type { MqttWire } from '../mqtt-over-tls.js';
import { Meter, processRssKiB } from '../proc-stats.js';

const STEP_TIMEOUT_MS = 15_000;
const PRIMING_CONNECTIONS = 32;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runIdleMemory(job: GeneratorJob, load: Extract<LoadSpec, { kind: 'idle-memory' }>): Promise<LoadResult> {
  const { target } = job;
  const contexts = deviceContexts(target, 'TLSv1.3');
  const ctxFor = (i: number) => contexts[i % contexts.length]!;

  const priming = await inParallel(PRIMING_CONNECTIONS, load.concurrency, (i) => connectMqtt(target, ctxFor(i), `prime-${job.runId}-${i}`, STEP_TIMEOUT_MS));
  for (const w of priming) w.end();
  await sleep(load.settleMs);

  const rssBefore = processRssKiB(target.pid);
  const meter = new Meter(target.pid);
  meter.start();
  let errors = 0;
  const opened: (MqttWire | undefined)[] = await inParallel(load.connections, load.concurrency, async (i) => {
    try {
      return await connectMqtt(target, ctxFor(i), `idle-${job.runId}-${i}`, STEP_TIMEOUT_MS);
    } catch {
      errors++;
      return undefined;
    }
  });
  const reading = meter.stop();
  await sleep(load.settleMs);
  const live = opened.filter((w): w is MqttWire => w !== undefined && !w.closed);
  const rssAfter = processRssKiB(target.pid);
  for (const w of live) w.end();
  await sleep(Math.min(load.settleMs, 1000));
  const n = live.length;
  return {
    target: target.name,
    value: n > 0 ? (rssAfter - rssBefore) / n : NaN,
    unit: 'KiB RSS per idle connection',
    perServerCoreSecond: undefined,
    meter: reading,
    operations: n,
    errors: errors + (opened.length - errors - n),
    details: {
      rssBeforeKiB: rssBefore,
      rssAfterKiB: rssAfter,
      openingConnectionsPerSecond: Math.round(n / reading.wallSeconds),
      openingConnectionsPerServerCoreSecond: reading.serverCpuSeconds > 0 ? Math.round(n / reading.serverCpuSeconds) : 0,
    },
  };
}
