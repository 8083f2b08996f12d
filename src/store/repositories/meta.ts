/**
 * Deployment-wide values (the root key check, ...): the server reads them before and after migrating.
 * The invariants of every repository are Store's (../store.ts).
 */
export interface MetaRepository {
  /** Reads a deployment-wide value; works on an unmigrated database (returns undefined). */
  getMeta(name: string): Promise<Buffer | undefined>;
  /** Stores a value unless one exists; returns the value now stored. */
  putMetaIfAbsent(name: string, value: Buffer): Promise<Buffer>;
  /**
   * Replaces a value if it is still `expected` (compare-and-set); `replacement` undefined deletes it. False when
   * the value was something else or absent. Used for changes that several nodes may race on (a rekey's steps).
   */
  replaceMeta(name: string, expected: Buffer, replacement: Buffer | undefined): Promise<boolean>;
}
