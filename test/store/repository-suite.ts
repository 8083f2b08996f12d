import { after, before, describe } from 'node:test';
import type { Store, StoreLifecycle } from '../../src/store/index.js';

/**
 * Opens a fresh, empty store of one backend (unmigrated) offering at least the repositories `R`; dispose
 * closes it and removes what it made. A suite asks only for its own repository, so a backend that implements
 * some repositories so far runs their suites (test/store/postgres.test.ts).
 */
export type OpenRepositories<R> = () => Promise<{ store: R & StoreLifecycle; dispose(): Promise<void> }>;

/** Opens a whole store: every repository. */
export type OpenStore = OpenRepositories<Store>;

/**
 * One repository's suite: a fresh migrated store of the backend for the suite, seen through the repository
 * type `R` (with the lifecycle), so a suite can only call what its repository declares.
 */
export function describeRepository<R>(
  repository: string,
  backend: string,
  open: OpenRepositories<R>,
  body: (store: () => R & StoreLifecycle) => void,
): void {
  describe(`${repository} conformance: ${backend}`, () => {
    let store: R & StoreLifecycle;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await open());
      await store.migrate();
    });
    after(async () => dispose());
    body(() => store);
  });
}
