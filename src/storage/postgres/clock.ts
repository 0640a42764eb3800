/**
 * The time inside a statement. Production passes NULL, so the statement uses
 * the database clock (`now()`, the same for every process, no extra round
 * trip); a Docket opened with a test clock passes that clock's time instead
 * (PgContext.clockNow). `$n` is the statement's parameter for it.
 */
export const NOW = (n: number): string => `coalesce($${n}::timestamptz, now())`
