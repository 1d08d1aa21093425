// Load: deliveries per second, one publisher → `subscribers` subscribers on one topic, QoS 0 or 1, 64-byte
// payloads. The publisher keeps at most `window` messages not yet delivered to every subscriber (and, at
// QoS 1, not yet PUBACKed), so the figure is a sustainable rate, not queue growth. Publishes go out in
// batches of pre-encoded packets; subscribers PUBACK (QoS 1) once per received chunk.
import mqtt from 'mqtt-packet';
import type { GeneratorJob, LoadResult, LoadSpec } from '../load-spec.js';
import { connectMqtt, deviceContexts, inParallel, subscribe } from '../mqtt-over-tls.js';
import type { MqttWire } from '../mqtt-over-tls.js';
import { Meter } from '../proc-stats.js';

const STEP_TIMEOUT_MS = 10_000;
const SETUP_CONCURRENCY = 16;
const MAX_BATCH = 256;
/** No delivery for this long while messages are outstanding: count them lost and carry on. */
const STALL_MS = 1_000;
const DRAIN_WAIT_MS = 3_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Offset of the 2-byte packet identifier in an encoded PUBLISH (fixed header, then topic length + topic). */
function packetIdOffset(encoded: Buffer, topicBytes: number): number {
  let i = 1;
  while ((encoded[i]! & 0x80) !== 0) i++;
  return i + 1 + 2 + topicBytes;
}

export async function runMessageRate(job: GeneratorJob, load: Extract<LoadSpec, { kind: 'messages' }>): Promise<LoadResult> {
  const { target } = job;
  const contexts = deviceContexts(target, 'TLSv1.3');
  const ctxFor = (i: number) => contexts[i % contexts.length]!;
  const topic = `bench/${job.runId}/q${load.qos}x${load.subscribers}`;
  const S = load.subscribers;

  const subs: MqttWire[] = await inParallel(S, SETUP_CONCURRENCY, async (i) => {
    const wire = await connectMqtt(target, ctxFor(i), `sub-${job.runId}-${i}`, STEP_TIMEOUT_MS);
    await subscribe(wire, topic, load.qos, STEP_TIMEOUT_MS);
    return wire;
  });
  const pub = await connectMqtt(target, ctxFor(S), `pub-${job.runId}`, STEP_TIMEOUT_MS);

  const template = mqtt.generate({ cmd: 'publish', topic, payload: Buffer.alloc(load.payloadBytes, 0x61), qos: load.qos, retain: false, dup: false, ...(load.qos === 1 ? { messageId: 1 } : {}) });
  const len = template.length;
  const idAt = packetIdOffset(template, Buffer.byteLength(topic));
  const batch = Buffer.allocUnsafe(len * MAX_BATCH);
  for (let i = 0; i < MAX_BATCH; i++) template.copy(batch, i * len);

  let running = true;
  let sent = 0;
  let nextId = 1;
  let pubacked = 0;
  let received = 0;
  /** Deliveries written off by the stall detector. */
  let lost = 0;
  let stalls = 0;
  let errors = 0;
  let progressAt = Date.now();

  const outstanding = (): number => {
    // Deliveries written off by the stall detector may still arrive late: never count below zero.
    const undelivered = Math.max(0, Math.ceil((sent * S - received - lost) / S));
    return load.qos === 1 ? Math.max(undelivered, sent - pubacked) : undelivered;
  };

  const topUp = (): void => {
    if (!running || pub.closed || pub.socket.writableNeedDrain) return;
    const n = Math.min(load.window - outstanding(), MAX_BATCH);
    if (n <= 0) return;
    if (load.qos === 1) {
      for (let i = 0; i < n; i++) {
        batch.writeUInt16BE(nextId, i * len + idAt);
        nextId = nextId === 0xffff ? 1 : nextId + 1;
      }
      // write() copies nothing: hand it its own bytes, the batch buffer is rewritten on the next top-up.
      pub.socket.write(Buffer.from(batch.subarray(0, n * len)));
    } else {
      pub.socket.write(batch.subarray(0, n * len));
    }
    sent += n;
  };

  pub.onPacket = (p) => {
    if (p.cmd === 'puback') pubacked++;
  };
  pub.onChunk = topUp;
  pub.socket.on('drain', topUp);
  pub.socket.once('close', () => {
    if (running) errors++;
  });

  for (const sub of subs) {
    const acks: number[] = [];
    sub.onPacket = (p) => {
      if (p.cmd !== 'publish') return;
      received++;
      if (p.qos === 1 && p.messageId !== undefined) acks.push(p.messageId);
    };
    sub.onChunk = () => {
      progressAt = Date.now();
      if (acks.length > 0) {
        const out = Buffer.allocUnsafe(4 * acks.length);
        for (let i = 0; i < acks.length; i++) {
          out[4 * i] = 0x40;
          out[4 * i + 1] = 0x02;
          out.writeUInt16BE(acks[i]!, 4 * i + 2);
        }
        acks.length = 0;
        sub.socket.write(out);
      }
      topUp();
    };
    sub.socket.once('close', () => {
      if (running) errors++;
    });
  }

  const stallTimer = setInterval(() => {
    if (!running) return;
    if (Date.now() - progressAt > STALL_MS && outstanding() > 0) {
      stalls++;
      lost = sent * S - received;
      pubacked = Math.max(pubacked, sent);
      progressAt = Date.now();
      topUp();
    }
  }, STALL_MS / 4);

  topUp();
  await sleep(load.warmupMs);
  const meter = new Meter(target.pid);
  meter.start();
  const before = received;
  const lostBefore = lost;
  const stallsBefore = stalls;
  await sleep(load.durationMs);
  const after = received;
  const reading = meter.stop();
  const windowLost = lost - lostBefore;
  const windowStalls = stalls - stallsBefore;
  running = false;
  clearInterval(stallTimer);

  // Let what is in flight arrive (bounded), then say goodbye.
  const drainUntil = Date.now() + DRAIN_WAIT_MS;
  while (sent * S - received - lost > 0 && Date.now() < drainUntil && !pub.closed) await sleep(20);
  for (const w of [pub, ...subs]) w.end();
  const operations = after - before;
  return {
    target: target.name,
    value: operations / reading.wallSeconds,
    unit: 'deliveries/s',
    perServerCoreSecond: reading.serverCpuSeconds > 0 ? operations / reading.serverCpuSeconds : undefined,
    meter: reading,
    operations,
    errors,
    details: {
      qos: load.qos,
      subscribers: S,
      window: load.window,
      payloadBytes: load.payloadBytes,
      publishedPerSecondInWindow: Math.round(operations / S / reading.wallSeconds),
      lostDeliveriesInWindow: windowLost,
      stallsInWindow: windowStalls,
    },
  };
}
