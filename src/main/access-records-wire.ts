import type { AccessRecord } from '../access/index.js';

/** certgate-specific (not an AWS operation): the data plane's recent access decisions, for `certgate why`. */
export const ACCESS_RECORDS_PATH = '/certgate/access-records';
export const ACCESS_RECORDS_DEFAULT_LIMIT = 20;
export const ACCESS_RECORDS_MAX_LIMIT = 1_000;

/** One record as the route returns it (JSON: dates as ISO strings). */
export interface AccessRecordView {
  readonly at: string;
  readonly kind: AccessRecord['kind'];
  readonly outcome: AccessRecord['outcome'];
  readonly accountId?: string;
  readonly region?: string;
  readonly certificateId?: string;
  readonly clientId?: string;
  readonly resource?: string;
  readonly remoteAddress?: string;
  readonly reasons: readonly string[];
}
