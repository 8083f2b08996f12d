/**
 * SQL that only reads (a plain SELECT); anything else (INSERT, UPDATE ... RETURNING, WITH, DDL) counts as a
 * write. Both backends' read caches decide by it what empties them, and PostgreSQL's outsideTransaction what
 * may run without a transaction.
 */
export function isPlainRead(sql: string): boolean {
  return /^\s*SELECT\b/i.test(sql);
}
