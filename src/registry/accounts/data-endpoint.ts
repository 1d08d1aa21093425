import type { Account } from '../entities.js';

export type EndpointType = 'iot:Data-ATS' | 'iot:Data' | 'iot:CredentialProvider' | 'iot:Jobs';
export const ENDPOINT_TYPES: readonly EndpointType[] = ['iot:Data-ATS', 'iot:Data', 'iot:CredentialProvider', 'iot:Jobs'];

/** An account's host names, as AWS forms them, under certgate's domain. */
export function endpointAddress(account: Pick<Account, 'endpointPrefix'>, region: string, domain: string, type: EndpointType = 'iot:Data-ATS'): string {
  switch (type) {
    case 'iot:Data-ATS':
      return `${account.endpointPrefix}-ats.iot.${region}.${domain}`;
    case 'iot:Data':
      return `${account.endpointPrefix}.iot.${region}.${domain}`;
    case 'iot:CredentialProvider':
      return `${account.endpointPrefix}.credentials.iot.${region}.${domain}`;
    case 'iot:Jobs':
      return `${account.endpointPrefix}.jobs.iot.${region}.${domain}`;
  }
}

/** Parses `<prefix>-ats.iot.<region>.<domain>` (or the legacy form) back into prefix and region. */
export function parseDataEndpoint(host: string, domain: string): { endpointPrefix: string; region: string } | undefined {
  const suffix = '.' + domain.toLowerCase();
  const h = host.toLowerCase();
  if (!h.endsWith(suffix)) return undefined;
  const m = /^([a-z0-9]+)(?:-ats)?\.iot\.([a-z0-9-]+)$/.exec(h.slice(0, -suffix.length));
  if (!m) return undefined;
  return { endpointPrefix: m[1]!, region: m[2]! };
}
