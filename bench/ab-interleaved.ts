/**
 * ab-run with the two builds' turns interleaved finely, for a machine that others are loading: `node
 * bench/dist/ab-interleaved.js --base DIR [--candidate DIR] [--rounds N] [--duration S] [--workloads
 * get-hot,kms-decrypt] [--secrets N]`. Both servers run at once (each on its own copy of one seeded data dir,
 * both pinned to CPU 0, the load generator to CPU 1); each round gives every workload a short run (1 s by default)
 * against the base and then against the candidate, so the load of other processes, which drifts over minutes,
 * falls on both builds alike. Prints each turn's server CPU per request (all threads) and the medians of the
 * per-round candidate/base ratios, which cancel that drift better than a ratio of medians.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cofferNodeFlags, removeSnapshot, REPO_ROOT, snapshotBuild, snapshotCompareBuild } from './coffer-build.js';
import { prepareFixture } from './fixtures.js';
import { runLoad, type Measurement } from './load.js';
import { log } from './log.js';
import { DEV_KEY, killAllPeers, LOAD_CPUS, pinSelf, SERVER_CPUS, startCoffer } from './peers.js';
import { seedCoffer } from './seed.js';
import { Signer } from './signer.js';
import { WORKLOADS } from './workloads.js';

type Options = { base: string; candidate: string; rounds: number; durationSeconds: number; workloads: string[]; secrets: number };

function parse(argv: string[]): Options {
  const options: Options = { base: '', candidate: join(REPO_ROOT, 'dist'), rounds: 12, durationSeconds: 1, workloads: ['get-hot', 'kms-decrypt'], secrets: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? '';
    switch (argv[i]) {
      case '--base': options.base = resolve(value()); break;
      case '--candidate': options.candidate = resolve(value()); break;
      case '--rounds': options.rounds = Number(value()); break;
      case '--duration': options.durationSeconds = Number(value()); break;
      case '--workloads': options.workloads = value().split(','); break;
      case '--secrets': options.secrets = Number(value()); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!options.base) throw new Error('usage: node bench/dist/ab-interleaved.js --base DIR [--candidate DIR] [--rounds N] [--duration S] [--workloads a,b] [--secrets N]');
  return options;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  pinSelf(LOAD_CPUS);
  const signer = new Signer(DEV_KEY);
  snapshotBuild(options.candidate); // seeding opens the candidate in-process
  const builds = { base: snapshotCompareBuild('base', options.base), candidate: snapshotCompareBuild('candidate', options.candidate) };
  // Each build runs with the Node flags of its own checkout's bin/coffer (a flag change is part of what is compared).
  const flagsOf = (dist: string) => {
    const bin = join(dirname(dist), 'bin/coffer');
    return existsSync(bin) ? cofferNodeFlags(bin) : cofferNodeFlags();
  };
  const nodeFlags: Record<string, string[]> = { base: flagsOf(options.base), candidate: flagsOf(options.candidate) };
  const disk = mkdtempSync(join(tmpdir(), 'coffer-ab-'));
  const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/coffer-ab-') : join(disk, 'scratch');
  const cleanUp = () => {
    killAllPeers();
    for (const dir of [disk, scratch]) rmSync(dir, { recursive: true, force: true });
    removeSnapshot();
  };
  process.once('SIGINT', () => (cleanUp(), process.exit(130)));
  const cells: Array<{ round: number; build: string; workload: string; m: Measurement }> = [];
  const running: Array<Awaited<ReturnType<typeof startCoffer>>> = [];
  try {
    const seeded = join(disk, 'seeded');
    const { keyId } = await seedCoffer(seeded, join(scratch, 'seed'), options.secrets, signer);
    const servers: Record<string, { coffer: Awaited<ReturnType<typeof startCoffer>>; fixture: Awaited<ReturnType<typeof prepareFixture>> }> = {};
    for (const [build, main] of Object.entries(builds)) {
      const dataDir = join(disk, `data-${build}`);
      cpSync(seeded, dataDir, { recursive: true });
      const coffer = await startCoffer({ dataDir, cpus: SERVER_CPUS, main, nodeFlags: nodeFlags[build] });
      running.push(coffer);
      const fixture = await prepareFixture(coffer, signer, { corpusSize: options.secrets, randomSetSize: options.secrets, keyId, listPages: 1 });
      servers[build] = { coffer, fixture };
    }
    const workloadOf = (id: string) => {
      const workload = WORKLOADS.find((w) => w.id === id);
      if (!workload) throw new Error(`unknown workload ${id}`);
      return workload;
    };
    for (const id of options.workloads) {
      for (const { coffer, fixture } of Object.values(servers)) {
        await runLoad(coffer, workloadOf(id).source(coffer.host, signer, fixture), { connections: 64, durationSeconds: 2, timeoutSeconds: 60 });
      }
    }
    for (let round = 1; round <= options.rounds; round++) {
      for (const id of options.workloads) {
        // The order alternates between rounds, so neither build always runs right after the other's turn.
        const order = round % 2 === 1 ? ['base', 'candidate'] : ['candidate', 'base'];
        for (const build of order) {
          const { coffer, fixture } = servers[build]!;
          const m = await runLoad(coffer, workloadOf(id).source(coffer.host, signer, fixture), { connections: 64, durationSeconds: options.durationSeconds, timeoutSeconds: 10 });
          cells.push({ round, build, workload: id, m });
          log(`round ${round} ${build} ${id}: ${Math.round(m.requestsPerSecond)} req/s, ${m.serverCpuMicrosPerRequest.toFixed(1)} µs CPU/req, p99 ${m.p99Ms.toFixed(1)} ms, errors ${m.errors}, others ${m.otherCores.toFixed(2)} cores`);
        }
      }
    }
  } finally {
    for (const coffer of running) await coffer.stop();
    cleanUp();
  }
  const lines = ['| workload | build | CPU µs/req (median) | req/s (median) | p99 ms (median) |', '|---|---|---:|---:|---:|'];
  for (const workload of options.workloads) {
    const of = (build: string) => cells.filter((cell) => cell.workload === workload && cell.build === build).map((cell) => cell.m);
    for (const build of Object.keys(builds)) {
      const mine = of(build);
      lines.push(`| ${workload} | ${build} | ${median(mine.map((m) => m.serverCpuMicrosPerRequest)).toFixed(1)} | ${Math.round(median(mine.map((m) => m.requestsPerSecond)))} | ${median(mine.map((m) => m.p99Ms)).toFixed(1)} |`);
    }
    const base = of('base');
    const ratios = of('candidate').map((m, round) => m.serverCpuMicrosPerRequest / base[round]!.serverCpuMicrosPerRequest);
    const sorted = [...ratios].sort((a, b) => a - b);
    lines.push(
      `| ${workload} | candidate/base, median of ${ratios.length} rounds' ratios (quartiles ${sorted[Math.floor(sorted.length / 4)]!.toFixed(3)}–${sorted[Math.floor((3 * sorted.length) / 4)]!.toFixed(3)}) | ${median(ratios).toFixed(3)} | | |`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error) => {
  killAllPeers();
  process.stderr.write(`ab-interleaved failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
