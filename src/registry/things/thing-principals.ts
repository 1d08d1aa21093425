import { invalidRequest } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { ThingPrincipal, ThingPrincipalType } from '../entities.js';
import { decodeNameToken, encodeNameToken } from '../pagination.js';
import type { RegistryDeps } from '../registry-deps.js';
import { getThing } from './manage-things.js';
import { resolveAttachableCertificatePrincipal, resolveCertificatePrincipal } from './principal-arn.js';

export async function attachThingPrincipal(
  deps: RegistryDeps,
  scope: Scope,
  input: { thingName: string; principal: string; thingPrincipalType?: ThingPrincipalType | undefined },
): Promise<void> {
  const principal = await deps.store.transaction(async (tx) => {
    await getThing(tx, scope, input.thingName);
    const principal = await resolveAttachableCertificatePrincipal(tx, scope, input.principal);
    const type = input.thingPrincipalType ?? 'NON_EXCLUSIVE_THING';
    const others = (await tx.listPrincipalThings(scope, principal, 1000)).filter((l) => l.thingName !== input.thingName);
    if (type === 'EXCLUSIVE_THING' && others.length > 0) {
      throw invalidRequest('The principal is attached to other things; EXCLUSIVE_THING requires it to be attached to this thing only');
    }
    if (others.some((l) => l.thingPrincipalType === 'EXCLUSIVE_THING')) {
      throw invalidRequest(`The principal is exclusively attached to thing ${others.find((l) => l.thingPrincipalType === 'EXCLUSIVE_THING')!.thingName}`);
    }
    await tx.putThingPrincipal({ scope, thingName: input.thingName, principal, thingPrincipalType: type, createdAt: deps.clock.now() });
    return principal;
  });
  await deps.events.emit({ type: 'thing-principals-changed', scope, principal });
}

/** DetachThingPrincipal: idempotent once the thing exists. */
export async function detachThingPrincipal(deps: RegistryDeps, scope: Scope, input: { thingName: string; principal: string }): Promise<void> {
  await deps.store.transaction(async (tx) => {
    await getThing(tx, scope, input.thingName);
    await tx.deleteThingPrincipal(scope, input.thingName, input.principal);
  });
  await deps.events.emit({ type: 'thing-principals-changed', scope, principal: input.principal });
}

interface PageIn {
  readonly maxResults?: number | undefined;
  readonly nextToken?: string | undefined;
}

function page(rows: ThingPrincipal[], limit: number, key: (l: ThingPrincipal) => string): { items: ThingPrincipal[]; nextToken?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextToken: encodeNameToken(key(items[items.length - 1]!)) };
}

export async function listThingPrincipals(deps: RegistryDeps, scope: Scope, input: PageIn & { thingName: string }) {
  await getThing(deps.store, scope, input.thingName);
  const limit = input.maxResults ?? 25;
  const after = input.nextToken ? decodeNameToken(input.nextToken) : undefined;
  return page(await deps.store.listThingPrincipals(scope, input.thingName, limit + 1, after), limit, (l) => l.principal);
}

export async function listPrincipalThings(deps: RegistryDeps, scope: Scope, input: PageIn & { principal: string }) {
  const principal = await resolveCertificatePrincipal(deps.store, scope, input.principal);
  const limit = input.maxResults ?? 25;
  const after = input.nextToken ? decodeNameToken(input.nextToken) : undefined;
  return page(await deps.store.listPrincipalThings(scope, principal, limit + 1, after), limit, (l) => l.thingName);
}
