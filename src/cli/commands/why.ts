import { Command, Option } from 'commander';
import { resolveAccountsConfig } from '../../main/config.js';
import type { RawSettings } from '../../main/config.js';
import type { AccessRecordView } from '../../main/access-records-wire.js';
import type { CliIo } from '../cli-io.js';
import { settingOption } from '../setting-option.js';

const DEFAULT_ENDPOINT_URL = 'http://127.0.0.1:9080';
const CERTIFICATE_ID_RE = /^[0-9a-fA-F]{64}$/;

interface WhyOptions extends Omit<RawSettings, 'region'> {
  region?: string;
  endpointUrl?: string;
  limit?: string;
  json?: boolean;
}

export function formatAccessRecords(records: readonly AccessRecordView[]): string {
  if (records.length === 0) return 'no access records (the server keeps recent ones in memory only: since its last start)\n';
  const lines: string[] = [];
  for (const r of records) {
    const resource = r.resource !== undefined ? `  ${r.resource}` : '';
    lines.push(`${r.at}  ${r.kind.padEnd(9)}  ${r.outcome.toUpperCase().padEnd(7)}${resource}`);
    lines.push(`    client id       ${r.clientId ?? '-'}`);
    lines.push(`    certificate id  ${r.certificateId ?? '-'}`);
    if (r.accountId !== undefined) lines.push(`    account         ${r.accountId}${r.region !== undefined ? ` (${r.region})` : ''}`);
    if (r.remoteAddress !== undefined) lines.push(`    from            ${r.remoteAddress}`);
    for (const reason of r.reasons) lines.push(`    because         ${reason}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * `certgate why <clientId|certificateId>`: the data plane's recent decisions about a device, newest first —
 * the explanation AWS does not give. Asks the running server, signing with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
 * when both are set (another account's records), else with DATA/credentials. Each account sees only its own
 * records; refusals placed in no account (an unregistered certificate …) only the operator's default account
 * (DATA/credentials), asked by certificate id.
 */
export function whyCommand(io: CliIo): Command {
  return new Command('why')
    .description('explain recent connection and authorization outcomes of a device (asks the running server)')
    .argument('<id>', 'MQTT client id, or certificate id (64 hex digits)')
    .addOption(settingOption('dataDir'))
    .addOption(new Option('--region <region>', 'region of the account to ask about (default: the [default] region of DATA/config)'))
    .addOption(new Option('--endpoint-url <url>', `the control plane of the running server (default: ${DEFAULT_ENDPOINT_URL})`))
    .addOption(new Option('--limit <n>', 'at most this many records (1-1000, default 20)'))
    .option('--json', 'print a JSON array of records')
    .action(async (id: string, opts: WhyOptions) => {
      const { dataDir } = resolveAccountsConfig({ dataDir: opts.dataDir }, io.env, io.cwd);
      const { fetchAccessRecords } = await import('../../main/access-records-client.js');
      const limit = opts.limit === undefined ? undefined : Number(opts.limit);
      // As the AWS CLI does: keys in the environment win over the credentials file (another account's view).
      const envKey = io.env['AWS_ACCESS_KEY_ID'];
      const envSecret = io.env['AWS_SECRET_ACCESS_KEY'];
      const base = {
        dataDir,
        ...(envKey !== undefined && envKey !== '' && envSecret !== undefined && envSecret !== '' ? { credentials: { accessKeyId: envKey, secretAccessKey: envSecret } } : {}),
        endpointUrl: opts.endpointUrl ?? DEFAULT_ENDPOINT_URL,
        ...(opts.region !== undefined ? { region: opts.region } : {}),
        ...(limit !== undefined ? { limit } : {}),
      };
      let records: AccessRecordView[];
      if (CERTIFICATE_ID_RE.test(id)) {
        records = await fetchAccessRecords({ ...base, certificateId: id.toLowerCase() });
        // A 64-hex client id is possible too.
        if (records.length === 0) records = await fetchAccessRecords({ ...base, clientId: id });
      } else {
        records = await fetchAccessRecords({ ...base, clientId: id });
      }
      io.stdout(opts.json === true ? JSON.stringify(records) + '\n' : formatAccessRecords(records));
    });
}
