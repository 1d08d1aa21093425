import { invalidRequest, resourceNotFound } from '../../kernel/index.js';
import type { Account } from '../entities.js';
import type { RegistryDeps } from '../registry-deps.js';

/** The account settings an operator may change (not its id, keys or endpoint). */
export interface AccountSettings {
  /** Strict CA mode: an INACTIVE CA also refuses, and disconnects, its device certificates (data-plane.md). */
  readonly strictCaMode?: boolean;
}

export interface UpdateAccountSettingsInput {
  /** The 12-digit account id, or the account name. */
  readonly account: string;
  readonly settings: AccountSettings;
}

const ACCOUNT_ID_RE = /^\d{12}$/;

/**
 * Changes an account's settings and returns the account as stored afterwards. The account is named
 * by id or by name (an id is tried first). Settings left out are kept.
 */
export async function updateAccountSettings(deps: Pick<RegistryDeps, 'store'>, input: UpdateAccountSettingsInput): Promise<Account> {
  if (Object.values(input.settings).every((v) => v === undefined)) throw invalidRequest('No account setting to change was given');
  return deps.store.transaction(async (tx) => {
    const found = (ACCOUNT_ID_RE.test(input.account) ? await tx.getAccount(input.account) : undefined) ?? (await tx.getAccountByName(input.account));
    if (!found) throw resourceNotFound(`No account with the id or name '${input.account}'`);
    const updated: Account = {
      ...found,
      ...(input.settings.strictCaMode !== undefined ? { strictCaMode: input.settings.strictCaMode } : {}),
    };
    if (!(await tx.updateAccount(updated))) throw resourceNotFound(`No account with the id or name '${input.account}'`);
    return updated;
  });
}
