import {
  invalidRequest,
  iotArn,
  newThingId,
  resourceAlreadyExists,
  resourceNotFound,
  versionConflict,
} from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { Thing } from '../entities.js';
import { decodeNameToken, encodeNameToken } from '../pagination.js';
import type { ThingStore } from '../ports.js';
import type { RegistryDeps } from '../registry-deps.js';

/** Attributes a thing without a thing type may carry (AWS quota). */
export const MAX_ATTRIBUTES_WITHOUT_TYPE = 3;

export interface AttributePayload {
  readonly attributes?: Readonly<Record<string, string>> | undefined;
  readonly merge?: boolean | undefined;
}

export async function getThing(store: ThingStore, scope: Scope, thingName: string): Promise<Thing> {
  const thing = await store.getThing(scope, thingName);
  if (!thing) throw resourceNotFound(`Thing ${thingName} does not exist`);
  return thing;
}

function rejectThingTypes(thingTypeName: string | undefined, billingGroupName: string | undefined): void {
  if (thingTypeName !== undefined) throw resourceNotFound(`Thing type ${thingTypeName} does not exist (certgate does not serve thing types yet)`);
  if (billingGroupName !== undefined) {
    throw resourceNotFound(`Billing group ${billingGroupName} does not exist (certgate does not serve billing groups yet)`);
  }
}

function checkAttributes(attributes: Readonly<Record<string, string>>): void {
  if (Object.keys(attributes).length > MAX_ATTRIBUTES_WITHOUT_TYPE) {
    throw invalidRequest(`A thing without a thing type can have at most ${MAX_ATTRIBUTES_WITHOUT_TYPE} attributes`);
  }
}

/** CreateThing: idempotent for an identical thing; a different one with the same name → ResourceAlreadyExists. */
export async function createThing(
  deps: RegistryDeps,
  scope: Scope,
  input: { thingName: string; thingTypeName?: string | undefined; attributePayload?: AttributePayload | undefined; billingGroupName?: string | undefined },
): Promise<Thing> {
  rejectThingTypes(input.thingTypeName, input.billingGroupName);
  const attributes = Object.fromEntries(Object.entries(input.attributePayload?.attributes ?? {}).filter(([, v]) => v !== ''));
  checkAttributes(attributes);
  return deps.store.transaction(async (tx) => {
    const existing = await tx.getThing(scope, input.thingName);
    if (existing) {
      if (sameAttributes(existing.attributes, attributes)) return existing;
      throw resourceAlreadyExists(`Thing ${input.thingName} already exists with different attributes`, existing.thingId, iotArn(scope, 'thing', input.thingName));
    }
    const thing: Thing = {
      scope,
      thingName: input.thingName,
      thingId: newThingId(),
      thingTypeName: null,
      attributes,
      version: 1,
      billingGroupName: null,
      creationDate: deps.clock.now(),
    };
    await tx.insertThing(thing);
    return thing;
  });
}

function sameAttributes(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** UpdateThing: attributes replaced, or merged (an empty value removes the attribute); optimistic version check. */
export async function updateThing(
  deps: RegistryDeps,
  scope: Scope,
  input: {
    thingName: string;
    thingTypeName?: string | undefined;
    attributePayload?: AttributePayload | undefined;
    expectedVersion?: number | undefined;
    removeThingType?: boolean | undefined;
  },
): Promise<void> {
  rejectThingTypes(input.thingTypeName, undefined);
  await deps.store.transaction(async (tx) => {
    const thing = await getThing(tx, scope, input.thingName);
    if (input.expectedVersion !== undefined && input.expectedVersion !== thing.version) {
      throw versionConflict(`The thing's version is ${thing.version}, not the expected ${input.expectedVersion}`);
    }
    let attributes = thing.attributes;
    const payload = input.attributePayload;
    if (payload?.attributes) {
      const merged: Record<string, string> = payload.merge ? { ...thing.attributes } : {};
      for (const [k, v] of Object.entries(payload.attributes)) {
        if (v === '') delete merged[k];
        else merged[k] = v;
      }
      checkAttributes(merged);
      attributes = merged;
    }
    await tx.updateThing({ ...thing, attributes, version: thing.version + 1 });
  });
  await deps.events.emit({ type: 'thing-changed', scope, thingName: input.thingName });
}

export async function deleteThing(deps: RegistryDeps, scope: Scope, input: { thingName: string; expectedVersion?: number | undefined }): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const thing = await getThing(tx, scope, input.thingName);
    if (input.expectedVersion !== undefined && input.expectedVersion !== thing.version) {
      throw versionConflict(`The thing's version is ${thing.version}, not the expected ${input.expectedVersion}`);
    }
    if ((await tx.countThingPrincipals(scope, input.thingName)) > 0) {
      throw invalidRequest(`Cannot delete thing ${input.thingName}: it is still attached to one or more principals`);
    }
    await tx.deleteThing(scope, input.thingName);
  });
  await deps.events.emit({ type: 'thing-changed', scope, thingName: input.thingName });
}

export async function listThings(
  deps: RegistryDeps,
  scope: Scope,
  input: { maxResults?: number | undefined; nextToken?: string | undefined; attributeName?: string | undefined; attributeValue?: string | undefined; thingTypeName?: string | undefined },
): Promise<{ items: Thing[]; nextToken?: string }> {
  const limit = input.maxResults ?? 50;
  const after = input.nextToken ? decodeNameToken(input.nextToken) : undefined;
  const filter = {
    ...(input.attributeName !== undefined ? { attributeName: input.attributeName } : {}),
    ...(input.attributeValue !== undefined ? { attributeValue: input.attributeValue } : {}),
    ...(input.thingTypeName !== undefined ? { thingTypeName: input.thingTypeName } : {}),
  };
  const rows = await deps.store.listThings(scope, filter, limit + 1, after);
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextToken: encodeNameToken(items[items.length - 1]!.thingName) };
}
