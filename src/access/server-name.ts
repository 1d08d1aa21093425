import { parseDataEndpoint } from '../registry/index.js';

/**
 * How the SNI host name places a connection (data-plane.md "Which account"):
 * - `endpoint`: an account's data endpoint `<prefix>-ats.iot.<region>.<domain>` (or the legacy form);
 * - `none`: no SNI, `localhost`, or an IP literal — the certificate's own registration must place it;
 * - `foreign`: any other name — no account's endpoint, refused.
 */
export type ServerNameRoute =
  | { readonly kind: 'endpoint'; readonly host: string; readonly endpointPrefix: string; readonly region: string }
  | { readonly kind: 'none'; readonly host: string | undefined }
  | { readonly kind: 'foreign'; readonly host: string };

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** An IPv4 dotted quad or anything with a colon (IPv6, possibly bracketed): no DNS name has one. */
export function isIpLiteral(host: string): boolean {
  return IPV4.test(host) || host.includes(':');
}

export function routeServerName(serverName: string | undefined, domain: string): ServerNameRoute {
  if (serverName === undefined || serverName === '') return { kind: 'none', host: undefined };
  // A fully qualified name may end with a dot; DNS names compare case-insensitively.
  const host = (serverName.endsWith('.') ? serverName.slice(0, -1) : serverName).toLowerCase();
  if (host === 'localhost' || isIpLiteral(host)) return { kind: 'none', host };
  const endpoint = parseDataEndpoint(host, domain);
  if (endpoint === undefined) return { kind: 'foreign', host };
  return { kind: 'endpoint', host, endpointPrefix: endpoint.endpointPrefix, region: endpoint.region };
}
