import { decodeUriComponentStrict } from '../parse-raw-url.js';

/**
 * An operation's `requestUri` template (`/policies/{policyName}/version/{policyVersionId}`):
 * its fastify route path and the position of each label. Labels are whole path segments in the
 * IoT model; greedy labels (`{key+}`) match the rest of the path.
 */
export interface RequestUriTemplate {
  readonly template: string;
  readonly fastifyPath: string;
  readonly labels: readonly { readonly name: string; readonly segment: number; readonly greedy: boolean }[];
}

const LABEL = /^\{([A-Za-z0-9_]+)(\+?)\}$/;

export function parseRequestUri(requestUri: string): RequestUriTemplate {
  // A literal query part of a requestUri (`/x?y`) does not take part in routing.
  const path = requestUri.split('?')[0] ?? requestUri;
  const segments = path.split('/');
  const labels: { name: string; segment: number; greedy: boolean }[] = [];
  const routed = segments.map((seg, i) => {
    const m = LABEL.exec(seg);
    if (!m) {
      if (seg.includes('{') || seg.includes(':') || seg.includes('*')) {
        throw new Error(`unsupported requestUri segment '${seg}' in ${requestUri}`);
      }
      return seg;
    }
    const name = m[1] ?? '';
    const greedy = m[2] === '+';
    if (greedy && i !== segments.length - 1) throw new Error(`greedy label must be last in ${requestUri}`);
    labels.push({ name, segment: i, greedy });
    return greedy ? '*' : `:${name}`;
  });
  return { template: requestUri, fastifyPath: routed.join('/'), labels };
}

/**
 * The labels of a raw (still percent-encoded) path that the router matched to `t`, decoded.
 * Taken from the raw path rather than the router's params so `%2F` inside an ARN stays inside
 * its label.
 */
export function extractUriLabels(t: RequestUriTemplate, rawPath: string): Record<string, string> {
  const segments = rawPath.split('/');
  const out: Record<string, string> = {};
  for (const label of t.labels) {
    const raw = label.greedy ? segments.slice(label.segment).join('/') : (segments[label.segment] ?? '');
    out[label.name] = decodeUriComponentStrict(raw);
  }
  return out;
}
