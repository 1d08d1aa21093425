import { randomHex, resourceNotFound } from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { RegistryDeps } from '../registry-deps.js';

/** GetRegistrationCode: one 64-hex code per account and region, stable until DeleteRegistrationCode. */
export async function getRegistrationCode(deps: RegistryDeps, scope: Scope): Promise<string> {
  return deps.store.transaction(async (tx) => {
    const existing = await tx.getRegistrationCode(scope);
    if (existing) return existing;
    const code = randomHex(32);
    await tx.putRegistrationCode(scope, code);
    return code;
  });
}

export async function deleteRegistrationCode(deps: RegistryDeps, scope: Scope): Promise<void> {
  if (!(await deps.store.deleteRegistrationCode(scope))) throw resourceNotFound('There is no registration code for this account and region');
}
