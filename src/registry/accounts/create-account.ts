import { DuplicateKeyError } from '../ports.js';
import {
  invalidRequest,
  newAccessKeyId,
  newAccountId,
  newEndpointPrefix,
  newSecretAccessKey,
  resourceAlreadyExists,
} from '../../kernel/index.js';
import type { Account } from '../entities.js';
import type { RegistryDeps } from '../registry-deps.js';

export interface CreateAccountInput {
  readonly name: string;
  readonly accountId?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const ACCOUNT_ID_RE = /^\d{12}$/;
const ACCESS_KEY_RE = /^[A-Z0-9]{16,128}$/;

export async function createAccount(deps: Pick<RegistryDeps, 'store' | 'clock'>, input: CreateAccountInput): Promise<Account> {
  if (!NAME_RE.test(input.name)) throw invalidRequest(`Account name '${input.name}' must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  if (input.accountId !== undefined && !ACCOUNT_ID_RE.test(input.accountId)) {
    throw invalidRequest(`Account id '${input.accountId}' must be 12 digits`);
  }
  if (input.accessKeyId !== undefined && !ACCESS_KEY_RE.test(input.accessKeyId)) {
    throw invalidRequest('Access key id must be 16-128 characters of A-Z and 0-9');
  }
  if (input.secretAccessKey !== undefined && input.secretAccessKey.length < 16) {
    throw invalidRequest('Secret access key must be at least 16 characters');
  }
  return deps.store.transaction(async (tx) => {
    if (await tx.getAccountByName(input.name)) {
      throw resourceAlreadyExists(`Account named '${input.name}' already exists`, input.name, input.name);
    }
    let endpointPrefix = newEndpointPrefix();
    while (await tx.getAccountByEndpointPrefix(endpointPrefix)) endpointPrefix = newEndpointPrefix();
    const account: Account = {
      accountId: input.accountId ?? newAccountId(),
      name: input.name,
      accessKeyId: input.accessKeyId ?? newAccessKeyId(),
      secretAccessKey: input.secretAccessKey ?? newSecretAccessKey(),
      endpointPrefix,
      strictCaMode: false,
      createdAt: deps.clock.now(),
    };
    try {
      await tx.insertAccount(account);
    } catch (e) {
      if (e instanceof DuplicateKeyError) {
        throw resourceAlreadyExists('An account with this id or access key already exists', account.accountId, account.accountId);
      }
      throw e;
    }
    return account;
  });
}
