// What the orchestrator (run-bench.ts) asks of one load-generator process, and what it answers.
import type { MeterReading } from './proc-stats.js';

/** A device's credentials on disk (PEM files). */
export interface DeviceFiles {
  readonly certPath: string;
  readonly keyPath: string;
}

/** One MQTT-over-mutual-TLS server under test. */
export interface TargetSpec {
  readonly name: 'certgate' | 'mosquitto';
  readonly host: string;
  readonly port: number;
  /** The roots the generator verifies the server chain against (it always verifies, for both servers). */
  readonly caPath: string;
  readonly devices: readonly DeviceFiles[];
  /** The server process whose /proc CPU and RSS are measured. */
  readonly pid: number;
}

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export type LoadSpec =
  | {
      readonly kind: 'connections';
      readonly tlsVersion: TlsVersion;
      /** Handshakes in flight. */
      readonly concurrency: number;
      readonly warmupMs: number;
      readonly durationMs: number;
    }
  | {
      readonly kind: 'messages';
      readonly qos: 0 | 1;
      readonly subscribers: number;
      /** Published messages not yet delivered to every subscriber: the publisher waits above this. */
      readonly window: number;
      readonly payloadBytes: number;
      readonly warmupMs: number;
      readonly durationMs: number;
    }
  | {
      readonly kind: 'idle-memory';
      readonly connections: number;
      /** Handshakes in flight while opening them. */
      readonly concurrency: number;
      /** Wait after the last CONNACK before reading RSS. */
      readonly settleMs: number;
    };

export interface GeneratorJob {
  readonly target: TargetSpec;
  readonly load: LoadSpec;
  /** A unique run id, used in client ids and topics. */
  readonly runId: string;
}

export interface LoadResult {
  readonly target: TargetSpec['name'];
  /** The figure: connections/s, deliveries/s, or KiB per idle connection. */
  readonly value: number;
  readonly unit: string;
  /** value per server CPU-second (rates only). */
  readonly perServerCoreSecond: number | undefined;
  readonly meter: MeterReading;
  /** Completed operations (connections or deliveries) in the window; idle connections for memory. */
  readonly operations: number;
  readonly errors: number;
  /** Load-specific facts: negotiated TLS version/cipher/server key, lost messages, RSS before/after … */
  readonly details: Record<string, string | number>;
}

/** The generator prints exactly one line with this prefix, then exits. */
export const RESULT_PREFIX = 'BENCH_RESULT ';
