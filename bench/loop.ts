/**
 * `node [--cpu-prof] bench/dist/loop.js [--workload get-hot] [--concurrency 64] [--seconds 5] [--build DIR]`:
 * a profiling aid, not part of the report. The build's openCoffer() on a data dir on disk (so that audit
 * commits pay a real fsync), fed by `concurrency` loops that each hand the next pooled signed request to the
 * pipeline as soon as the previous one answered: the server's work without HTTP, sockets or a load
 * generator competing for the CPU. Prints req/s and CPU µs per request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TARGET_PREFIX, type Call } from './aws-call.js';
import { openInProcess, snapshotBuild, removeSnapshot } from './coffer-build.js';
import type { Fixture } from './fixtures.js';
import { DEV_KEY } from './peers.js';
import { seedCoffer } from './seed.js';
import { Signer } from './signer.js';
import { encrypt, WORKLOADS } from './workloads.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : process.argv[index + 1]!;
}

async function main(): Promise<void> {
  const workloadIds = option('--workload', 'get-hot').split(',');
  const concurrency = Number(option('--concurrency', '64'));
  const seconds = Number(option('--seconds', '5'));
  const secrets = Number(option('--secrets', '200'));
  const build = process.argv.includes('--build') ? option('--build', '') : undefined;
  snapshotBuild(build);
  const disk = mkdtempSync(join(tmpdir(), 'coffer-loop-'));
  const scratch = mkdtempSync('/dev/shm/coffer-loop-');
  const signer = new Signer(DEV_KEY);
  try {
    const { keyId } = await seedCoffer(join(disk, 'data'), join(scratch, 'seed'), secrets, signer);
    const coffer = await openInProcess(join(disk, 'data'));
    const sign = (call: Call) => signer.sign('loop.local', call.service, `${TARGET_PREFIX[call.service]}.${call.operation}`, JSON.stringify(call.payload));
    const ciphertexts: string[] = [];
    for (let i = 0; i < 32; i++) ciphertexts.push(JSON.parse((await coffer.call(sign(encrypt(keyId)))).body).CiphertextBlob);
    const fixture: Fixture = { corpusSize: secrets, randomSetSize: secrets, keyId, ciphertexts, listTokens: [undefined] };
    for (const id of workloadIds) {
      const workload = WORKLOADS.find((w) => w.id === id);
      if (!workload) throw new Error(`unknown workload ${id}`);
      const run = async (ms: number) => {
        const source = workload.source('loop.local', signer, fixture);
        const end = performance.now() + ms;
        let answered = 0;
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (performance.now() < end) {
              const response = await coffer.call(source.next());
              if (response.status !== 200) throw new Error(`${id} answered ${response.status}: ${response.body.slice(0, 200)}`);
              answered++;
            }
          }),
        );
        const cpu = process.cpuUsage(cpuBefore);
        return { perSecond: answered / ((performance.now() - started) / 1000), cpuMicros: (cpu.user + cpu.system) / answered };
      };
      await run(1000);
      const result = await run(seconds * 1000);
      process.stdout.write(`${id} @${concurrency}: ${Math.round(result.perSecond)} req/s, ${result.cpuMicros.toFixed(1)} µs CPU/req\n`);
    }
    await coffer.close();
  } finally {
    rmSync(disk, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
    removeSnapshot();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`loop failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
