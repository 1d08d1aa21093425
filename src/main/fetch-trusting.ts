import { request } from 'node:https';

const REQUEST_TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A `fetch` for HTTPS that trusts the given CA bundle (PEM) instead of the system store: Node 20's global fetch
 * takes no CA, and `certgate why` must reach an API whose certificate certgate's own roots issued.
 * Bounded: a timeout and a size limit on the answer.
 */
export function fetchTrusting(caPem: string): (url: string, init: { method: string; headers: Record<string, string> }) => Promise<Response> {
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: init.method, headers: init.headers, ca: caPem, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (typeof v === 'string') headers.set(k, v);
            else if (Array.isArray(v)) for (const one of v) headers.append(k, one);
          }
          const status = res.statusCode ?? 0;
          resolve(new Response(NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks), { status, headers }));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end();
    });
}
