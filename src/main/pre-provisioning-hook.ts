import { lookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { AccessRecord } from '../access/index.js';
import type { Scope } from '../kernel/index.js';
import type { PreProvisioningHookInvoker, PreProvisioningHookInput, PreProvisioningHookResult } from '../provisioning/index.js';

/**
 * The pre-provisioning hook over HTTP: AWS calls a Lambda (pre-provisioning-hook.html); certgate POSTs the same
 * input object as JSON to the template's `targetArn` when it is an http(s) URL, and expects the Lambda's output
 * `{"allowProvisioning": bool, "parameterOverrides": {...}}`. Anything else — another kind of target, a timeout,
 * a non-2xx status, a redirect, a malformed or oversized answer — rejects, which the flow treats as a denial.
 *
 * Templates are written by tenants, so the hook is a request certgate makes on a tenant's behalf (issue 10 #13,
 * SSRF). It goes only where an entry of --provisioning-hook-allow covers the URL's scheme, host, port and path
 * for the template's own account (an entry may name an account; one that does not is shared by every account,
 * and an answer's parameterOverrides reach the device that asked — so a hook listed for one tenant must not
 * answer another's). Paths match by whole segments, and a URL whose path a server could read differently (dot
 * segments, backslashes, encoded slashes, dots or percent signs) is refused. The name is resolved,
 * every candidate address checked, and the connection made to the checked address itself (a second DNS
 * answer cannot send it elsewhere); an address that is not globally routable (loopback, private, link-local,
 * cloud metadata, unique-local, …) is used only when that address is listed itself, as an IP literal. No
 * redirect is followed; the whole call is bounded in time and the answer in size. Why a call was refused or
 * failed goes to the access log (`certgate why`); the device is told only that the hook failed.
 */

/** AWS gives the hook Lambda 5 seconds. */
export const PRE_PROVISIONING_HOOK_TIMEOUT_MS = 5_000;
export const PRE_PROVISIONING_HOOK_MAX_ANSWER_BYTES = 64 * 1024;
export const PROVISIONING_HOOK_ALLOW_FLAG = '--provisioning-hook-allow';

/**
 * One entry of --provisioning-hook-allow, `[<account-id>=][http(s)://]host[:port][/path-prefix]`. Each part
 * narrows the entry; a part left out means "any": an entry without an account is shared by every account,
 * which is why the service warns about such entries at startup.
 */
export interface HookAllowEntry {
  /** Only templates of this account may call it; undefined: the templates of every account. */
  readonly accountId?: string;
  /** Only this scheme; undefined: http and https. */
  readonly scheme?: 'http' | 'https';
  /** As a URL hostname: lower case, IPv6 in brackets. */
  readonly hostname: string;
  /** undefined: the scheme's default port only (80 for http, 443 for https). */
  readonly port?: number;
  /** Only this path and the paths below it, segment by segment (`/a` covers `/a` and `/a/b`, not `/ab`); undefined: any path. */
  readonly pathPrefix?: string;
  /** The entry is an IP literal: that address may be used even when it is not globally routable. */
  readonly isAddress: boolean;
}

export const HOOK_ALLOW_SYNTAX = '[<account-id>=][http(s)://]host[:port][/path-prefix]';

const ENTRY = /^(?:(\d{12})=)?(?:(https?):\/\/)?(\[[0-9A-Fa-f:.]+\]|[^\s:/?#@[\]\\=]+)(?::(\d{1,5}))?(\/[^?#]*)?$/i;

/**
 * Parses `entry,...`, each `[<account-id>=][http(s)://]host[:port][/path-prefix]` (a bare IPv6 address may
 * stand without brackets when nothing follows it). Throws an Error naming the bad entry.
 */
export function parseHookAllowList(text: string): HookAllowEntry[] {
  const out: HookAllowEntry[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const bad = (why?: string): Error => new Error(`'${raw}' is not ${HOOK_ALLOW_SYNTAX}${why !== undefined ? ` (${why})` : ''} (an IPv6 address as [addr]:port)`);
    const account = /^(\d{12})=(.*)$/.exec(raw);
    const rest = account?.[2] ?? raw;
    const m = ENTRY.exec(isIP(rest) === 6 ? `${account !== null ? `${account[1]}=` : ''}[${rest}]` : raw);
    if (m === null) throw bad();
    const port = m[4] === undefined ? undefined : Number(m[4]);
    let hostname: string | undefined;
    try {
      hostname = m[3] === undefined ? undefined : new URL(`http://${m[3]}/`).hostname;
    } catch {
      hostname = undefined;
    }
    if (hostname === undefined || hostname === '' || (port !== undefined && (port < 1 || port > 65535))) throw bad();
    let pathPrefix: string | undefined;
    if (m[5] !== undefined) {
      const problem = pathProblem(m[5]) ?? (m[5].includes('//') ? 'an empty path segment' : undefined);
      if (problem !== undefined) throw bad(`its path has ${problem}`);
      if (new URL(`http://h${m[5]}`).pathname !== m[5]) throw bad('its path has characters that must be percent-encoded');
      const trimmed = m[5].replace(/\/+$/, '');
      pathPrefix = trimmed === '' ? undefined : trimmed;
    }
    const scheme = m[2]?.toLowerCase() as 'http' | 'https' | undefined;
    out.push({
      ...(m[1] !== undefined ? { accountId: m[1] } : {}),
      ...(scheme !== undefined ? { scheme } : {}),
      hostname,
      ...(port !== undefined ? { port } : {}),
      ...(pathPrefix !== undefined ? { pathPrefix } : {}),
      isAddress: isIP(unbracket(hostname)) !== 0,
    });
  }
  return out;
}

/** An entry as written in --provisioning-hook-allow (normalized). */
export function formatHookAllowEntry(e: HookAllowEntry): string {
  return `${e.accountId !== undefined ? `${e.accountId}=` : ''}${e.scheme !== undefined ? `${e.scheme}://` : ''}${e.hostname}${e.port !== undefined ? `:${e.port}` : ''}${e.pathPrefix ?? ''}`;
}

/**
 * What makes a URL path ambiguous between certgate and the server behind the hook, which may decode or
 * normalize it differently: dot segments (plain, percent-encoded or with `;parameters`), backslashes (a slash to some servers),
 * encoded slashes, backslashes, dots and percent signs (decoded once more, they become any of those).
 */
function pathProblem(path: string): string | undefined {
  // `..;x` too: some servers drop a segment's `;parameters` before resolving dot segments.
  if (path.split(/[/\\]/).some((seg) => /^(?:\.|%2e){1,2}(?:;.*)?$/i.test(seg))) return 'a dot segment (. or ..)';
  if (path.includes('\\')) return 'a backslash';
  if (/%(?:2f|5c)/i.test(path)) return 'an encoded slash or backslash (%2F, %5C)';
  if (/%(?:2e|25)/i.test(path)) return 'an encoded dot or percent sign (%2E, %25)';
  return undefined;
}

function unbracket(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

/**
 * Addresses that are not globally routable (IANA special-purpose registries), where internal services and
 * cloud metadata live: 169.254.169.254 is link-local, fd00:ec2::254 unique-local. IPv6 forms that embed an
 * IPv4 address (mapped, NAT64, 6to4, Teredo) are in it wholesale.
 */
const NOT_GLOBAL: readonly [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'a "this network" address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier-grade NAT) address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address (cloud metadata lives at 169.254.169.254)'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.0.0.0', 24, 'ipv4', 'an IETF protocol address'],
  ['192.0.2.0', 24, 'ipv4', 'a documentation address'],
  ['192.88.99.0', 24, 'ipv4', 'a 6to4 relay address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking address'],
  ['198.51.100.0', 24, 'ipv4', 'a documentation address'],
  ['203.0.113.0', 24, 'ipv4', 'a documentation address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 96, 'ipv6', 'an unspecified, loopback or IPv4-compatible address'],
  ['::ffff:0:0', 96, 'ipv6', 'an IPv4-mapped address'],
  ['64:ff9b::', 96, 'ipv6', 'a NAT64 address'],
  ['64:ff9b:1::', 48, 'ipv6', 'a local NAT64 address'],
  ['100::', 64, 'ipv6', 'a discard address'],
  ['2001::', 23, 'ipv6', 'an IETF protocol (Teredo, …) address'],
  ['2001:db8::', 32, 'ipv6', 'a documentation address'],
  ['2002::', 16, 'ipv6', 'a 6to4 address'],
  ['fc00::', 7, 'ipv6', 'a unique-local (private) address (AWS metadata: fd00:ec2::254)'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['fec0::', 10, 'ipv6', 'a site-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];
const notGlobalLists = NOT_GLOBAL.map(([net, prefix, type, what]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return { list, type, what };
});

/** Why an address is not globally routable, or undefined when it is. */
export function nonGlobalAddressKind(address: string): string | undefined {
  const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  return notGlobalLists.find((n) => n.type === type && n.list.check(address, type))?.what;
}

export type HookResolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

const systemResolver: HookResolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

export interface HttpPreProvisioningHookOptions {
  /** --provisioning-hook-allow: the hosts a hook may call. Empty: no hook URL is called. */
  readonly allow: readonly HookAllowEntry[];
  readonly timeoutMs?: number;
  readonly maxAnswerBytes?: number;
  /** DNS, for tests; the system resolver otherwise. */
  readonly resolve?: HookResolver;
  /** Where refusals and failures are recorded for `certgate why`. */
  readonly record?: (entry: AccessRecord) => void;
  readonly now?: () => Date;
}

export function createHttpPreProvisioningHook(opts: HttpPreProvisioningHookOptions): PreProvisioningHookInvoker {
  const timeoutMs = opts.timeoutMs ?? PRE_PROVISIONING_HOOK_TIMEOUT_MS;
  const maxBytes = opts.maxAnswerBytes ?? PRE_PROVISIONING_HOOK_MAX_ANSWER_BYTES;
  const resolveHost = opts.resolve ?? systemResolver;
  const now = opts.now ?? (() => new Date());

  const record = (scope: Scope, input: PreProvisioningHookInput, why: string): void => {
    if (opts.record === undefined) return;
    opts.record({
      at: now(),
      kind: 'publish',
      outcome: 'denied',
      region: scope.region,
      accountId: scope.accountId,
      certificateId: input.claimCertificateId,
      clientId: input.clientId,
      resource: input.templateArn,
      reasons: [why],
    });
  };

  return {
    async invoke(targetArn: string, input: PreProvisioningHookInput, scope: Scope): Promise<PreProvisioningHookResult> {
      let answer: PreProvisioningHookResult;
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), timeoutMs);
      try {
        answer = await call(targetArn, input, scope.accountId, deadline.signal);
      } catch (e) {
        const why = deadline.signal.aborted
          ? `pre-provisioning hook ${shown(targetArn)} did not answer within ${timeoutMs} ms`
          : e instanceof Error ? e.message : String(e);
        record(scope, input, `fleet provisioning RegisterThing: ${why}`);
        throw new Error(why, { cause: e });
      } finally {
        clearTimeout(timer);
      }
      if (!answer.allowProvisioning) {
        record(scope, input, `fleet provisioning RegisterThing: the pre-provisioning hook ${shown(targetArn)} answered allowProvisioning: false`);
      }
      return answer;
    },
  };

  async function call(targetArn: string, input: PreProvisioningHookInput, accountId: string, signal: AbortSignal): Promise<PreProvisioningHookResult> {
    const url = hookUrl(targetArn);
    const target: HookTarget = {
      accountId,
      scheme: url.protocol === 'https:' ? 'https' : 'http',
      hostname: url.hostname,
      port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
      path: url.pathname,
    };
    if (!opts.allow.some((e) => entryAllows(e, target, target.hostname))) {
      const where = `${target.scheme}://${target.hostname}:${target.port}${target.path}`;
      throw new Error(
        `pre-provisioning hook ${shown(targetArn)} not called: ` +
          (opts.allow.length === 0
            ? `${where} is not in ${PROVISIONING_HOOK_ALLOW_FLAG} (empty: no hook may be called)`
            : `not allowed for account ${accountId}: no entry of ${PROVISIONING_HOOK_ALLOW_FLAG} for this account or for every account covers ${where}`),
      );
    }
    const address = await abortable(checkedAddress(url, target), signal);
    return post(url, address, target.port, JSON.stringify(input), signal);
  }

  /** Resolve, then keep the first address that is globally routable or listed itself (as an IP literal covering this target). */
  async function checkedAddress(url: URL, target: HookTarget): Promise<{ address: string; family: 4 | 6 }> {
    const host = unbracket(url.hostname);
    const candidates = isIP(host) !== 0 ? [{ address: host, family: isIP(host) }] : await resolveHost(host);
    const refused: string[] = [];
    for (const c of candidates) {
      const family = isIP(c.address);
      if (family !== 4 && family !== 6) continue;
      const kind = nonGlobalAddressKind(c.address);
      if (kind === undefined || addressListed(c.address, family, target)) return { address: c.address, family };
      refused.push(`${c.address} is ${kind}`);
    }
    throw new Error(
      `pre-provisioning hook ${shown(url.href)} not called: ` +
        (refused.length === 0
          ? `${host} did not resolve to an address`
          : `${refused.join('; ')}; such an address is used only when listed itself in ${PROVISIONING_HOOK_ALLOW_FLAG} (e.g. ${family6(refused[0] ?? '')}:${target.port})`),
    );
  }

  function addressListed(address: string, family: 4 | 6, target: HookTarget): boolean {
    const hostname = new URL(`http://${family === 6 ? `[${address}]` : address}/`).hostname;
    return opts.allow.some((e) => e.isAddress && entryAllows(e, target, hostname));
  }

  function post(url: URL, target: { address: string; family: 4 | 6 }, port: number, body: string, signal: AbortSignal): Promise<PreProvisioningHookResult> {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const host = unbracket(url.hostname);
    return new Promise((resolve, reject) => {
      const req = send({
        host: target.address,
        family: target.family,
        port,
        method: 'POST',
        path: `${url.pathname}${url.search}`,
        headers: { host: url.host, 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body) },
        agent: false,
        signal,
        // TLS: the name in the URL is what the server certificate must prove, whatever address was dialled.
        ...(url.protocol === 'https:' && isIP(host) === 0 ? { servername: host } : {}),
      });
      req.on('error', (e) => reject(new Error(`pre-provisioning hook ${shown(url.href)} failed: ${e.message}`)));
      req.on('response', (res) => {
        readAnswer(res, url).then(resolve, (e: unknown) => {
          req.destroy();
          reject(e instanceof Error ? e : new Error(String(e)));
        });
      });
      req.end(body);
    });
  }

  async function readAnswer(res: IncomingMessage, url: URL): Promise<PreProvisioningHookResult> {
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400) {
      res.resume();
      throw new Error(`pre-provisioning hook ${shown(url.href)} answered HTTP ${status} (a redirect; redirects are not followed)`);
    }
    if (status < 200 || status >= 300) {
      res.resume();
      throw new Error(`pre-provisioning hook ${shown(url.href)} answered HTTP ${status}`);
    }
    const declared = Number(res.headers['content-length'] ?? '0');
    if (declared > maxBytes) throw new Error(`pre-provisioning hook answer is larger than ${maxBytes} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res) {
      const b = chunk as Buffer;
      size += b.byteLength;
      if (size > maxBytes) throw new Error(`pre-provisioning hook answer is larger than ${maxBytes} bytes`);
      chunks.push(b);
    }
    return parseAnswer(Buffer.concat(chunks).toString('utf8'));
  }
}

/** The work, or a rejection as soon as the deadline passes (a DNS lookup cannot itself be cancelled). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function hookUrl(targetArn: string): URL {
  let url: URL;
  try {
    url = new URL(targetArn);
  } catch {
    throw new Error(`pre-provisioning hook target ${shown(targetArn)} is not an http(s) URL (certgate cannot invoke Lambda functions)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`pre-provisioning hook target ${shown(targetArn)} is not an http(s) URL (certgate cannot invoke Lambda functions)`);
  }
  if (url.username !== '' || url.password !== '') throw new Error(`pre-provisioning hook target ${shown(targetArn)} carries credentials in its URL`);
  // The path as written, before the URL parser resolved dot segments and turned backslashes into slashes: a path
  // prefix in the allow list must cover what the hook's server will see, however it decodes and normalizes.
  if (/[\x00-\x20\x7f]/.test(targetArn)) throw new Error(`pre-provisioning hook ${shown(targetArn)} not called: its URL has a space or control character`);
  const written = /^[a-z][a-z0-9+.-]*:[/\\]*[^/\\?#]*([^?#]*)/i.exec(targetArn)?.[1] ?? '';
  const problem = pathProblem(written);
  if (problem !== undefined) throw new Error(`pre-provisioning hook ${shown(targetArn)} not called: its path has ${problem}`);
  return url;
}

/** What a hook call is, for matching against the allow list. */
interface HookTarget {
  readonly accountId: string;
  readonly scheme: 'http' | 'https';
  readonly hostname: string;
  readonly port: number;
  readonly path: string;
}

/** The entry covers the target reached at `hostname` (the URL's host, or the address it resolved to). */
function entryAllows(e: HookAllowEntry, t: HookTarget, hostname: string): boolean {
  return (
    (e.accountId === undefined || e.accountId === t.accountId) &&
    (e.scheme === undefined || e.scheme === t.scheme) &&
    e.hostname === hostname &&
    t.port === (e.port ?? (t.scheme === 'https' ? 443 : 80)) &&
    (e.pathPrefix === undefined || t.path === e.pathPrefix || t.path.startsWith(`${e.pathPrefix}/`))
  );
}

function family6(address: string): string {
  const a = address.split(' ')[0] ?? address;
  return isIP(a) === 6 ? `[${a}]` : a;
}

/** A target as shown in reasons: without query string or credentials, bounded. */
function shown(target: string): string {
  try {
    const u = new URL(target);
    return `${u.protocol}//${u.host}${u.pathname}`.slice(0, 200);
  } catch {
    return target.slice(0, 200);
  }
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
