/**
 * How big and how long: the full run (`npm run bench`) and the quick one (`npm run bench:quick`, under a
 * minute: a small corpus and sub-second runs, for checking the harness and spotting large regressions,
 * not for quoting). Command-line flags override single values.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { PEER_NAMES, type PeerName } from './peers.js';

export type Settings = {
  mode: 'full' | 'quick';
  /** Secrets seeded into Coffer; ListSecrets pages over all of them. */
  corpusSize: number;
  /** Secrets the random-access workloads draw from (the first N of the corpus). */
  randomSetSize: number;
  /** Secrets seeded into moto over its API (about 7 ms each there, and not safe to create concurrently). */
  motoCorpusSize: number;
  /**
   * ListSecrets pages the ListSecrets workload asks for: this many, spread evenly from the first page to the
   * last of the whole corpus (all of them are walked once to collect their NextTokens).
   */
  listPages: number;
  connections: number[];
  durationSeconds: number;
  /** One run at 1 connection per peer and workload before the measured runs (JIT, caches). */
  warmupSeconds: number;
  /** Measured runs per (workload, connections, peer), interleaved across peers; medians are reported. */
  rounds: number;
  coldStarts: number;
  peers: PeerName[];
  /** Workload ids to run; all when empty. */
  workloads: string[];
  /**
   * Before every run the bench waits for the server to drain and for the machine to go quiet (other
   * processes under 0.3 cores); this is the most it waits for other processes over the whole bench.
   */
  quietBudgetMs: number;
  /**
   * Pin the servers to CPU 0 and the load generator to CPU 1 (taskset). Off for the comparison runs (as
   * the figures were measured); on for profiles, so the server's samples are not its preemption
   * by the load generator.
   */
  pin: boolean;
  /**
   * Coffer server processes under load (--coffer-workers N, default 1): above 1, `coffer server --workers N`
   * (node:cluster workers sharing the port, the primary writing the audit log). Cold starts stay one process.
   */
  cofferWorkers: number;
  /** The compiled tree to measure (--build DIR); dist/ when undefined. */
  build?: string;
  /** Time per workload measuring the in-process pipeline (no HTTP), after a third of it warming up. */
  inProcessMsPerWorkload: number;
  /** PostgreSQL suite: the `--pool-size` of each PostgreSQL node, one pass of the suite per value. */
  poolSizes: number[];
  /**
   * PostgreSQL suite: other builds whose PostgreSQL nodes run beside the measured build's, in the same rounds
   * (--compare-builds LABEL=DIR,LABEL=DIR): a same-run A/B of a store change.
   */
  compareBuilds?: Record<string, string>;
};

const FULL: Settings = {
  mode: 'full',
  corpusSize: 100_000,
  randomSetSize: 10_000,
  motoCorpusSize: 10_000,
  listPages: 20,
  connections: [1, 64],
  durationSeconds: 5,
  warmupSeconds: 1,
  rounds: 3,
  coldStarts: 5,
  peers: ['coffer', 'moto', 'bare'],
  workloads: [],
  quietBudgetMs: 180_000,
  pin: false,
  cofferWorkers: 1,
  inProcessMsPerWorkload: 1_500,
  poolSizes: [10],
};

const QUICK: Settings = {
  ...FULL,
  mode: 'quick',
  corpusSize: 1_000,
  randomSetSize: 100,
  motoCorpusSize: 100,
  listPages: 3,
  durationSeconds: 0.25,
  warmupSeconds: 0,
  rounds: 1,
  coldStarts: 1,
  quietBudgetMs: 1_000,
  inProcessMsPerWorkload: 100,
};

/**
 * The PostgreSQL suite (`node bench/dist/main.js postgres`, `npm run bench:postgres`): SQLite against PostgreSQL
 * (one node, three nodes) on GetSecretValue and PutSecretValue at 64 connections, for each pool size.
 */
const POSTGRES: Settings = {
  ...FULL,
  corpusSize: 10_000,
  randomSetSize: 10_000,
  connections: [64],
  workloads: ['get-hot', 'get-random', 'put'],
  poolSizes: [10, 20, 32],
};

const POSTGRES_QUICK: Settings = {
  ...POSTGRES,
  mode: 'quick',
  corpusSize: 300,
  randomSetSize: 300,
  durationSeconds: 0.5,
  warmupSeconds: 0.25,
  rounds: 1,
  quietBudgetMs: 1_000,
  poolSizes: [10],
};

