import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ivCensus } from './iv-census.js';

/**
 * `npm run reliability:tamper`: the full run of issue 20's tampering promises. The IV census over 10 million
 * encryptions under one key (IV_CENSUS_COUNT overrides), then the tampering tests with COFFER_TAMPER_FULL=1 (every
 * bit of larger blobs and of every sealed column), and a summary of what was tried and how it was refused.
 */
const count = Number(process.env.IV_CENSUS_COUNT ?? 10_000_000);
const census = await ivCensus(count, (done) => process.stderr.write(`iv census: ${done.toLocaleString('en')} encryptions\n`));
console.log(JSON.stringify({ ivCensus: census }));

const report = join(tmpdir(), `coffer-tamper-report-${process.pid}.jsonl`);
const tests = ['ciphertext-blobs', 'sealed-columns-sqlite', 'sealed-columns-postgres'].map((name) => `build-test/test/integration/tamper/${name}.test.js`);
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...tests], {
  // COFFER_TAMPER_FULL=0 runs the reduced tests instead (a quick check of this script).
  env: { ...process.env, COFFER_TAMPER_FULL: process.env.COFFER_TAMPER_FULL ?? '1', COFFER_TAMPER_REPORT: report },
  stdio: ['ignore', 'inherit', 'inherit'],
});
let tried = 0;
const lines = existsSync(report) ? readFileSync(report, 'utf8').split('\n').filter(Boolean) : [];
for (const line of lines) {
  const entry = JSON.parse(line) as { tried: number };
  tried += entry.tried;
  console.log(line);
}
rmSync(report, { force: true });
console.log(JSON.stringify({ tamperCasesTried: tried, testsExitCode: run.status, ivCollisions: census.collisions }));
process.exitCode = run.status === 0 && census.collisions === 0 ? 0 : 1;
