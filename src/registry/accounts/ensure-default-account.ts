import type { Account } from '../entities.js';
import type { RegistryDeps } from '../registry-deps.js';
import { createAccount } from './create-account.js';

export const DEFAULT_ACCOUNT_NAME = 'default';

/** The account `certgate serve` creates on first start and reuses afterwards. */
export async function ensureDefaultAccount(
  deps: Pick<RegistryDeps, 'store' | 'clock'>,
): Promise<{ account: Account; created: boolean }> {
  const existing = await deps.store.getAccountByName(DEFAULT_ACCOUNT_NAME);
  if (existing) return { account: existing, created: false };
  return { account: await createAccount(deps, { name: DEFAULT_ACCOUNT_NAME }), created: true };
}
