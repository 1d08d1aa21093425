import { Command, Option } from 'commander';
import { resolveAccountsConfig } from '../../main/config.js';
import type { RawSettings } from '../../main/config.js';
import type { CliIo } from '../cli-io.js';
import { settingOption } from '../setting-option.js';

interface CreateOptions extends RawSettings {
  name: string;
  accountId?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  json?: boolean;
}

function withLocation(cmd: Command): Command {
  return cmd.addOption(settingOption('dataDir')).addOption(settingOption('region')).addOption(settingOption('domain'));
}

function accountsCreateCommand(io: CliIo): Command {
  return withLocation(
    new Command('create')
      .description('create an account (works while `certgate serve` runs: the keys work at once)')
      .addOption(new Option('--name <name>', 'account name, unique (1-64 of A-Z a-z 0-9 . _ -)').makeOptionMandatory())
      .option('--account-id <id>', '12-digit account id (default: random)')
      .option('--access-key-id <key>', 'access key id (default: random AKIA...)')
      .option('--secret-access-key <secret>', 'secret access key (default: random)'),
  )
    .option('--json', 'print exactly one JSON object {accountId, accessKeyId, secretAccessKey, endpoint}')
    .action(async (opts: CreateOptions) => {
      const config = resolveAccountsConfig(opts, io.env, io.cwd);
      const { createAccountInDataDir } = await import('../../main/accounts.js');
      const { account, endpoint } = await createAccountInDataDir(config, {
        name: opts.name,
        ...(opts.accountId !== undefined ? { accountId: opts.accountId } : {}),
        ...(opts.accessKeyId !== undefined ? { accessKeyId: opts.accessKeyId } : {}),
        ...(opts.secretAccessKey !== undefined ? { secretAccessKey: opts.secretAccessKey } : {}),
      });
      if (opts.json === true) {
        const out = { accountId: account.accountId, accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey, endpoint };
        io.stdout(JSON.stringify(out) + '\n');
        return;
      }
      io.stdout(
        [
          `created account ${account.name}`,
          `  account id         ${account.accountId}`,
          `  access key id      ${account.accessKeyId}`,
          `  secret access key  ${account.secretAccessKey}`,
          `  data endpoint      ${endpoint}`,
          '',
        ].join('\n'),
      );
    });
}

function accountsListCommand(io: CliIo): Command {
  return withLocation(new Command('list').description('list accounts (without their secrets)'))
    .option('--json', 'print a JSON array')
    .action(async (opts: RawSettings & { json?: boolean }) => {
      const config = resolveAccountsConfig(opts, io.env, io.cwd);
      const { listAccountsInDataDir } = await import('../../main/accounts.js');
      const rows = await listAccountsInDataDir(config);
      if (opts.json === true) {
        const out = rows.map(({ account, endpoint }) => ({
          name: account.name,
          accountId: account.accountId,
          accessKeyId: account.accessKeyId,
          endpoint,
          createdAt: account.createdAt.toISOString(),
        }));
        io.stdout(JSON.stringify(out) + '\n');
        return;
      }
      const table = [['NAME', 'ACCOUNT ID', 'ACCESS KEY ID', 'DATA ENDPOINT'], ...rows.map(({ account, endpoint }) => [account.name, account.accountId, account.accessKeyId, endpoint])];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
      io.stdout(table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
    });
}

export function accountsCommand(io: CliIo): Command {
  return new Command('accounts')
    .description('manage accounts (each has its own keys, registry and data endpoint)')
    .addCommand(accountsCreateCommand(io))
    .addCommand(accountsListCommand(io));
}
