import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newVersionStages, planNewVersion, planNewVersionFromHolders, planStageUpdate, stagesOfNewVersion } from '../../../src/secrets/staging-labels.js';
import type { LabelPlan, VersionLabels } from '../../../src/store/index.js';

const NOW = new Date('2026-01-10T00:00:00Z');
const HOUR_MS = 3_600_000;

function version(versionId: string, stages: string[], ageHours = 48): VersionLabels {
  return { versionId, stages, createdDate: new Date(NOW.getTime() - ageHours * HOUR_MS) };
}

/** Applies a plan to labels the way the store does, so assertions read as the resulting state. */
function apply(versions: VersionLabels[], plan: LabelPlan): Record<string, string[]> {
  const labels = new Map(versions.map((v) => [v.versionId, new Set(v.stages)]));
  for (const { stage, versionId } of plan.moves) {
    for (const stages of labels.values()) stages.delete(stage);
    if (versionId) labels.get(versionId)!.add(stage);
  }
  for (const removed of plan.deleteVersions) labels.delete(removed);
  return Object.fromEntries([...labels].map(([id, stages]) => [id, [...stages].sort()]));
}

describe('planNewVersion', () => {
  it('gives the new version AWSCURRENT and the old current AWSPREVIOUS', () => {
    const versions = [version('v1', ['AWSPREVIOUS']), version('v2', ['AWSCURRENT']), version('v3', [], 0)];
    assert.deepEqual(apply(versions, planNewVersion(versions, 'v3', ['AWSCURRENT'], NOW)), {
      v1: [],
      v2: ['AWSPREVIOUS'],
      v3: ['AWSCURRENT'],
    });
  });

  it('leaves AWSCURRENT alone when the new version takes only AWSPENDING', () => {
    const versions = [version('v1', ['AWSCURRENT']), version('v2', [], 0)];
    assert.deepEqual(apply(versions, planNewVersion(versions, 'v2', ['AWSPENDING'], NOW)), { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] });
  });

  it('prunes the oldest deprecated versions beyond 100, never one younger than 24 hours', () => {
    const old = Array.from({ length: 60 }, (_, i) => version(`old${i}`, [], 100 - i));
    const young = Array.from({ length: 50 }, (_, i) => version(`young${i}`, [], 1));
    const versions = [...old, ...young, version('cur', ['AWSCURRENT']), version('new', [], 0)];
    const plan = planNewVersion(versions, 'new', ['AWSCURRENT'], NOW);
    // 110 deprecated after the move (cur keeps AWSPREVIOUS), so 10 must go: the oldest of the old ones.
    assert.deepEqual(plan.deleteVersions, old.slice(0, 10).map((v) => v.versionId));
  });

  it("gives a secret's first version AWSCURRENT whatever the stages asked for, and no later version", () => {
    const first = [version('v1', [], 0)];
    assert.deepEqual(newVersionStages(first, 'v1', ['CUSTOM']), ['CUSTOM', 'AWSCURRENT']);
    assert.deepEqual(newVersionStages([], 'v1', []), ['AWSCURRENT']);
    assert.deepEqual(apply(first, planNewVersion(first, 'v1', ['CUSTOM'], NOW)), { v1: ['AWSCURRENT', 'CUSTOM'] });
    const second = [version('v1', ['AWSCURRENT']), version('v2', [], 0)];
    assert.deepEqual(newVersionStages(second, 'v2', ['CUSTOM']), ['CUSTOM']);
  });

  it('prunes nothing when every excess version is younger than 24 hours', () => {
    const versions = [...Array.from({ length: 120 }, (_, i) => version(`y${i}`, [], 2)), version('cur', ['AWSCURRENT']), version('new', [], 0)];
    assert.deepEqual(planNewVersion(versions, 'new', ['AWSCURRENT'], NOW).deleteVersions, []);
  });
});

