import { systemClock } from '../kernel/index.js';
import { createAccount } from '../registry/accounts/create-account.js';
import type { CreateAccountInput } from '../registry/accounts/create-account.js';
import { updateAccountSettings } from '../registry/accounts/update-account-settings.js';
import type { UpdateAccountSettingsInput } from '../registry/accounts/update-account-settings.js';
import { endpointAddress } from '../registry/accounts/data-endpoint.js';
import type { Account } from '../registry/entities.js';
import type { AccountsConfig } from './config.js';
import { openRegistryStore } from './open-registry-store.js';

export interface AccountSummary {
  readonly account: Account;
  /** iot:Data-ATS host name in the configured region and domain. */
  readonly endpoint: string;
}

/** `certgate accounts create`: opens the data dir's store (safe while `serve` runs), creates, closes. */
export async function createAccountInDataDir(config: AccountsConfig, input: CreateAccountInput): Promise<AccountSummary> {
  const store = await openRegistryStore(config.dataDir);
  try {
    const account = await createAccount({ store, clock: systemClock }, input);
    return { account, endpoint: endpointAddress(account, config.region, config.domain) };
  } finally {
    await store.close();
  }
}

export async function listAccountsInDataDir(config: AccountsConfig): Promise<AccountSummary[]> {
  const store = await openRegistryStore(config.dataDir);
  try {
    const accounts = await store.listAccounts();
    return accounts.map((account) => ({ account, endpoint: endpointAddress(account, config.region, config.domain) }));
  } finally {
    await store.close();
  }
}

/**
 * `certgate accounts update`: opens the data dir's store, changes the account's settings, closes. A running
 * server reads account settings through its registry cache, so it applies the change within that cache's TTL.
 */
export async function updateAccountInDataDir(config: AccountsConfig, input: UpdateAccountSettingsInput): Promise<AccountSummary> {
  const store = await openRegistryStore(config.dataDir);
  try {
    const account = await updateAccountSettings({ store }, input);
    return { account, endpoint: endpointAddress(account, config.region, config.domain) };
  } finally {
    await store.close();
  }
}
