import { Command, Option } from 'commander';
import { resolveAccountsConfig } from '../../main/config.js';
import type { RawSettings } from '../../main/config.js';
import type { AccessRecordView } from '../../main/access-records-wire.js';
import type { CliIo } from '../cli-io.js';
import { settingOption } from '../setting-option.js';
import { StartupError } from '../../main/startup-error.js';

const DEFAULT_ENDPOINT_URL = 'http://127.0.0.1:9080';
const CERTIFICATE_ID_RE = /^[0-9a-fA-F]{64}$/;

interface WhyOptions extends Omit<RawSettings, 'region'> {
  region?: string;
  endpointUrl?: string;
  caBundle?: string;
  limit?: string;
  json?: boolean;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

async function readCaBundle(file: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new StartupError(`CA bundle: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
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
    .addOption(new Option('--endpoint-url <url>', `the control plane of the running server (default: endpoint_url of DATA/config, else ${DEFAULT_ENDPOINT_URL})`))
    .addOption(new Option('--ca-bundle <file>', 'PEM bundle to trust for an https endpoint (default: AWS_CA_BUNDLE and the ca_bundle of DATA/config)'))
    .addOption(new Option('--limit <n>', 'at most this many records (1-1000, default 20)'))
    .option('--json', 'print a JSON array of records')
    .action(async (id: string, opts: WhyOptions) => {
      const { dataDir } = resolveAccountsConfig({ dataDir: opts.dataDir }, io.env, io.cwd);
      const { fetchAccessRecords } = await import('../../main/access-records-client.js');
      const { readAwsProfileSettings } = await import('../../main/aws-profile-files.js');
      const { dataDirLayout } = await import('../../main/data-dir-layout.js');
      // The endpoint: flag > DATA/config's endpoint_url (what the running server wrote) > the default.
      const profile = await readAwsProfileSettings(dataDirLayout(dataDir));
      const endpointUrl = opts.endpointUrl ?? profile.endpoint_url ?? DEFAULT_ENDPOINT_URL;
      // Trust: --ca-bundle alone when given; else AWS_CA_BUNDLE and DATA/config's ca_bundle together (a machine-wide
      // AWS_CA_BUNDLE, e.g. a corporate proxy's, must not hide the data dir's own roots).
      const caBundleFiles = opts.caBundle !== undefined ? [opts.caBundle] : [nonEmpty(io.env['AWS_CA_BUNDLE']), profile.ca_bundle].filter((f): f is string => f !== undefined);
      const caBundlePem = caBundleFiles.length > 0 && endpointUrl.startsWith('https:') ? (await Promise.all(caBundleFiles.map(readCaBundle))).join('\n') : undefined;
      const limit = opts.limit === undefined ? undefined : Number(opts.limit);
      // As the AWS CLI does: keys in the environment win over the credentials file (another account's view).
      const envKey = io.env['AWS_ACCESS_KEY_ID'];
      const envSecret = io.env['AWS_SECRET_ACCESS_KEY'];
      const base = {
        dataDir,
        ...(envKey !== undefined && envKey !== '' && envSecret !== undefined && envSecret !== '' ? { credentials: { accessKeyId: envKey, secretAccessKey: envSecret } } : {}),
        endpointUrl,
        ...(caBundlePem !== undefined ? { caBundlePem } : {}),
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
