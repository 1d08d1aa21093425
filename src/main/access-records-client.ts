import { readFile } from 'node:fs/promises';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AccessRecordView } from './access-records-wire.js';
import { ACCESS_RECORDS_PATH } from './access-records-wire.js';
import { AccessRecordsRequestError } from './access-records-request-error.js';
import { dataDirLayout } from './data-dir-layout.js';
import { fetchTrusting } from './fetch-trusting.js';
import { StartupError } from './startup-error.js';

export interface AccessRecordsQuery {
  readonly dataDir: string;
  /** The control plane, e.g. http://127.0.0.1:9080. */
  readonly endpointUrl: string;
  /** Default: the `[default]` region of DATA/config. */
  readonly region?: string;
  readonly clientId?: string;
  readonly certificateId?: string;
  readonly limit?: number;
  /** Keys to sign with (e.g. from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); default: DATA/credentials [default]. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** PEM bundle to trust for an https endpoint (e.g. DATA/ca-bundle.pem); default: the system's CAs. */
  readonly caBundlePem?: string;
}

function iniSection(text: string, wanted: string): Record<string, string> {
  let section = '';
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) section = header[1]!.trim();
    const kv = /^\s*([A-Za-z_]+)\s*=\s*(\S+)\s*$/.exec(line);
    if (kv && section === wanted) values[kv[1]!] = kv[2]!;
  }
  return values;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StartupError(`${file} not found: is --data-dir the directory of \`certgate serve\`? (${what})`);
    throw e;
  }
}

/**
 * `certgate why`'s request: signs with the given keys or the default account's (DATA/credentials), in the region
 * given or DATA/config's,
 * signs `GET /certgate/access-records` with SigV4 (service iot) and returns the records, newest first.
 */
export async function fetchAccessRecords(q: AccessRecordsQuery): Promise<AccessRecordView[]> {
  const layout = dataDirLayout(q.dataDir);
  const creds = q.credentials !== undefined ? undefined : iniSection(await readText(layout.credentials, 'access keys'), 'default');
  const accessKeyId = q.credentials?.accessKeyId ?? creds?.['aws_access_key_id'];
  const secretAccessKey = q.credentials?.secretAccessKey ?? creds?.['aws_secret_access_key'];
  if (accessKeyId === undefined || secretAccessKey === undefined) throw new StartupError(`${layout.credentials} has no [default] access keys`);
  const region = q.region ?? iniSection(await readText(layout.awsConfig, 'region'), 'default')['region'];
  if (region === undefined) throw new StartupError(`${layout.awsConfig} has no [default] region; pass --region`);

  let url: URL;
  try {
    url = new URL(q.endpointUrl);
  } catch {
    throw new StartupError(`--endpoint-url: '${q.endpointUrl}' is not a URL`);
  }
  const query: Record<string, string> = {};
  if (q.clientId !== undefined) query['clientId'] = q.clientId;
  if (q.certificateId !== undefined) query['certificateId'] = q.certificateId;
  if (q.limit !== undefined) query['limit'] = String(q.limit);
  const request = new HttpRequest({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port !== '' ? { port: Number(url.port) } : {}),
    path: ACCESS_RECORDS_PATH,
    query,
    headers: { host: url.host },
  });
  const signer = new SignatureV4({ service: 'iot', region, credentials: { accessKeyId, secretAccessKey }, sha256: Sha256 });
  const signed = await signer.sign(request);
  const search = new URLSearchParams(query).toString().replace(/\+/g, '%20');
  const target = `${url.protocol}//${url.host}${ACCESS_RECORDS_PATH}${search === '' ? '' : `?${search}`}`;
  let response: Response;
  try {
    response = await (q.caBundlePem !== undefined ? fetchTrusting(q.caBundlePem) : fetch)(target, { method: 'GET', headers: signed.headers as Record<string, string> });
  } catch (e) {
    throw new StartupError(`cannot reach certgate at ${q.endpointUrl}: is \`certgate serve\` running there? (${(e as Error).message})`, { cause: e });
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new AccessRecordsRequestError(response.headers.get('x-amzn-errortype') ?? `HTTP ${response.status}`, message);
  }
  return (JSON.parse(text) as { records: AccessRecordView[] }).records;
}
