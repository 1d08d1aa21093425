import { iotArn } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import {
  attachThingPrincipal,
  createThing,
  deleteThing,
  detachThingPrincipal,
  getThing,
  listPrincipalThings,
  listThingPrincipals,
  listThings,
  updateThing,
} from '../../registry/index.js';
import type { RegistryDeps, Thing, ThingPrincipalType } from '../../registry/index.js';
import type { OperationTable } from '../create-api-server.js';
import { opt, optBool, optNum, optObject, optStringMap, req } from './input-fields.js';
import type { Input } from './input-fields.js';

function attributePayloadOf(input: Input) {
  const p = optObject(input, 'attributePayload');
  if (!p) return undefined;
  return { attributes: optStringMap(p, 'attributes'), merge: optBool(p, 'merge') };
}

const tokenOut = (t: string | undefined) => (t ? { nextToken: t } : {});

export function thingOperations(deps: RegistryDeps, scopeOf: (caller: { accountId: string; region: string }) => Scope): OperationTable {
  const arnOf = (t: Thing) => iotArn(t.scope, 'thing', t.thingName);
  return {
    CreateThing: async (caller, input) => {
      const t = await createThing(deps, scopeOf(caller), {
        thingName: req(input, 'thingName'),
        thingTypeName: opt(input, 'thingTypeName'),
        attributePayload: attributePayloadOf(input),
        billingGroupName: opt(input, 'billingGroupName'),
      });
      return { thingName: t.thingName, thingArn: arnOf(t), thingId: t.thingId };
    },
    DescribeThing: async (caller, input) => {
      const t = await getThing(deps.store, scopeOf(caller), req(input, 'thingName'));
      return {
        defaultClientId: t.thingName,
        thingName: t.thingName,
        thingId: t.thingId,
        thingArn: arnOf(t),
        ...(t.thingTypeName ? { thingTypeName: t.thingTypeName } : {}),
        attributes: t.attributes,
        version: t.version,
      };
    },
    UpdateThing: async (caller, input) => {
      await updateThing(deps, scopeOf(caller), {
        thingName: req(input, 'thingName'),
        thingTypeName: opt(input, 'thingTypeName'),
        attributePayload: attributePayloadOf(input),
        expectedVersion: optNum(input, 'expectedVersion'),
        removeThingType: optBool(input, 'removeThingType'),
      });
      return {};
    },
    DeleteThing: async (caller, input) => {
      await deleteThing(deps, scopeOf(caller), { thingName: req(input, 'thingName'), expectedVersion: optNum(input, 'expectedVersion') });
      return {};
    },
    ListThings: async (caller, input) => {
      const page = await listThings(deps, scopeOf(caller), {
        maxResults: optNum(input, 'maxResults'),
        nextToken: opt(input, 'nextToken'),
        attributeName: opt(input, 'attributeName'),
        attributeValue: opt(input, 'attributeValue'),
        thingTypeName: opt(input, 'thingTypeName'),
      });
      return {
        things: page.items.map((t) => ({
          thingName: t.thingName,
          ...(t.thingTypeName ? { thingTypeName: t.thingTypeName } : {}),
          thingArn: arnOf(t),
          attributes: t.attributes,
          version: t.version,
        })),
        ...tokenOut(page.nextToken),
      };
    },
    AttachThingPrincipal: async (caller, input) => {
      await attachThingPrincipal(deps, scopeOf(caller), {
        thingName: req(input, 'thingName'),
        principal: req(input, 'principal'),
        thingPrincipalType: opt(input, 'thingPrincipalType') as ThingPrincipalType | undefined,
      });
      return {};
    },
    DetachThingPrincipal: async (caller, input) => {
      await detachThingPrincipal(deps, scopeOf(caller), { thingName: req(input, 'thingName'), principal: req(input, 'principal') });
      return {};
    },
    ListThingPrincipals: async (caller, input) => {
      const page = await listThingPrincipals(deps, scopeOf(caller), {
        thingName: req(input, 'thingName'),
        maxResults: optNum(input, 'maxResults'),
        nextToken: opt(input, 'nextToken'),
      });
      return { principals: page.items.map((l) => l.principal), ...tokenOut(page.nextToken) };
    },
    ListPrincipalThings: async (caller, input) => {
      const page = await listPrincipalThings(deps, scopeOf(caller), {
        principal: req(input, 'principal'),
        maxResults: optNum(input, 'maxResults'),
        nextToken: opt(input, 'nextToken'),
      });
      return { things: page.items.map((l) => l.thingName), ...tokenOut(page.nextToken) };
    },
  };
}
