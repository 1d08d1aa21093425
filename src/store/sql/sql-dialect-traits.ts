/**
 * What the shared SQL store needs to know about a dialect beyond Kysely's own dialect object.
 * Each dialect folder (sqlite/, later postgres/) provides one.
 */
export interface SqlDialectTraits {
  /** True when a driver error is a primary-key or unique-constraint violation. */
  isUniqueViolation(error: unknown): boolean;
}
