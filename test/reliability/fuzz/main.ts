import { randomInt } from 'node:crypto';
import { describeCaseCount, formatReport, FUZZ_EDGE, reportFailures } from './report.js';
import { runFuzz } from './run.js';

/**
 * `npm run reliability:fuzz` — the full run: at least 100,000 hostile requests against a fresh `coffer server`.
 * `--seed N` replays a run; `--requests N` changes its size, `--episode-every N` how often (in requests) slow
 * clients and a connection flood come. Exits 1 on any crash, 5xx, answer not shaped like
 * AWS's, accepted bad signature, failed well-formed call, or a bound exceeded (docs/reliability.md, "Hostile input").
 */
const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? undefined : Number(args[index + 1]);
};
const seed = option('seed') ?? randomInt(2 ** 31);
const requests = option('requests') ?? 100_000;
console.log(`coffer fuzz: seed ${seed}, ${requests} requests (rerun with --seed ${seed})`);
const report = await runFuzz({
  seed,
  requests,
  concurrency: 16,
  episodeEveryRequests: option('episode-every') ?? 20_000,
  slowClients: 20,
  edge: FUZZ_EDGE,
  log: (line) => console.log(line),
});
console.log(formatReport(report));
const failures = reportFailures(report);
for (const failure of failures) console.log(`FAIL ${failure}`);
console.log(failures.length === 0 ? `PASS ${describeCaseCount(report)}` : `rerun with --seed ${seed}`);
process.exit(failures.length === 0 ? 0 : 1);
