import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../keys/index.js';
import type { Account } from '../registry/entities.js';
import type { DataDirLayout } from './data-dir-layout.js';

export function credentialsFileText(account: Pick<Account, 'accessKeyId' | 'secretAccessKey'>): string {
  return `[default]\naws_access_key_id = ${account.accessKeyId}\naws_secret_access_key = ${account.secretAccessKey}\n`;
}

/** What a client of the API needs besides its keys: the region, and when known the endpoint and the CA bundle. */
export interface AwsProfileSettings {
  readonly region: string;
  /** `endpoint_url` (AWS CLI ≥ 1.29 / v2.13, boto3, the JS SDK v3 with AWS_CONFIG_FILE): the running API. */
  readonly endpointUrl?: string;
  /** `ca_bundle`: the PEM file the API's HTTPS certificate chains to. */
  readonly caBundle?: string;
}

export function configFileText(profile: string | AwsProfileSettings): string {
  const p = typeof profile === 'string' ? { region: profile } : profile;
  return (
    `[default]\nregion = ${p.region}\n` +
    (p.endpointUrl !== undefined ? `endpoint_url = ${p.endpointUrl}\n` : '') +
    (p.caBundle !== undefined ? `ca_bundle = ${p.caBundle}\n` : '')
  );
}

/** The `[default]` section of an AWS config or credentials file, as key → value. */
export function iniDefaultSection(text: string): Record<string, string> {
  let section = '';
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) section = header[1]!.trim();
    const kv = /^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (kv && section === 'default') values[kv[1]!] = kv[2]!;
  }
  return values;
}

/** DATA/config's `[default]` settings (empty when the file is missing). */
export async function readAwsProfileSettings(layout: DataDirLayout): Promise<Partial<Record<'region' | 'endpoint_url' | 'ca_bundle', string>>> {
  const text = await readFile(layout.awsConfig, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  return iniDefaultSection(text);
}

/** DATA/ca-bundle.pem: certgate's RSA and ECC roots, one PEM file. */
export async function writeCaBundle(layout: DataDirLayout, rootsPem: readonly string[]): Promise<void> {
  await writeIfChanged(layout.caBundle, rootsPem.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join(''), 0o644);
}

async function writeIfChanged(file: string, text: string, mode: number): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current !== text) await writeFileAtomic(file, text, mode);
}

/**
 * DATA/credentials (profile `default`, mode 0600) and DATA/config (`[default]` region, endpoint_url, ca_bundle), so that
 * `AWS_SHARED_CREDENTIALS_FILE=DATA/credentials AWS_CONFIG_FILE=DATA/config aws iot ... --endpoint-url URL` works.
 */
export async function writeAwsProfileFiles(layout: DataDirLayout, account: Account, profile: string | AwsProfileSettings): Promise<void> {
  await writeIfChanged(layout.credentials, credentialsFileText(account), 0o600);
  await writeIfChanged(layout.awsConfig, configFileText(profile), 0o644);
}
