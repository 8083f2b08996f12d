/**
 * Deployment-wide values (the root key check, ...): the server reads them before and after migrating.
 * The invariants of every repository are Store's (../store.ts).
 */
export interface MetaRepository {
  /** Reads a deployment-wide value; works on an unmigrated database (returns undefined). */
  getMeta(name: string): Promise<Buffer | undefined>;
  /** Stores a value unless one exists; returns the value now stored. */
  putMetaIfAbsent(name: string, value: Buffer): Promise<Buffer>;
}
