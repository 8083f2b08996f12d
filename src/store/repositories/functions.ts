import type { FunctionPatch, FunctionRecord } from '../records/functions.js';

/**
 * Hosted and HTTP functions (Lambda's subset): what functions owns.
 * The invariants of every repository are Store's (../store.ts).
 */
export interface FunctionsRepository {
  /** Returns false when the name is taken in that account and region. */
  createFunction(record: FunctionRecord): Promise<boolean>;
  getFunction(accountId: string, region: string, name: string): Promise<FunctionRecord | undefined>;
  listFunctions(accountId: string, region: string): Promise<FunctionRecord[]>;
  /** Replaces code and the fields that come with it; undefined when the function is absent. */
  updateFunction(
    accountId: string,
    region: string,
    name: string,
    patch: FunctionPatch,
  ): Promise<FunctionRecord | undefined>;
  deleteFunction(accountId: string, region: string, name: string): Promise<boolean>;
  /** Functions of every account whose variables or URL are still in clear (rows from before sealing). */
  listFunctionsWithClearEnvironment(): Promise<FunctionRecord[]>;
}
