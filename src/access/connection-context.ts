import { epochMs } from '../kernel/index.js';
import type { Clock } from '../kernel/index.js';
import type { RegistryLookups } from './registry-lookups.js';
import type { ConnectInfo, ConnectionPeer, DevicePrincipal } from './device-access.js';
import { routeServerName } from './server-name.js';

export type ContextValue = string | readonly string[] | boolean | number;

/** Things a certificate may be attached to: AWS allows one exclusive or many non-exclusive links. */
const PRINCIPAL_THINGS_READ = 1000;

/**
 * The policy-variable values of one connection (policies.md "Policy variables"), built once at
 * CONNECT: certificate values, iot:ClientId, iot:DomainName, aws:SourceIp, iot:ConnectAttributes and,
 * iot:Connection.Thing.* for the thing exclusively attached to the certificate, or else the attached thing the
 * client id names.
 * Afterwards aws:CurrentTime and aws:EpochTime follow the clock (see `ConnectionClock`), and the thing
 * values are replaced when the registry changes them (`thingValues`, ConnectionAuthorization.refresh).
 */
export async function connectionValues(
  lookups: Pick<RegistryLookups, 'principalThings' | 'thing'>,
  domain: string,
  principal: DevicePrincipal,
  connect: ConnectInfo,
  peer: ConnectionPeer,
): Promise<Record<string, ContextValue>> {
  const values: Record<string, ContextValue> = { ...principal.certificateValues };
  values['iot:ClientId'] = connect.clientId;
  const route = routeServerName(peer.serverName, domain);
  if (route.host !== undefined) values['iot:DomainName'] = route.host;
  values['aws:SourceIp'] = sourceIp(peer.remoteAddress);
  const attributes: string[] = [];
  if (!connect.cleanStart) attributes.push('PersistentConnect');
  if (connect.hasWill) attributes.push('LastWill');
  if (attributes.length > 0) values['iot:ConnectAttributes'] = attributes;

  Object.assign(values, await thingValues(lookups, principal, connect.clientId));
  values['aws:CurrentTime'] = '';
  values['aws:EpochTime'] = 0;
  return values;
}

/** The prefix of every value `thingValues` sets. */
export const THING_VALUE_PREFIX = 'iot:Connection.Thing.';

/**
 * iot:Connection.Thing.* (AWS "Thing policy variables", "exclusive thing"): with an EXCLUSIVE_THING
 * association the certificate's one thing is the connection's thing, whatever the client id; otherwise
 * the client id must name a thing attached to the certificate. IsAttached is always set, true or false.
 * Read at CONNECT and again when the registry announces a change (issue 10 #3).
 */
export async function thingValues(
  lookups: Pick<RegistryLookups, 'principalThings' | 'thing'>,
  principal: DevicePrincipal,
  clientId: string,
): Promise<Record<string, ContextValue>> {
  const values: Record<string, ContextValue> = { 'iot:Connection.Thing.IsAttached': false };
  const links = await lookups.principalThings(principal.scope, principal.certificateArn, PRINCIPAL_THINGS_READ);
  const exclusive = links.find((l) => l.thingPrincipalType === 'EXCLUSIVE_THING');
  const link = exclusive ?? (clientId !== '' ? links.find((l) => l.thingName === clientId) : undefined);
  if (link !== undefined) {
    const thing = await lookups.thing(principal.scope, link.thingName);
    if (thing) {
      values['iot:Connection.Thing.ThingName'] = thing.thingName;
      if (thing.thingTypeName !== null) values['iot:Connection.Thing.ThingTypeName'] = thing.thingTypeName;
      for (const [name, value] of Object.entries(thing.attributes)) values[`iot:Connection.Thing.Attributes[${name}]`] = value;
      values['iot:Connection.Thing.IsAttached'] = true;
    }
  }
  return values;
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, how a dual-stack socket reports IPv4) as plain IPv4. */
export function sourceIp(remoteAddress: string): string {
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice('::ffff:'.length) : remoteAddress;
}

/**
 * Keeps aws:CurrentTime / aws:EpochTime of a connection's values current: one Clock read per
 * evaluation, and new strings only when the millisecond changed.
 */
export class ConnectionClock {
  readonly #clock: Clock;
  readonly #values: Record<string, ContextValue>;
  #lastMs = Number.NaN;

  constructor(clock: Clock, values: Record<string, ContextValue>) {
    this.#clock = clock;
    this.#values = values;
  }

  tick(): void {
    const ms = epochMs(this.#clock);
    if (ms === this.#lastMs) return;
    this.#lastMs = ms;
    this.#values['aws:CurrentTime'] = new Date(ms).toISOString();
    this.#values['aws:EpochTime'] = Math.floor(ms / 1000);
  }
}
