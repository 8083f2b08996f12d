import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AWSCURRENT, AWSPREVIOUS, planNewVersionFromHolders } from '../../src/secrets/staging-labels.js';
import type { LabelHolders, LabelPlanner } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { newSecret, newVersion } from './sample-records.js';

/**
 * A planner that can plan from the label holders is asked that first (issue 21): a put reads the secret's labels
 * and its number of versions, not every version, which grew with the secret's history.
 */
describe('sqlite store: a put planned from the label holders', () => {
  let dir: string;
  let store: SqliteStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-label-holders-'));
    store = new SqliteStore(join(dir, 'coffer.db'));
    store.migrate();
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Plans from the holders only: calling it with every version fails the test. */
  function fromHoldersOnly(versionId: string, seen: LabelHolders[]): LabelPlanner {
    return Object.assign(() => assert.fail('the planner was handed every version'), {
      fromHolders: (holders: LabelHolders) => {
        seen.push(holders);
        return planNewVersionFromHolders(holders, versionId, [AWSCURRENT]);
      },
    });
  }

  it('hands fromHolders the labeled versions and the count, and applies its plan', async () => {
    const secret = newSecret('111111111111', 'app/holders');
    const first = newVersion(secret.arn);
    await store.createSecret(secret, [], first);
    const seen: LabelHolders[] = [];
    const versions = [first];
    for (let i = 0; i < 3; i++) {
      const next = newVersion(secret.arn);
      assert.deepEqual(await store.putSecretVersion(next, fromHoldersOnly(next.versionId, seen), new Date()), { inserted: true });
      versions.push(next);
    }
    // The third put saw AWSCURRENT and AWSPREVIOUS on the two versions before it, and four versions (its own included).
    assert.equal(seen.length, 3);
    assert.equal(seen[2]!.versionCount, 4);
    assert.deepEqual(
      seen[2]!.labeled.map((held) => [held.versionId, held.stages]).sort(),
      [[versions[1]!.versionId, [AWSPREVIOUS]], [versions[2]!.versionId, [AWSCURRENT]]].sort(),
    );
    const listed = await store.listSecretVersions(secret.arn);
    assert.deepEqual(listed.find((v) => v.versionId === versions[3]!.versionId)?.stages, [AWSCURRENT]);
    assert.deepEqual(listed.find((v) => v.versionId === versions[2]!.versionId)?.stages, [AWSPREVIOUS]);
    assert.equal(listed.length, 4);
  });
});
