import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../keys/index.js';
import type { Account } from '../registry/entities.js';
import type { DataDirLayout } from './data-dir-layout.js';

export function credentialsFileText(account: Pick<Account, 'accessKeyId' | 'secretAccessKey'>): string {
  return `[default]\naws_access_key_id = ${account.accessKeyId}\naws_secret_access_key = ${account.secretAccessKey}\n`;
}

export function configFileText(region: string): string {
  return `[default]\nregion = ${region}\n`;
}

async function writeIfChanged(file: string, text: string, mode: number): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current !== text) await writeFileAtomic(file, text, mode);
}

/**
 * DATA/credentials (profile `default`, mode 0600) and DATA/config (`[default]` region), so that
 * `AWS_SHARED_CREDENTIALS_FILE=DATA/credentials AWS_CONFIG_FILE=DATA/config aws iot ... --endpoint-url URL` works.
 */
export async function writeAwsProfileFiles(layout: DataDirLayout, account: Account, region: string): Promise<void> {
  await writeIfChanged(layout.credentials, credentialsFileText(account), 0o600);
  await writeIfChanged(layout.awsConfig, configFileText(region), 0o644);
}
