import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { GetRandomPasswordCommand } from '@aws-sdk/client-secrets-manager';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer } from '../../helpers/start-server.js';

/** Waits up to `ms` for a file to appear. */
async function appears(path: string, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(20)) {
    if (existsSync(path)) return true;
  }
  return existsSync(path);
}

/**
 * A server starts its audit writer thread (which opens, and creates, audit.db) as soon as the store is open,
 * so that its first request does not wait for the thread to start; a store opened for local work does not.
 */
describe('audit writer start', () => {
  it('a server has its writer running before any request, and records the first request', async () => {
    const server = await startTestServer();
    try {
      assert.ok(await appears(join(server.dataDir, 'audit.db'), 5_000), 'audit.db was not created before the first request');
      await secretsClient(server).send(new GetRandomPasswordCommand({ PasswordLength: 16 }));
      const store = new SqliteStore(join(server.dataDir, 'coffer.db'));
      try {
        const events = await store.listAuditEvents(0, 10);
        assert.deepEqual(events.map((event) => event.eventName), ['GetRandomPassword']);
      } finally {
        store.close();
      }
    } finally {
      await server.cleanup();
    }
  });

  it('a store opened without a server starts no writer until it appends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-writer-start-'));
    const store = new SqliteStore(join(dir, 'coffer.db'));
    try {
      store.migrate();
      assert.equal(await appears(join(dir, 'audit.db'), 300), false);
      store.startAuditWriter();
      assert.ok(await appears(join(dir, 'audit.db'), 5_000));
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
