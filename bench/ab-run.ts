/**
 * A same-run A/B of two builds on the read path (issue 21): `node bench/dist/ab-run.js --base DIR [--candidate DIR]
 * [--rounds N] [--duration S] [--workloads get-hot,kms-decrypt] [--secrets N] [--seed-with base|candidate]`. One seeded data
 * dir (seeded by the candidate unless told: a candidate with a new migration is compared on the base's schema, which
 * it then upgrades at its start, with `--seed-with base`); each round
 * starts the base build and then the candidate (default: dist/) on a fresh copy of it, the server pinned to CPU 0
 * and this process (the load generator) to CPU 1, 64 connections, and runs each workload after a warm-up. Prints
 * server CPU per request (all threads), req/s and p99 of every cell, then the medians and the candidate/base ratios.
 * `--signer admin` signs with an access key of the account's root kept in the store, as a user of the admin
 * credentials signs, instead of `--dev`'s built-in test key (which needs no store read to verify).
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
import { CreateAccessKeyCommand, IAMClient } from '@aws-sdk/client-iam';
import { Signer } from './signer.js';
import { WORKLOADS } from './workloads.js';

type Options = { base: string; candidate: string; rounds: number; durationSeconds: number; workloads: string[]; secrets: number; seedWith: 'base' | 'candidate'; signer: 'dev' | 'admin' };

function parse(argv: string[]): Options {
  const options: Options = { base: '', candidate: join(REPO_ROOT, 'dist'), rounds: 3, durationSeconds: 5, workloads: ['get-hot', 'kms-decrypt'], secrets: 2000, seedWith: 'candidate', signer: 'dev' };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? '';
    switch (argv[i]) {
      case '--base': options.base = resolve(value()); break;
      case '--candidate': options.candidate = resolve(value()); break;
      case '--rounds': options.rounds = Number(value()); break;
      case '--duration': options.durationSeconds = Number(value()); break;
      case '--workloads': options.workloads = value().split(','); break;
      case '--secrets': options.secrets = Number(value()); break;
      case '--seed-with': options.seedWith = value() === 'base' ? 'base' : 'candidate'; break;
      case '--signer': options.signer = value() === 'admin' ? 'admin' : 'dev'; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!options.base) throw new Error('usage: node bench/dist/ab-run.js --base DIR [--candidate DIR] [--rounds N] [--duration S] [--workloads a,b] [--secrets N] [--seed-with base|candidate] [--signer dev|admin]');
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
  let signer = new Signer(DEV_KEY);
  snapshotBuild(options.seedWith === 'base' ? options.base : options.candidate); // seeding opens that build in-process
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
  try {
    const seeded = join(disk, 'seeded');
    const { keyId } = await seedCoffer(seeded, join(scratch, 'seed'), options.secrets, signer);
    if (options.signer === 'admin') signer = new Signer(await storedRootKey(seeded, builds.candidate, nodeFlags.candidate!));
    for (let round = 1; round <= options.rounds; round++) {
      for (const [build, main] of Object.entries(builds)) {
        const dataDir = join(disk, `data-${build}-${round}`);
        cpSync(seeded, dataDir, { recursive: true });
        const coffer = await startCoffer({ dataDir, cpus: SERVER_CPUS, main, nodeFlags: nodeFlags[build] });
        try {
          const fixture = await prepareFixture(coffer, signer, { corpusSize: options.secrets, randomSetSize: options.secrets, keyId, listPages: 1 });
          for (const id of options.workloads) {
            const workload = WORKLOADS.find((w) => w.id === id);
            if (!workload) throw new Error(`unknown workload ${id}`);
            await runLoad(coffer, workload.source(coffer.host, signer, fixture), { connections: 64, durationSeconds: 1, timeoutSeconds: 60 });
            const m = await runLoad(coffer, workload.source(coffer.host, signer, fixture), { connections: 64, durationSeconds: options.durationSeconds, timeoutSeconds: 10 });
            cells.push({ round, build, workload: id, m });
            log(`round ${round} ${build} ${id}: ${Math.round(m.requestsPerSecond)} req/s, ${m.serverCpuMicrosPerRequest.toFixed(1)} µs CPU/req, p99 ${m.p99Ms.toFixed(1)} ms, errors ${m.errors}, others ${m.otherCores.toFixed(2)} cores`);
          }
        } finally {
          await coffer.stop();
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    cleanUp();
  }
  const lines = ['| workload | build | CPU µs/req (median) | req/s (median) | p99 ms (median) | rounds: CPU µs/req |', '|---|---|---:|---:|---:|---|'];
  for (const workload of options.workloads) {
    const byBuild: Record<string, number> = {};
    for (const build of Object.keys(builds)) {
      const mine = cells.filter((cell) => cell.workload === workload && cell.build === build).map((cell) => cell.m);
      byBuild[build] = median(mine.map((m) => m.serverCpuMicrosPerRequest));
      lines.push(
        `| ${workload} | ${build} | ${byBuild[build]!.toFixed(1)} | ${Math.round(median(mine.map((m) => m.requestsPerSecond)))} | ${median(mine.map((m) => m.p99Ms)).toFixed(1)} | ${mine.map((m) => m.serverCpuMicrosPerRequest.toFixed(1)).join(', ')} |`,
      );
    }
    lines.push(`| ${workload} | candidate/base | ${(byBuild.candidate! / byBuild.base!).toFixed(3)} | | | |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** An access key of account 000000000000's root, created in the seeded data dir (so every copy of it has it). */
async function storedRootKey(seeded: string, main: string, nodeFlags: string[]): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const coffer = await startCoffer({ dataDir: seeded, cpus: SERVER_CPUS, main, nodeFlags });
  try {
    const iam = new IAMClient({ endpoint: coffer.url, region: 'us-east-1', credentials: DEV_KEY });
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({}));
    iam.destroy();
    return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  } finally {
    await coffer.stop();
  }
}

main().catch((error) => {
  killAllPeers();
  process.stderr.write(`ab-run failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
