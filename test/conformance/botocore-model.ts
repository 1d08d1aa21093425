import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface BotocoreShape {
  type: string;
  exception?: boolean;
  error?: { httpStatusCode?: number };
  members?: Record<string, { shape: string }>;
}

export interface BotocoreModel {
  operations: Record<string, { http: { method: string; requestUri: string }; errors?: { shape: string }[] }>;
  shapes: Record<string, BotocoreShape>;
}

/** The full botocore IoT model from the machine's Python (the contract's reference). */
export function loadBotocoreIotModel(): BotocoreModel {
  const dir = execFileSync('python3', ['-c', 'import botocore,os;print(os.path.dirname(botocore.__file__))'], { encoding: 'utf8' }).trim();
  const gz = readFileSync(join(dir, 'data', 'iot', '2015-05-28', 'service-2.json.gz'));
  return JSON.parse(gunzipSync(gz).toString('utf8')) as BotocoreModel;
}
