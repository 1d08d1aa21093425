import { Command, Option } from 'commander';
import { resolveAccountsConfig } from '../../main/config.js';
import type { RawSettings } from '../../main/config.js';
import type { Account } from '../../registry/index.js';
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

interface UpdateOptions extends RawSettings {
  strictCaMode?: 'on' | 'off';
  json?: boolean;
}

function accountsUpdateCommand(io: CliIo): Command {
  return withLocation(
    new Command('update')
      .description('change an account\'s settings')
      .argument('<account>', 'the account id (12 digits) or name')
      .addOption(
        new Option('--strict-ca-mode <mode>', 'on: an INACTIVE CA also refuses, and disconnects, its device certificates; off (default, as AWS): they keep working')
          .choices(['on', 'off']),
      )
      .addHelpText(
        'after',
        [
          '',
          'Works while `certgate serve` runs. A running server admits new connections on account settings read through',
          'its registry cache, so they follow the change within 30 s; UpdateCACertificate INACTIVE reads the setting',
          'at that moment to decide whether to disconnect the CA\'s devices.',
          '',
        ].join('\n'),
      ),
  )
    .option('--json', 'print the account as one JSON object (without its secret)')
    .action(async (account: string, opts: UpdateOptions) => {
      const config = resolveAccountsConfig(opts, io.env, io.cwd);
      const { updateAccountInDataDir } = await import('../../main/accounts.js');
      const { account: updated, endpoint } = await updateAccountInDataDir(config, {
        account,
        settings: { ...(opts.strictCaMode !== undefined ? { strictCaMode: opts.strictCaMode === 'on' } : {}) },
      });
      if (opts.json === true) {
        io.stdout(JSON.stringify(accountJson(updated, endpoint)) + '\n');
        return;
      }
      io.stdout(`updated account ${updated.name} (${updated.accountId}): strict CA mode ${onOff(updated.strictCaMode)}\n`);
    });
}

const onOff = (b: boolean): 'on' | 'off' => (b ? 'on' : 'off');

/** An account as `accounts list --json` and `accounts update --json` print it: never the secret. */
function accountJson(account: Account, endpoint: string): Record<string, string | boolean> {
  return {
    name: account.name,
    accountId: account.accountId,
    accessKeyId: account.accessKeyId,
    endpoint,
    strictCaMode: account.strictCaMode,
    createdAt: account.createdAt.toISOString(),
  };
}

function accountsListCommand(io: CliIo): Command {
  return withLocation(new Command('list').description('list accounts (without their secrets)'))
    .option('--json', 'print a JSON array')
    .action(async (opts: RawSettings & { json?: boolean }) => {
      const config = resolveAccountsConfig(opts, io.env, io.cwd);
      const { listAccountsInDataDir } = await import('../../main/accounts.js');
      const rows = await listAccountsInDataDir(config);
      if (opts.json === true) {
        const out = rows.map(({ account, endpoint }) => accountJson(account, endpoint));
        io.stdout(JSON.stringify(out) + '\n');
        return;
      }
      const table = [
        ['NAME', 'ACCOUNT ID', 'ACCESS KEY ID', 'DATA ENDPOINT', 'STRICT CA MODE'],
        ...rows.map(({ account, endpoint }) => [account.name, account.accountId, account.accessKeyId, endpoint, onOff(account.strictCaMode)]),
      ];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
      io.stdout(table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
    });
}

export function accountsCommand(io: CliIo): Command {
  return new Command('accounts')
    .description('manage accounts (each has its own keys, registry and data endpoint)')
    .addCommand(accountsCreateCommand(io))
    .addCommand(accountsListCommand(io))
    .addCommand(accountsUpdateCommand(io));
}
