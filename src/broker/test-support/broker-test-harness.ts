import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { AccessLog, AccessRecord, ConnectionAuthorization, ConnectionPeer, DeviceAccess, DevicePrincipal } from '../../access/index.js';
import { iotArn } from '../../kernel/index.js';
import type { Clock, Logger } from '../../kernel/index.js';
import { compilePolicy, evaluate, parsePolicyDocument } from '../../policy/index.js';
import type { CompiledPolicy, Decision } from '../../policy/index.js';
import { createBroker } from '../create-broker.js';
import type { Broker } from '../create-broker.js';

/**
 * Test support for the broker's unit tests (not a test file): a plain-TCP server on 127.0.0.1 per
 * principal, whose connections go to `broker.handle()` with that principal's peer, and a small
 * DeviceAccess that evaluates real compiled policies (src/policy). The real access module is tested elsewhere.
 */
export interface TestPrincipal {
  readonly name: string;
  readonly accountId: string;
  readonly region?: string;
  /** Policy documents; absent: the principal is refused at admission. */
  readonly policies?: readonly object[];
  /** Test seam: this step of the principal's ConnectionAuthorization throws (a defect in the access core). */
  readonly throwIn?: 'connect' | 'publish';
}

export const ALLOW_ALL = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }],
};

export interface Harness {
  readonly broker: Broker;
  readonly accessLog: AccessLog & { readonly records: AccessRecord[] };
  readonly warnings: object[];
  readonly clock: Clock & { advance(ms: number): void };
  url(name: string): string;
  /**
   * From now on, peers of `name` are placed in this account instead (same certificate id), or refused
   * (`undefined` restores the original answer): what a transfer or a revocation does to admission.
   */
  placeElsewhere(name: string, accountId: string | undefined): void;
  /** The next admissions of `name` wait until the returned function is called (an admission in progress). */
  holdAdmission(name: string): () => void;
  /** From now on, admitting `name` rejects (`false` restores): an access core failure. */
  failAdmission(name: string, fail: boolean): void;
  /** Every peer admission was asked about, latest last. */
  readonly admittedPeers: ConnectionPeer[];
  /** The next authorizations (CONNECT) of `name` wait until the returned function is called. */
  holdAuthorization(name: string): () => void;
  /** Client ids whose CONNECT was authorized (asked; the answer may be held), in order. */
  readonly authorizing: string[];
  /** Client ids whose thing values were read again (ConnectionAuthorization.refresh), in order. */
  readonly refreshed: string[];
  connect(name: string, options: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

export async function startHarness(principals: readonly TestPrincipal[]): Promise<Harness> {
  let offset = 0;
  const clock = { now: () => new Date(Date.now() + offset), advance: (ms: number) => void (offset += ms) };
  const records: AccessRecord[] = [];
  const accessLog = {
    records,
    record: (e: AccessRecord) => void records.unshift(e),
    recent: (f: { clientId?: string; certificateId?: string; limit?: number }) =>
      records.filter((r) => (f.clientId === undefined || r.clientId === f.clientId) && (f.certificateId === undefined || r.certificateId === f.certificateId)).slice(0, f.limit ?? 100),
  };
  const warnings: object[] = [];
  const logger: Logger = { info: () => undefined, debug: () => undefined, error: (o) => void warnings.push(o), warn: (o) => void warnings.push(o) };
  const byName = new Map(principals.map((p) => [p.name, p]));
  const compiled = new Map<string, CompiledPolicy[]>(
    principals.map((p) => [p.name, (p.policies ?? []).map((d, i) => compilePolicy(`${p.name}-${i}`, '1', parsePolicyDocument(JSON.stringify(d))))]),
  );
  const placed = new Map<string, string>();
  const held = new Map<string, Promise<void>>();
  const failing = new Set<string>();
  const admittedPeers: ConnectionPeer[] = [];
  const heldAuthorizations = new Map<string, Promise<void>>();
  const refreshed: string[] = [];
  const authorizing: string[] = [];
  const hold = (map: Map<string, Promise<void>>, name: string): (() => void) => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    map.set(name, held);
    return () => {
      if (map.get(name) === held) map.delete(name);
      release();
    };
  };
  const access: DeviceAccess = {
    async admit(peer) {
      admittedPeers.push(peer);
      const hold = held.get(peer.serverName ?? '');
      if (hold !== undefined) await hold;
      if (failing.has(peer.serverName ?? '')) throw new Error(`test: admission of ${peer.serverName ?? '?'} failed`);
      const found = byName.get(peer.serverName ?? '');
      const p = found !== undefined && placed.has(found.name) ? { ...found, accountId: placed.get(found.name)! } : found;
      if (p === undefined || p.policies === undefined) {
        return { admitted: false, refusal: 'UNKNOWN_CERTIFICATE', reason: `test: certificate of ${peer.serverName ?? '?'} is not registered`, certificateId: `cert-${peer.serverName ?? ''}` };
      }
      const principal: DevicePrincipal = {
        scope: { accountId: p.accountId, region: p.region ?? 'us-east-1' },
        certificateId: `cert-${p.name}`,
        certificateArn: `arn:aws:iot:${p.region ?? 'us-east-1'}:${p.accountId}:cert/cert-${p.name}`,
        certificateValues: {},
      };
      return { admitted: true, principal };
    },
    async authorize(principal, connect) {
      const name = principal.certificateId.slice('cert-'.length);
      authorizing.push(connect.clientId);
      const held = heldAuthorizations.get(name);
      if (held !== undefined) await held;
      const policies = compiled.get(name) ?? [];
      const context = { values: { 'iot:ClientId': connect.clientId } };
      const ask = (action: string, type: 'client' | 'topic' | 'topicfilter', id: string): Decision =>
        evaluate(policies, { action, resource: iotArn(principal.scope, type, id), context });
      const throwIn = byName.get(name)?.throwIn;
      const auth: ConnectionAuthorization = {
        connect: () => {
          if (throwIn === 'connect') throw new Error('test: connect() failed');
          return ask('iot:Connect', 'client', connect.clientId);
        },
        publish: (topic, retain) => {
          if (throwIn === 'publish') throw new Error('test: publish() failed');
          const d = ask('iot:Publish', 'topic', topic);
          if (!retain || d.effect !== 'Allow') return d;
          return ask('iot:RetainPublish', 'topic', topic);
        },
        subscribe: (filter) => ask('iot:Subscribe', 'topicfilter', filter),
        receive: (topic) => ask('iot:Receive', 'topic', topic),
        refresh: () => {
          refreshed.push(connect.clientId);
          return Promise.resolve();
        },
      };
      return auth;
    },
  };
  const broker = createBroker({ access, accessLog, clock, logger });
  const servers = new Map<string, Server>();
  const sockets = new Set<Socket>();
  const clients = new Set<MqttClient>();
  for (const p of [...principals, { name: 'unknown', accountId: '000000000000' }]) {
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      broker.handle(socket, {
        certificateDer: new Uint8Array([1]),
        chainDer: [new Uint8Array(4096)],
        serverName: p.name,
        remoteAddress: socket.remoteAddress ?? '127.0.0.1',
        remotePort: socket.remotePort ?? 0,
        listener: 'mqtt',
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.set(p.name, server);
  }
  const url = (name: string): string => `mqtt://127.0.0.1:${(servers.get(name)!.address() as AddressInfo).port}`;
  return {
    broker,
    accessLog,
    warnings,
    clock,
    url,
    placeElsewhere(name, accountId) {
      if (accountId === undefined) placed.delete(name);
      else placed.set(name, accountId);
    },
    holdAdmission: (name) => hold(held, name),
    holdAuthorization: (name) => hold(heldAuthorizations, name),
    refreshed,
    authorizing,
    failAdmission(name, fail) {
      if (fail) failing.add(name);
      else failing.delete(name);
    },
    admittedPeers,
    async connect(name, options) {
      const client = await mqtt.connectAsync(url(name), { reconnectPeriod: 0, connectTimeout: 5000, ...options });
      clients.add(client);
      return client;
    },
    async close() {
      for (const c of clients) c.end(true);
      await broker.close();
      for (const s of sockets) s.destroy();
      await Promise.all([...servers.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly packet: mqtt.IPublishPacket;
}

/** Collects a client's messages; `next()` waits (bounded) for the next one. */
export function inbox(client: MqttClient): { next(timeoutMs?: number): Promise<Received>; readonly all: Received[] } {
  const all: Received[] = [];
  const waiting: ((r: Received) => void)[] = [];
  let read = 0;
  client.on('message', (topic, payload, packet) => {
    const r = { topic, payload: payload.toString(), packet };
    all.push(r);
    const w = waiting.shift();
    if (w !== undefined) {
      read++;
      w(r);
    }
  });
  return {
    all,
    next(timeoutMs = 3000) {
      if (read < all.length) return Promise.resolve(all[read++]!);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no message in time')), timeoutMs);
        waiting.push((r) => {
          clearTimeout(t);
          resolve(r);
        });
      });
    },
  };
}

/** Resolves when the client's connection closes (bounded). */
export function closedOf(client: MqttClient, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!client.connected && client.disconnected) return resolve();
    const t = setTimeout(() => reject(new Error('not closed in time')), timeoutMs);
    client.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
