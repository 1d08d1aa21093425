// The loads bench/run compares, as perf-anchors.md defines them, with their durations for a full and a quick run.
import type { LoadSpec } from './load-spec.js';

export interface BenchTiming {
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly idleConnections: number;
  readonly settleMs: number;
  /** Undelivered-message windows (messages published, not yet delivered to every subscriber). */
  readonly qos0Window: number;
  readonly qos0FanOutWindow: number;
  readonly qos1Window: number;
}

/**
 * QoS 0 windows tolerate ~10–100 ms of round trip at the anchor rates (179k/s 1→1, 1.7k publishes/s 1→100).
 * QoS 1 stays small: Debian's mosquitto 2.0.11 stalls deep QoS 1 backlogs and its default
 * max_inflight_messages is 20 (certgate's is 100); the same windows are used for both servers.
 */
const WINDOWS = { qos0Window: 2_000, qos0FanOutWindow: 250, qos1Window: 16 } as const;

export const FULL_TIMING: BenchTiming = { warmupMs: 2_000, durationMs: 10_000, idleConnections: 2_000, settleMs: 2_000, ...WINDOWS };
export const QUICK_TIMING: BenchTiming = { warmupMs: 500, durationMs: 2_000, idleConnections: 500, settleMs: 1_000, ...WINDOWS };

/** Handshakes in flight for the connection loads (perf-anchors.md: 32). */
const CONNECTION_CONCURRENCY = 32;
const PAYLOAD_BYTES = 64;

export interface BenchLoad {
  readonly id: string;
  readonly label: string;
  /** Lower is better (memory) rather than higher (rates). */
  readonly lowerIsBetter: boolean;
  spec(t: BenchTiming): LoadSpec;
}

/** Idle memory first: right after start-up, before the other loads have grown (and left garbage in) the heap. */
export const BENCH_LOADS: readonly BenchLoad[] = [
  {
    id: 'idle-memory',
    label: 'KiB RSS per idle mTLS connection',
    lowerIsBetter: true,
    spec: (t) => ({ kind: 'idle-memory', connections: t.idleConnections, concurrency: CONNECTION_CONCURRENCY, settleMs: t.settleMs }),
  },
  {
    id: 'connect-tls13',
    label: 'new mTLS connections/s, EC, TLS 1.3',
    lowerIsBetter: false,
    spec: (t) => ({ kind: 'connections', tlsVersion: 'TLSv1.3', concurrency: CONNECTION_CONCURRENCY, warmupMs: t.warmupMs, durationMs: t.durationMs }),
  },
  {
    id: 'connect-tls12',
    label: 'new mTLS connections/s, EC, TLS 1.2',
    lowerIsBetter: false,
    spec: (t) => ({ kind: 'connections', tlsVersion: 'TLSv1.2', concurrency: CONNECTION_CONCURRENCY, warmupMs: t.warmupMs, durationMs: t.durationMs }),
  },
  {
    id: 'qos0-1to1',
    label: 'QoS 0 deliveries/s, 1→1',
    lowerIsBetter: false,
    spec: (t) => ({ kind: 'messages', qos: 0, subscribers: 1, window: t.qos0Window, payloadBytes: PAYLOAD_BYTES, warmupMs: t.warmupMs, durationMs: t.durationMs }),
  },
  {
    id: 'qos1-1to1',
    label: 'QoS 1 deliveries/s, 1→1',
    lowerIsBetter: false,
    spec: (t) => ({ kind: 'messages', qos: 1, subscribers: 1, window: t.qos1Window, payloadBytes: PAYLOAD_BYTES, warmupMs: t.warmupMs, durationMs: t.durationMs }),
  },
  {
    id: 'qos0-1to100',
    label: 'QoS 0 deliveries/s, 1→100',
    lowerIsBetter: false,
    spec: (t) => ({ kind: 'messages', qos: 0, subscribers: 100, window: t.qos0FanOutWindow, payloadBytes: PAYLOAD_BYTES, warmupMs: t.warmupMs, durationMs: t.durationMs }),
  },
  {
    id: 'qos1-1to100',
    label: 'QoS 1 deliveries/s, 1→100',
    lowerIsBetter: false,
    spec: (t) => ({ kind: 'messages', qos: 1, subscribers: 100, window: t.qos1Window, payloadBytes: PAYLOAD_BYTES, warmupMs: t.warmupMs, durationMs: t.durationMs }),
  },
];

/** The loads run under --cpu-prof with --profile (issue 3: hot paths get a profile before a guess). */
export const PROFILED_LOAD_IDS = ['connect-tls13', 'qos0-1to1'] as const;