const USAGE = `usage: node bench/dist/main.js [--quick] [--rounds N] [--duration S] [--corpus N] [--random-set N]
       [--moto-corpus N] [--peers coffer,moto,bare,skeleton,skeleton-no-audit,skeleton-no-sigv4,skeleton-no-aes,skeleton-none] [--workloads id,id] [--connections 1,64] [--coffer-workers N] [--pin] [--build DIR] [--no-results-file]
       node bench/dist/main.js profile [--quick] [--workload get-hot] [--connections 64] [--duration S] [--no-pin] [--build DIR]
       node bench/dist/main.js postgres [--quick] [--pool-sizes 10,20,32] [--rounds N] [--duration S] [--corpus N] [--random-set N] [--workloads get-hot,get-random,put] [--build DIR] [--compare-builds LABEL=DIR,...]
       node bench/dist/main.js postgres-trace [--build DIR] [--pg-log FILE]
       node bench/dist/main.js postgres-report FILE.json
       node bench/dist/main.js analyze FILE.cpuprofile`;

export type Command = { kind: 'run' | 'profile' | 'postgres' | 'postgres-trace'; settings: Settings; writeResults: boolean; argv: string[]; pgLog?: string };

export function parseCommand(argv: string[]): Command {
  const args = [...argv];
  const kind = args[0] === 'profile' || args[0] === 'postgres' || args[0] === 'postgres-trace' ? args[0] : 'run';
  if (kind !== 'run') args.shift();
  const quick = args.includes('--quick');
  const defaults = kind === 'postgres' ? (quick ? POSTGRES_QUICK : POSTGRES) : quick ? QUICK : FULL;
  const settings: Settings = { ...defaults, pin: kind === 'profile' };
  let writeResults = true;
  let pgLog: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = () => {
      const next = args[++i];
      if (next === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    const count = () => {
      const n = Number(value());
      if (!(n > 0)) throw new Error(`${flag} must be a positive number\n${USAGE}`);
      return n;
    };
    switch (flag) {
      case '--quick':
        break;
      case '--rounds':
        settings.rounds = count();
        break;
      case '--duration':
        settings.durationSeconds = count();
        break;
      case '--corpus':
        settings.corpusSize = count();
        break;
      case '--random-set':
        settings.randomSetSize = count();
        break;
      case '--moto-corpus':
        settings.motoCorpusSize = count();
        break;
      case '--peers':
        settings.peers = value().split(',') as PeerName[];
        for (const peer of settings.peers) if (!PEER_NAMES.includes(peer)) throw new Error(`unknown peer ${peer}; known: ${PEER_NAMES.join(', ')}\n${USAGE}`);
        break;
      case '--workloads':
      case '--workload':
        settings.workloads = value().split(',');
        break;
      case '--connections':
        settings.connections = value().split(',').map(Number);
        break;
      case '--build':
        settings.build = resolve(value());
        break;
      case '--coffer-workers':
        settings.cofferWorkers = count();
        break;
      case '--pool-sizes':
        settings.poolSizes = value().split(',').map(Number);
        if (!settings.poolSizes.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`--pool-sizes takes whole numbers, e.g. 10,20,32\n${USAGE}`);
        break;
      case '--compare-builds':
        settings.compareBuilds = Object.fromEntries(
          value()
            .split(',')
            .map((pair) => {
              const [label, dir] = pair.split('=');
              if (!label || !dir) throw new Error(`--compare-builds takes LABEL=DIR,LABEL=DIR\n${USAGE}`);
              return [label, resolve(dir)];
            }),
        );
        break;
      case '--pg-log':
        pgLog = resolve(value());
        break;
      case '--pin':
        settings.pin = true;
        break;
      case '--no-pin':
        settings.pin = false;
        break;
      case '--no-results-file':
        writeResults = false;
        break;
      default:
        throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  settings.randomSetSize = Math.min(settings.randomSetSize, settings.corpusSize);
  settings.motoCorpusSize = Math.min(settings.motoCorpusSize, settings.corpusSize);
  if (!settings.peers.includes('coffer')) throw new Error('coffer must be among the peers: every ratio is to it');
  if (settings.pin && availableParallelism() < 2) settings.pin = false;
  return { kind, settings, writeResults, argv, ...(pgLog === undefined ? {} : { pgLog }) };
}
