import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { it } from 'node:test';
import { formatReport, FUZZ_EDGE, reportFailures } from './fuzz/report.js';
import { runFuzz } from './fuzz/run.js';

/**
 * The reduced run of the hostile-input fuzzer (the full run is `npm run reliability:fuzz`, docs/reliability.md, "Hostile input"):
 * a few thousand requests with one round of slow clients and a connection flood, the same checks and bounds.
 * COFFER_FUZZ_SEED=N replays a failed run.
 */
it('hostile requests: no crash, no 5xx, every answer AWS-shaped, well-formed calls succeed, RSS and audit growth bounded', async (t) => {
  const seed = Number(process.env.COFFER_FUZZ_SEED ?? randomInt(2 ** 31));
  t.diagnostic(`seed ${seed} (replay with COFFER_FUZZ_SEED=${seed})`);
  const report = await runFuzz({ seed, requests: 2_000, concurrency: 8, episodeEveryRequests: 1_000, slowClients: 5, edge: FUZZ_EDGE });
  t.diagnostic(formatReport(report));
  assert.deepEqual(reportFailures(report, 2_000), [], `seed ${seed}`);
  assert.ok((report.byKind.flood ?? 0) >= 1 && (report.byKind.slow ?? 0) >= 10, 'the slow clients and the flood came');
  assert.ok(report.canary.calls >= 20, `${report.canary.calls} well-formed calls`);
});
