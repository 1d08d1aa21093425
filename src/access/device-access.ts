import type { Scope } from '../kernel/index.js';
import type { Decision } from '../policy/index.js';

/**
 * The data plane's questions, answered by the core: "may this TLS peer be a device of some account?"
 * (admission) and "may this connection connect / publish / subscribe / receive?" (authorization).
 * Refusals are values with reasons, never exceptions, so every one can be logged and explained.
 */

/** What the TLS listener knows about a peer once the handshake is done. */
export interface ConnectionPeer {
  /** DER of the leaf client certificate (undefined: the client sent none). */
  readonly certificateDer: Uint8Array | undefined;
  /** DER of further certificates the client sent in its chain (JITR needs the CA), leaf excluded. */
  readonly chainDer: readonly Uint8Array[];
  /** The SNI host name, when sent. */
  readonly serverName: string | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** 'mqtt' (8883) or 'alpn-mqtt' (443 with x-amzn-mqtt-ca). */
  readonly listener: string;
}

export const ADMISSION_REFUSALS = [
  'NO_CERTIFICATE',
  'MALFORMED_CERTIFICATE',
  'UNKNOWN_ENDPOINT',
  'SNI_REQUIRED',
  'UNKNOWN_CERTIFICATE',
  'CERTIFICATE_NOT_ACTIVE',
  'CERTIFICATE_EXPIRED',
  'CERTIFICATE_NOT_YET_VALID',
  'CA_NOT_ACTIVE',
] as const;
export type AdmissionRefusal = (typeof ADMISSION_REFUSALS)[number];

/** An admitted device: a registered, ACTIVE, in-date certificate placed in one account and region. */
export interface DevicePrincipal {
  readonly scope: Scope;
  readonly certificateId: string;
  readonly certificateArn: string;
  /** Policy variables from the certificate (iot:Certificate.*), computed once at admission. */
  readonly certificateValues: Readonly<Record<string, string | readonly string[]>>;
}

export type AdmissionResult =
  | { readonly admitted: true; readonly principal: DevicePrincipal }
  | {
      readonly admitted: false;
      readonly refusal: AdmissionRefusal;
      /** Human explanation, e.g. "certificate 3f2a… is INACTIVE in account 123456789012 (us-east-1)". */
      readonly reason: string;
      readonly certificateId?: string;
      readonly accountId?: string;
      readonly region?: string;
      /**
       * Just-in-time registration (provisioning.md): work to do once the refused connection's MQTT CONNECT
       * arrives (a bare TLS handshake registers nothing). The connection is refused either way.
       */
      readonly onConnect?: ConnectFollowUp;
    };

/** A message the service itself publishes into an account's topic namespace (e.g. `$aws/events/...`). */
export interface ServiceMessage {
  readonly scope: Scope;
  readonly topic: string;
  /** JSON text. */
  readonly payload: string;
}

/** What a follow-up did: reasons for the access log, and the service messages to publish. */
export interface FollowUpOutcome {
  readonly reasons: readonly string[];
  readonly messages: readonly ServiceMessage[];
  /**
   * The CA whose auto-registration ran: the outcome is filed under its certificate id too, so
   * `certgate why <caCertificateId>` shows what the CA registered or provisioned, and why it failed.
   */
  readonly caCertificateId?: string;
}

/** Runs when the refused connection's CONNECT arrives; never rejects (failures are outcomes with reasons). */
export type ConnectFollowUp = () => Promise<FollowUpOutcome>;

/** What MQTT CONNECT adds to the picture (iot:ClientId, iot:ConnectAttributes …). */
export interface ConnectInfo {
  readonly clientId: string;
  readonly cleanStart: boolean;
  readonly hasWill: boolean;
  readonly protocolVersion: 4 | 5;
}

/**
 * One connection's authorization, opened after CONNECT arrives. Evaluation is synchronous and cheap
 * (compiled policies cached); the answers follow the current policies (a policy change applies to the
 * next action evaluated).
 */
export interface ConnectionAuthorization {
  connect(): Decision;
  /** iot:Publish on topic/<topic>, plus iot:RetainPublish when retain. */
  publish(topic: string, retain: boolean): Decision;
  /** iot:Subscribe on topicfilter/<filter>. */
  subscribe(filter: string): Decision;
  /** iot:Receive on topic/<topic>. */
  receive(topic: string): Decision;
  /**
   * Reads again what the connection's values take from the registry (iot:Connection.Thing.*: the thing
   * attached, its attributes and type), so that a detach, UpdateThing or DeleteThing governs the next
   * action. Optional: an authorization without registry-derived values has nothing to refresh.
   */
  refresh?(): Promise<void>;
  /** The thing the connection's iot:Connection.Thing.* values describe now (undefined: none). */
  thingName?(): string | undefined;
}

/** The core service the broker calls. Implemented in access/, wired by main/. */
export interface DeviceAccess {
  admit(peer: ConnectionPeer): Promise<AdmissionResult>;
  authorize(principal: DevicePrincipal, connect: ConnectInfo, peer: ConnectionPeer): Promise<ConnectionAuthorization>;
}

/** One authorization outcome, kept for `certgate why` and the API. */
export interface AccessRecord {
  readonly at: Date;
  readonly kind: 'admission' | 'connect' | 'publish' | 'subscribe' | 'receive' | 'disconnect';
  readonly outcome: 'allowed' | 'denied';
  readonly accountId?: string;
  readonly region?: string;
  readonly certificateId?: string;
  readonly clientId?: string;
  /** Topic, filter or client resource concerned. */
  readonly resource?: string;
  readonly remoteAddress?: string;
  /** Which rule or statement decided, or "no statement allowed it". */
  readonly reasons: readonly string[];
}

/**
 * Which records `recent` returns: one account's (`accountId`), or with `accountId: null` those placed in no
 * account; without `accountId`, every account's (for the operator and tests, never for a tenant).
 */
export interface AccessLogFilter {
  readonly accountId?: string | null;
  readonly clientId?: string;
  readonly certificateId?: string;
  readonly limit?: number;
}

/** Recent access records, kept per account and queryable by client id or certificate id (bounded memory). */
export interface AccessLog {
  record(entry: AccessRecord): void;
  recent(filter: AccessLogFilter): AccessRecord[];
}
