import type { Scope } from '../kernel/index.js';

/**
 * Facts the registry announces after a write commits, for adapters that must react
 * (the broker disconnects sessions of a certificate that left ACTIVE). main/ wires listeners.
 */
export type RegistryEvent =
  | { readonly type: 'certificate-status-changed'; readonly scope: Scope; readonly certificateId: string; readonly status: string }
  | { readonly type: 'certificate-deleted'; readonly scope: Scope; readonly certificateId: string }
  | { readonly type: 'ca-certificate-status-changed'; readonly scope: Scope; readonly certificateId: string; readonly status: string }
  | { readonly type: 'policy-changed'; readonly scope: Scope; readonly policyName: string }
  | { readonly type: 'policy-attachment-changed'; readonly scope: Scope; readonly target: string }
  /** AttachThingPrincipal / DetachThingPrincipal: the things linked to this principal (a certificate ARN) changed. */
  | { readonly type: 'thing-principals-changed'; readonly scope: Scope; readonly principal: string }
  /** UpdateThing / DeleteThing: the thing's attributes (policy variables of connections using it) changed. */
  | { readonly type: 'thing-changed'; readonly scope: Scope; readonly thingName: string };

export interface RegistryEvents {
  /** Resolves when every listener has handled the event (use cases await it before answering). */
  emit(event: RegistryEvent): Promise<void>;
}

export type RegistryEventListener = (event: RegistryEvent) => void | Promise<void>;

/** A tiny fan-out; a listener that throws or rejects does not stop the others. */
export function createRegistryEvents(onListenerError: (e: unknown) => void = () => undefined): RegistryEvents & {
  subscribe(listener: RegistryEventListener): () => void;
} {
  const listeners = new Set<RegistryEventListener>();
  return {
    async emit(event) {
      const pending: Promise<void>[] = [];
      for (const l of listeners) {
        try {
          const r = l(event);
          if (r) pending.push(r.catch(onListenerError));
        } catch (e) {
          onListenerError(e);
        }
      }
      await Promise.all(pending);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
