/**
 * Where a run's results go. A full run rewrites the generated part of bench/RESULTS.md (between the markers;
 * the analysis around it is written by hand) and bench/results/full.json (the raw measurements behind the
 * table). A quick run only leaves its JSON in the temp dir: its numbers are not for quoting.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './coffer-build.js';
import { log } from './log.js';
import type { PostgresResults } from './postgres-suite.js';
import type { Results } from './report.js';

const RESULTS_MD = join(REPO_ROOT, 'bench/RESULTS.md');
const RESULTS_JSON = join(REPO_ROOT, 'bench/results/full.json');
const GENERATED_START = '<!-- bench:generated:start (npm run bench rewrites this part) -->';
const GENERATED_END = '<!-- bench:generated:end -->';

export function writeResults(results: Results, report: string): void {
  if (results.settings.mode === 'quick') {
    const path = join(tmpdir(), 'coffer-bench-quick.json');
    writeFileSync(path, JSON.stringify(results, null, 2) + '\n');
    log(`quick run: bench/RESULTS.md left as it is; raw results in ${path}`);
    return;
  }
  mkdirSync(join(REPO_ROOT, 'bench/results'), { recursive: true });
  writeFileSync(RESULTS_JSON, JSON.stringify(results, null, 2) + '\n');
  const generated = `${GENERATED_START}\n${report}\n${GENERATED_END}`;
  const existing = existsSync(RESULTS_MD) ? readFileSync(RESULTS_MD, 'utf8') : `# Benchmark results\n\n${GENERATED_START}\n${GENERATED_END}\n`;
  const start = existing.indexOf(GENERATED_START);
  const end = existing.indexOf(GENERATED_END);
  const updated =
    start === -1 || end === -1
      ? `${existing.trimEnd()}\n\n${generated}\n`
      : existing.slice(0, start) + generated + existing.slice(end + GENERATED_END.length);
  writeFileSync(RESULTS_MD, updated);
  log('wrote bench/RESULTS.md (its generated part) and bench/results/full.json');
}

/**
 * The PostgreSQL suite's raw measurements: bench/results/postgres.json after a full run (the section of
 * RESULTS.md that quotes them is written by hand), the temp dir after a quick one.
 */
export function writePostgresResults(results: PostgresResults): void {
  const path = results.settings.mode === 'quick' ? join(tmpdir(), 'coffer-bench-postgres-quick.json') : join(REPO_ROOT, 'bench/results/postgres.json');
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(results, null, 2) + '\n');
  log(`raw results in ${path}`);
}
