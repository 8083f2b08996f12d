import { describe, it } from 'node:test';
import { checkCrashRun, crashRunSize, sqliteCrashRun } from '../../helpers/crash-harness.js';

/**
 * Issue 20, crash safety on SQLite (docs/reliability.md, "Crash safety"): the server SIGKILLed at random moments under a
 * mixed write load and started again. 3 kills here (`npm test`); `npm run reliability:crash` makes 50.
 */
const size = crashRunSize();

describe(`crash safety on SQLite: ${size.kills} kill -9 under a mixed write load`, () => {
  it('every acknowledged write reads back, the labels hold, every acknowledged call is audited and the chain verifies', { timeout: size.timeoutMs }, async (t) => {
    const run = await sqliteCrashRun({ kills: size.kills, workers: size.workers, log: (line) => t.diagnostic(line) });
    checkCrashRun(t, run, size.kills);
  });
});
