import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/index.js';
import { runAuditStoreSuite } from './audit-suite.js';
import { runIamStoreSuite } from './iam-suite.js';
import { runStoreSuite } from './store-suite.js';

runStoreSuite('sqlite', async () => {
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

runAuditStoreSuite('sqlite', async () => {
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

runIamStoreSuite('sqlite', async () => {
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
