import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { runConformanceSuites } from './conformance.js';

/** Every repository's conformance suite against SQLite: each suite gets a fresh database file. */
runConformanceSuites('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-store-'));
  const store = new SqliteStore(join(dir, 'coffer.db'));
  return {
    store,
    async dispose() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
