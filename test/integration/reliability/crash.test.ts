import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import { postgresCrashRun, sqliteCrashRun, type CrashFigures } from '../../helpers/crash-harness.js';

/**
 * Issue 20, crash safety (docs/reliability/crash.md). The reduced run: a few SIGKILLs per store under the mixed
 * write load. The full run is the same file with COFFER_CRASH_KILLS=50 (`npm run reliability:crash`), which
 * also writes its figures to COFFER_CRASH_REPORT when set. COFFER_CRASH_PG_AUDIT=fail-open runs the PostgreSQL
 * nodes without --audit-fail-closed, to show the acknowledged calls that then lack their audit event.
 */
const KILLS = Number(process.env.COFFER_CRASH_KILLS ?? 3);
const FULL = KILLS >= 20;
const WORKERS = 6;
/** On PostgreSQL, one kill in five is the database primary's (at least one). */
const PRIMARY_KILLS = Math.max(1, Math.round(KILLS / 5));
const TIMEOUT_MS = FULL ? 3_600_000 : 150_000;

const figures: CrashFigures[] = [];

describe(`crash safety: ${KILLS} kill -9 per store under a mixed write load`, { concurrency: 1 }, () => {
  it('SQLite: the server killed', { timeout: TIMEOUT_MS }, async (t) => {
    const run = await sqliteCrashRun({ kills: KILLS, workers: WORKERS, log: (line) => t.diagnostic(line) });
    check(t, run);
  });

  it('PostgreSQL: a node among three killed, and the primary (its synchronous standby promoted)', { timeout: TIMEOUT_MS }, async (t) => {
    const auditFailClosed = process.env.COFFER_CRASH_PG_AUDIT !== 'fail-open';
    const run = await postgresCrashRun({ kills: KILLS, primaryKills: PRIMARY_KILLS, workers: WORKERS, auditFailClosed, log: (line) => t.diagnostic(line) });
    check(t, run);
  });
});

function check(t: TestContext, run: CrashFigures): void {
  figures.push(run);
  const report = process.env.COFFER_CRASH_REPORT;
  if (report) writeFileSync(report, `${JSON.stringify(figures, null, 2)}\n`);
  t.diagnostic(
    `${run.store} (${run.audit}): kills ${JSON.stringify(run.kills)}; acknowledged calls ${run.acknowledgedCalls}, writes ${JSON.stringify(run.acknowledgedWrites)}; ` +
      `failed calls ${run.failedCalls}; lost ${run.lost.length}; invariant violations ${run.invariantViolations.length}; unaudited ${run.unaudited.length}; ` +
      `audit write failures ${run.auditWriteFailures}; ${Math.round(run.durationMs / 1000)} s`,
  );
  assert.equal(Object.values(run.kills).reduce((sum, kills) => sum + kills, 0), KILLS);
  assert.ok(run.acknowledgedWrites.versions > 0 && run.acknowledgedWrites.rotations > 0 && run.acknowledgedWrites.policies + run.acknowledgedWrites.users > 0, JSON.stringify(run.acknowledgedWrites));
  assert.deepEqual(run.lost.slice(0, 20), [], `${run.lost.length} acknowledged writes lost or wrong`);
  assert.deepEqual(run.invariantViolations.slice(0, 20), [], `${run.invariantViolations.length} label invariants broken`);
  assert.deepEqual(run.unaudited.slice(0, 20), [], `${run.unaudited.length} acknowledged calls without an audit event`);
  assert.equal(run.auditVerify.code, 0, run.auditVerify.output);
  assert.match(run.auditVerify.output, /chain intact/);
}
