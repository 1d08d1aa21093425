// Load: new mutual-TLS connections per second. Each of `concurrency` slots loops: TLS handshake (a fresh
// one, no resumption) → CONNECT → CONNACK 0 → DISCONNECT, and opens the next one when the server has
// closed the previous. A connection counts when its CONNACK arrives inside the measurement window.
import type { GeneratorJob, LoadResult, LoadSpec } from '../load-spec.js';
import { connectPacket, deviceContexts, MqttWire, openTls } from '../mqtt-over-tls.js';
import { Meter } from '../proc-stats.js';

const STEP_TIMEOUT_MS = 10_000;
const ERROR_BACKOFF_MS = 50;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runConnectionRate(job: GeneratorJob, load: Extract<LoadSpec, { kind: 'connections' }>): Promise<LoadResult> {
  const { target } = job;
  const contexts = deviceContexts(target, load.tlsVersion);
  const meter = new Meter(target.pid);
  let running = true;
  let completed = 0;
  let errors = 0;
  let lastError = '';
  const details: Record<string, string | number> = { tlsVersion: load.tlsVersion, concurrency: load.concurrency };

  const once = async (slot: number): Promise<void> => {
    const socket = await openTls(target, contexts[slot % contexts.length]!, STEP_TIMEOUT_MS);
    if (details['negotiated'] === undefined) {
      const cipher = socket.getCipher();
      const serverKey = socket.getPeerX509Certificate()?.publicKey;
      details['negotiated'] = `${socket.getProtocol() ?? '?'} ${cipher.name} server key ${serverKey?.asymmetricKeyType ?? '?'} ${String(serverKey?.asymmetricKeyDetails?.namedCurve ?? '')}`.trim();
    }
    const wire = new MqttWire(socket);
    const closed = new Promise<void>((resolve) => (wire.closed ? resolve() : socket.once('close', () => resolve())));
    try {
      const connack = wire.expect('connack', STEP_TIMEOUT_MS);
      socket.write(connectPacket(`conn-${job.runId}-${slot}`));
      const p = await connack;
      if ((p.returnCode ?? 0) !== 0) throw new Error(`CONNACK return code ${String(p.returnCode)}`);
      completed++;
      wire.end();
      const timer = setTimeout(() => socket.destroy(), STEP_TIMEOUT_MS);
      await closed;
      clearTimeout(timer);
    } catch (e) {
      socket.destroy();
      throw e;
    }
  };

  const worker = async (slot: number): Promise<void> => {
    while (running) {
      try {
        await once(slot);
      } catch (e) {
        errors++;
        lastError = e instanceof Error ? e.message : String(e);
        await sleep(ERROR_BACKOFF_MS);
      }
    }
  };

  const workers = Array.from({ length: load.concurrency }, (_, slot) => worker(slot));
  await sleep(load.warmupMs);
  meter.start();
  const before = completed;
  const errorsBefore = errors;
  await sleep(load.durationMs);
  const after = completed;
  const reading = meter.stop();
  const windowErrors = errors - errorsBefore;
  running = false;
  await Promise.all(workers);
  if (lastError !== '') details['lastError'] = lastError;
  const operations = after - before;
  const value = operations / reading.wallSeconds;
  return {
    target: target.name,
    value,
    unit: 'connections/s',
    perServerCoreSecond: reading.serverCpuSeconds > 0 ? operations / reading.serverCpuSeconds : undefined,
    meter: reading,
    operations,
    errors: windowErrors,
    details,
  };
}
