import { describe, it } from 'node:test';
import { checkCrashRun, crashRunSize, postgresCrashRun } from '../../helpers/crash-harness.js';

/**
 * Issue 20, crash safety on PostgreSQL (docs/reliability.md, "Crash safety"): under a mixed write load, a node among
 * three SIGKILLed and started again, and the database primary SIGKILLed with its synchronous standby promoted.
 * 3 kills here (`npm test`: 2 nodes, 1 primary); `npm run reliability:crash` makes 50 (40 and 10).
 * COFFER_CRASH_PG_AUDIT=fail-open runs the nodes without --audit-fail-closed: the test then shows the
 * acknowledged calls that lack their audit event.
 */
const size = crashRunSize();
const auditFailClosed = process.env.COFFER_CRASH_PG_AUDIT !== 'fail-open';

describe(`crash safety on PostgreSQL: ${size.kills} kill -9 (${size.primaryKills} of the primary) under a mixed write load`, () => {
  it('every acknowledged write reads back, the labels hold, every acknowledged call is audited and the chain verifies', { timeout: size.timeoutMs }, async (t) => {
    const run = await postgresCrashRun({ ...size, auditFailClosed, log: (line) => t.diagnostic(line) });
    checkCrashRun(t, run, size.kills);
  });
});