describe('planStageUpdate', () => {
  const versions = [version('v1', ['AWSPREVIOUS']), version('v2', ['AWSCURRENT']), version('v3', ['AWSPENDING'])];

  it('moves AWSCURRENT and hands AWSPREVIOUS to the version it left', () => {
    assert.deepEqual(apply(versions, planStageUpdate(versions, 'AWSCURRENT', 'v3', 'v2', NOW)), {
      v1: [],
      v2: ['AWSPREVIOUS'],
      v3: ['AWSCURRENT', 'AWSPENDING'],
    });
  });

  it('refuses a move of an attached label without RemoveFromVersionId', () => {
    assert.throws(() => planStageUpdate(versions, 'AWSCURRENT', 'v3', undefined, NOW), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'InvalidParameterException');
      assert.match(error.message, /currently attached to version v2/);
      return true;
    });
  });

  it('refuses to remove AWSCURRENT without moving it', () => {
    assert.throws(() => planStageUpdate(versions, 'AWSCURRENT', undefined, 'v2', NOW), /AWSCURRENT/);
  });

  it('attaches a new custom label and removes it again', () => {
    const attached = planStageUpdate(versions, 'BLUE', 'v1', undefined, NOW);
    const afterAttach = apply(versions, attached);
    assert.deepEqual(afterAttach.v1, ['AWSPREVIOUS', 'BLUE']);
    const withBlue = versions.map((v) => ({ ...v, stages: afterAttach[v.versionId]! }));
    assert.deepEqual(apply(withBlue, planStageUpdate(withBlue, 'BLUE', undefined, 'v1', NOW)).v1, ['AWSPREVIOUS']);
  });

  it('refuses unknown versions and a RemoveFromVersionId that does not hold the label', () => {
    assert.throws(() => planStageUpdate(versions, 'X', 'nope', undefined, NOW), /nope/);
    assert.throws(() => planStageUpdate(versions, 'AWSPENDING', undefined, 'v1', NOW), /not attached/);
  });

  it('refuses a 21st label on one version', () => {
    const crowded = [version('v1', ['AWSCURRENT', ...Array.from({ length: 19 }, (_, i) => `L${i}`)])];
    assert.throws(() => planStageUpdate(crowded, 'ONE-TOO-MANY', 'v1', undefined, NOW), (error: Error & { code?: string }) => error.code === 'LimitExceededException');
  });
});

describe('planNewVersionFromHolders', () => {
  /** What the store hands it: the versions holding a label (no dates) and how many versions there are. */
  const holdersOf = (versions: VersionLabels[]) => ({
    labeled: versions.filter((v) => v.stages.length > 0).map(({ versionId, stages }) => ({ versionId, stages })),
    versionCount: versions.length,
  });

  it('plans what planNewVersion plans from every version, when nothing is to be pruned', () => {
    const cases: Array<[VersionLabels[], string, string[]]> = [
      [[version('v1', [], 0)], 'v1', ['AWSPENDING']], // the secret's first version: AWSCURRENT too
      [[version('v1', ['AWSPREVIOUS']), version('v2', ['AWSCURRENT']), version('v3', [], 0)], 'v3', ['AWSCURRENT']],
      [[version('v1', ['AWSCURRENT']), version('v2', [], 0)], 'v2', ['AWSPENDING']],
      [[version('v1', []), version('v2', [], 0)], 'v2', ['BLUE']], // an older version without labels: not the first
      [[version('v1', ['AWSCURRENT', 'BLUE']), version('v2', [], 0)], 'v2', ['AWSCURRENT', 'BLUE']],
      [[...Array.from({ length: 99 }, (_, i) => version(`old${i}`, [])), version('cur', ['AWSCURRENT']), version('new', [], 0)], 'new', ['AWSCURRENT']],
    ];
    for (const [versions, newVersionId, stages] of cases) {
      assert.deepEqual(planNewVersionFromHolders(holdersOf(versions), newVersionId, stages), planNewVersion(versions, newVersionId, stages, NOW), newVersionId);
      assert.deepEqual(stagesOfNewVersion(versions.length <= 1, stages), newVersionStages(versions, newVersionId, stages));
    }
  });

  it('asks for every version when more than 100 would be deprecated after it', () => {
    const versions = [...Array.from({ length: 100 }, (_, i) => version(`old${i}`, [])), version('cur', ['AWSCURRENT']), version('new', [], 0)];
    // `cur` loses AWSCURRENT to `new` and keeps AWSPREVIOUS: still 100 deprecated, nothing to prune.
    assert.deepEqual(planNewVersionFromHolders(holdersOf(versions), 'new', ['AWSCURRENT']), planNewVersion(versions, 'new', ['AWSCURRENT'], NOW));
    // One more deprecated version: 101, the oldest is pruned, and that takes every version's date.
    const more = [version('older', [], 200), ...versions];
    assert.equal(planNewVersionFromHolders(holdersOf(more), 'new', ['AWSCURRENT']), undefined);
    assert.deepEqual(planNewVersion(more, 'new', ['AWSCURRENT'], NOW).deleteVersions, ['older']);
  });

  it('refuses a 21st label on a version as planNewVersion does', () => {
    const many = Array.from({ length: 20 }, (_, i) => `L${i}`);
    const versions = [version('v1', ['AWSCURRENT']), version('v2', [], 0)];
    assert.throws(() => planNewVersionFromHolders(holdersOf(versions), 'v2', [...many, 'AWSCURRENT']), /more than 20 staging labels/);
  });
});
