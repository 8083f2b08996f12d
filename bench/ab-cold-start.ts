/**
 * A same-run A/B of two builds' cold start (issue 21): `node bench/dist/ab-cold-start.js --base DIR [--candidate DIR]
 * [--starts N] [--secrets N]`. DIR is a checkout (its dist/ and bin/coffer: each build starts with its own Node
 * flags, as `coffer` runs). Each start spawns `coffer server` on CPU 0 (the bench on CPU 1) and times it to its first
 * answered /health and its first signed 200 (coldStart() of cold-start.ts), base and candidate alternated: N
 * starts each on an empty data dir (GetRandomPassword), then N each on a fresh copy of a data dir seeded with
 * `--secrets` secrets (GetSecretValue). The server's CPU (all threads) to the first signed answer is read from
 * /proc as well: on a busy machine it is steadier than the wall clock.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cofferNodeFlags, removeSnapshot, REPO_ROOT, snapshotBuild, snapshotCompareBuild } from './coffer-build.js';
import { coldStart, type ColdStart } from './cold-start.js';
import { log } from './log.js';
import { DEV_KEY, killAllPeers, LOAD_CPUS, pinSelf, SERVER_CPUS, startCoffer, type Peer } from './peers.js';
import { seedCoffer } from './seed.js';
import { Signer } from './signer.js';
import { getSecretValue } from './workloads.js';

type Start = ColdStart & { cpuMs: number };

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const options = { base: '', candidate: REPO_ROOT, starts: 7, secrets: 2000 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? '';
    if (argv[i] === '--base') options.base = resolve(value());
    else if (argv[i] === '--candidate') options.candidate = resolve(value());
    else if (argv[i] === '--starts') options.starts = Number(value());
    else if (argv[i] === '--secrets') options.secrets = Number(value());
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!options.base) throw new Error('usage: node bench/dist/ab-cold-start.js --base CHECKOUT [--candidate CHECKOUT] [--starts N] [--secrets N]');
  pinSelf(LOAD_CPUS);
  const signer = new Signer(DEV_KEY);
  snapshotBuild(join(options.candidate, 'dist')); // seeding opens the candidate in-process
  const builds = Object.entries({ base: options.base, candidate: options.candidate }).map(([label, checkout]) => ({
    label,
    main: snapshotCompareBuild(label, join(checkout, 'dist')),
    nodeFlags: cofferNodeFlags(join(checkout, 'bin/coffer')),
  }));
  const disk = mkdtempSync(join(tmpdir(), 'coffer-ab-cold-'));
  const starts: Record<string, Start[]> = {};
  try {
    const seeded = join(disk, 'seeded');
    await seedCoffer(seeded, join(disk, 'seed-scratch'), options.secrets, signer);
    let run = 0;
    for (const dataDirKind of ['empty', 'seeded'] as const) {
      for (let round = 1; round <= options.starts; round++) {
        for (const build of builds) {
          const dataDir = join(disk, `start-${run++}`);
          if (dataDirKind === 'seeded') cpSync(seeded, dataDir, { recursive: true });
          let peer: Peer | undefined;
          let cpuMs = 0;
          const started = await coldStart(
            async () => {
              peer = await startCoffer({ dataDir, cpus: SERVER_CPUS, main: build.main, nodeFlags: build.nodeFlags });
              const stop = peer.stop;
              // The server's CPU up to its first signed answer: read just before it is stopped.
              return { ...peer, stop: () => ((cpuMs = peer!.cpuMicros() / 1000), stop()) };
            },
            dataDirKind === 'empty' ? { service: 'secretsmanager', operation: 'GetRandomPassword', payload: { PasswordLength: 32 } } : getSecretValue(0),
            signer,
          );
          rmSync(dataDir, { recursive: true, force: true });
          (starts[`${dataDirKind} ${build.label}`] ??= []).push({ ...started, cpuMs });
          log(`${dataDirKind} ${build.label} #${round}: /health ${started.healthMs.toFixed(0)} ms, first signed ${started.firstSignedMs.toFixed(0)} ms, CPU ${cpuMs.toFixed(0)} ms`);
        }
      }
    }
  } finally {
    killAllPeers();
    rmSync(disk, { recursive: true, force: true });
    removeSnapshot();
  }
  const lines = ['| data dir | build | spawn → /health (median) | spawn → first signed answer (median) | server CPU to it (median) | first signed, every start |', '|---|---|---:|---:|---:|---|'];
  for (const [key, list] of Object.entries(starts)) {
    const [kind, label] = key.split(' ');
    lines.push(
      `| ${kind} | ${label} | ${median(list.map((s) => s.healthMs)).toFixed(0)} ms | ${median(list.map((s) => s.firstSignedMs)).toFixed(0)} ms | ${median(list.map((s) => s.cpuMs)).toFixed(0)} ms | ${list.map((s) => s.firstSignedMs.toFixed(0)).join(', ')} |`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`ab-cold-start failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
