import { describe, it } from 'node:test';
import { checkCrashRun, crashRunSize, postgresCrashRun } from '../../helpers/crash-harness.js';

/**
 * Issue 20, crash safety on PostgreSQL (docs/reliability.md, "Crash safety"): under a mixed write load, a node among
 * three SIGKILLed and started again, and the database primary SIGKILLed with its synchronous standby promoted.
 * 3 kills here (`npm test`: 2 nodes, 1 primary); `npm run reliability:crash` makes 50 (40 and 10).
 * The nodes run the default fail-open auditing (an event the database did not take is spooled before the call is
 * answered, and appended later); COFFER_CRASH_PG_AUDIT=fail-closed runs them with --audit-fail-closed.
 */
const size = crashRunSize();
const auditFailClosed = process.env.COFFER_CRASH_PG_AUDIT === 'fail-closed';

describe(`crash safety on PostgreSQL: ${size.kills} kill -9 (${size.primaryKills} of the primary) under a mixed write load`, () => {
  it('every acknowledged write reads back, the labels hold, every acknowledged call is audited and the chain verifies', { timeout: size.timeoutMs }, async (t) => {
    const run = await postgresCrashRun({ ...size, auditFailClosed, log: (line) => t.diagnostic(line) });
    checkCrashRun(t, run, size.kills);
  });
});
