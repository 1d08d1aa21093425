import type { Account } from '../entities.js';
import type { RegistryDeps } from '../registry-deps.js';

export async function authenticateAccessKey(deps: Pick<RegistryDeps, 'store'>, accessKeyId: string): Promise<Account | undefined> {
  return deps.store.getAccountByAccessKeyId(accessKeyId);
}
