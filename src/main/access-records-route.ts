import type { FastifyInstance } from 'fastify';
import type { AccessLog, AccessRecord } from '../access/index.js';
import { parseRawUrl, renderAwsError, unservedRegionError, verifySigV4 } from '../api/index.js';
import type { AwsErrorResponse } from '../api/index.js';
import { invalidRequest } from '../kernel/index.js';
import type { Clock, Logger } from '../kernel/index.js';
import { ACCESS_RECORDS_DEFAULT_LIMIT, ACCESS_RECORDS_MAX_LIMIT, ACCESS_RECORDS_PATH } from './access-records-wire.js';
import type { AccessRecordView } from './access-records-wire.js';

/** How many of the caller's records are scanned before the region filter is applied. */
const SCAN_LIMIT = 10_000;

export interface AccessRecordsRouteDeps {
  readonly accessLog: AccessLog;
  readonly authenticate: (accessKeyId: string) => Promise<{ accountId: string; secretAccessKey: string } | undefined>;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * The operator's account: the default account, whose keys `certgate serve` writes to the data directory.
   * Only it is shown the refusals placed in no account (see `visibleRecords`); without it, nobody is.
   */
  readonly operatorAccountId?: string | undefined;
  /** The regions this server serves (--region, --extra-regions): a request signed for another is refused, as every operation is. */
  readonly servedRegions?: readonly string[] | undefined;
}

function single(query: Readonly<Record<string, readonly string[]>>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (v.length !== 1) throw invalidRequest(`${name} must be given once.`);
  return v[0];
}

function view(r: AccessRecord): AccessRecordView {
  return {
    at: r.at.toISOString(),
    kind: r.kind,
    outcome: r.outcome,
    ...(r.accountId !== undefined ? { accountId: r.accountId } : {}),
    ...(r.region !== undefined ? { region: r.region } : {}),
    ...(r.certificateId !== undefined ? { certificateId: r.certificateId } : {}),
    ...(r.clientId !== undefined ? { clientId: r.clientId } : {}),
    ...(r.resource !== undefined ? { resource: r.resource } : {}),
    ...(r.remoteAddress !== undefined ? { remoteAddress: r.remoteAddress } : {}),
    reasons: r.reasons,
  };
}

/**
 * Which records a caller may see (issue 10 #14): its own account's, in its SigV4 region — read from that
 * account's part of the log only, so nothing of another account is even scanned. A refusal placed in no
 * account (a certificate no account has registered in DEFAULT mode, or one that several accounts registered,
 * presented without SNI; a malformed certificate …) is the operator's: shown to the operator's account, and
 * only when asked by that certificate id. A tenant is never shown one: holding a certificate id proves nothing
 * (a certificate is public, and an SNI_ONLY registration needs no proof of possession), and the record carries
 * the device's address and connection times. Tenants see their own devices' refusals because admission files
 * every refusal it can place under the account that owns the certificate.
 */
export function visibleRecords(
  log: AccessLog,
  caller: { accountId: string; region: string },
  query: { clientId?: string; certificateId?: string; limit: number },
  operatorAccountId: string | undefined,
): AccessRecord[] {
  const filter = { ...(query.clientId !== undefined ? { clientId: query.clientId } : {}), ...(query.certificateId !== undefined ? { certificateId: query.certificateId } : {}) };
  const own = log.recent({ ...filter, accountId: caller.accountId, limit: SCAN_LIMIT }).filter((r) => r.region === undefined || r.region === caller.region);
  const unplaced =
    caller.accountId === operatorAccountId && query.certificateId !== undefined
      ? log.recent({ ...filter, accountId: null, limit: query.limit }).filter((r) => r.region === undefined || r.region === caller.region)
      : [];
  if (unplaced.length === 0) return own.slice(0, query.limit);
  return [...own.slice(0, query.limit), ...unplaced].sort((x, y) => y.at.getTime() - x.at.getTime()).slice(0, query.limit);
}

/**
 * `GET /certgate/access-records?clientId=…|certificateId=…&limit=…`, SigV4-signed (service `iot`) like every
 * control-plane call and scoped to the caller's account and region. Newest first.
 */
export function registerAccessRecordsRoute(app: FastifyInstance, deps: AccessRecordsRouteDeps): void {
  const send = (reply: import('fastify').FastifyReply, res: AwsErrorResponse | { statusCode: number; body: string }) => {
    reply.code(res.statusCode);
    if ('headers' in res) reply.headers(res.headers);
    reply.header('content-type', 'application/json');
    return reply.send(Buffer.from(res.body, 'utf8'));
  };
  app.route({
    method: 'GET',
    url: ACCESS_RECORDS_PATH,
    handler: async (request, reply) => {
      const requestId = String(request.id);
      try {
        const { rawPath, query } = parseRawUrl(request.raw.url ?? '/');
        const verified = await verifySigV4(
          { method: 'GET', rawPath, query, headers: request.raw.headersDistinct, body: Buffer.alloc(0) },
          { lookup: deps.authenticate, clock: deps.clock },
        );
        if (deps.servedRegions !== undefined && !deps.servedRegions.includes(verified.region)) throw unservedRegionError(verified.region);
        const clientId = single(query, 'clientId');
        const certificateId = single(query, 'certificateId')?.toLowerCase();
        if (clientId === undefined && certificateId === undefined) throw invalidRequest('Give clientId or certificateId.');
        const limitText = single(query, 'limit');
        const limit = limitText === undefined ? ACCESS_RECORDS_DEFAULT_LIMIT : Number(limitText);
        if (!Number.isInteger(limit) || limit < 1 || limit > ACCESS_RECORDS_MAX_LIMIT) {
          throw invalidRequest(`limit must be an integer from 1 to ${ACCESS_RECORDS_MAX_LIMIT}.`);
        }
        const caller = { accountId: verified.identity.accountId, region: verified.region };
        const wanted = { ...(clientId !== undefined ? { clientId } : {}), ...(certificateId !== undefined ? { certificateId } : {}), limit };
        const records = visibleRecords(deps.accessLog, caller, wanted, deps.operatorAccountId).map(view);
        return send(reply, { statusCode: 200, body: JSON.stringify({ records }) });
      } catch (e) {
        return send(reply, renderAwsError(e, { logger: deps.logger, requestId }));
      }
    },
  });
}
