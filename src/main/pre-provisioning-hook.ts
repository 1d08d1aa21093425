import type { PreProvisioningHookInvoker, PreProvisioningHookInput, PreProvisioningHookResult } from '../provisioning/index.js';

/**
 * The pre-provisioning hook over HTTP: AWS calls a Lambda (pre-provisioning-hook.html); certgate POSTs the same
 * input object as JSON to the template's `targetArn` when it is an http(s) URL, and expects the Lambda's output
 * `{"allowProvisioning": bool, "parameterOverrides": {...}}`. Anything else — another kind of target, a timeout,
 * a non-2xx status, a redirect, a malformed or oversized answer — rejects, which the flow treats as a denial.
 */

/** AWS gives the hook Lambda 5 seconds. */
export const PRE_PROVISIONING_HOOK_TIMEOUT_MS = 5_000;
const MAX_ANSWER_BYTES = 64 * 1024;

export function createHttpPreProvisioningHook(opts: { timeoutMs?: number } = {}): PreProvisioningHookInvoker {
  const timeoutMs = opts.timeoutMs ?? PRE_PROVISIONING_HOOK_TIMEOUT_MS;
  return {
    async invoke(targetArn: string, input: PreProvisioningHookInput): Promise<PreProvisioningHookResult> {
      let url: URL;
      try {
        url = new URL(targetArn);
      } catch {
        throw new Error(`pre-provisioning hook target ${targetArn} is not an http(s) URL (certgate cannot invoke Lambda functions)`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new Error(`pre-provisioning hook target ${targetArn} is not an http(s) URL (certgate cannot invoke Lambda functions)`);
      }
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(input),
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await readBounded(response);
      if (!response.ok) throw new Error(`pre-provisioning hook answered HTTP ${response.status}`);
      return parseAnswer(text);
    },
  };
}

async function readBounded(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw new Error(`pre-provisioning hook answer is larger than ${MAX_ANSWER_BYTES} bytes`);
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new Error(`pre-provisioning hook answer is larger than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseAnswer(text: string): PreProvisioningHookResult {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error('pre-provisioning hook answer is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('pre-provisioning hook answer is not a JSON object');
  const answer = body as Record<string, unknown>;
  if (typeof answer['allowProvisioning'] !== 'boolean') throw new Error('pre-provisioning hook answer has no boolean allowProvisioning');
  const overrides: Record<string, string> = {};
  const raw = answer['parameterOverrides'];
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('pre-provisioning hook parameterOverrides is not an object');
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new Error(`pre-provisioning hook parameterOverrides.${k.slice(0, 64)} is not a string`);
      Object.defineProperty(overrides, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  return { allowProvisioning: answer['allowProvisioning'], parameterOverrides: overrides };
}
