/**
 * The pipeline without HTTP: the built server's openCoffer() on the benchmark's data dir, each workload's
 * signed requests handed to the request pipeline one after another (SigV4 verify, schema, operation, JSON)
 * and the CPU time per request measured. Set beside the server's CPU per request, the difference is what
 * the HTTP edge, the event loop and the sockets cost.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openInProcess } from './coffer-build.js';
import type { Fixture } from './fixtures.js';
import { DEV_KEY } from './peers.js';
import { Signer } from './signer.js';
import { WORKLOADS } from './workloads.js';

const HOST = 'in-process.local';

/**
 * CPU microseconds per request of each workload through the in-process pipeline (one request at a time,
 * awaited), measured in a fresh child process: the bench's own process has seeded through the same code
 * and holds the run's data, neither of which a server has.
 */
export function measureInProcess(job: InProcessJob, cpus: string | undefined): Promise<Record<string, number>> {
  const [command, args] = cpus === undefined ? [process.execPath, [CHILD]] : ['taskset', ['-c', cpus, process.execPath, CHILD]];
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  return new Promise((resolve, reject) => {
    let answered = false;
    child.once('message', (message: { micros?: Record<string, number>; error?: string }) => {
      answered = true;
      if (message.micros) resolve(message.micros);
      else reject(new Error(`in-process measurement failed: ${message.error}`));
    });
    child.once('exit', (code) => {
      if (!answered) reject(new Error(`in-process measurement exited with code ${code}`));
    });
    child.send(job);
  });
}

export type InProcessJob = { dataDir: string; workloadIds: string[]; fixture: Fixture; budgetMs: number };

const CHILD = fileURLToPath(import.meta.url);

async function measure(job: InProcessJob): Promise<Record<string, number>> {
  const signer = new Signer(DEV_KEY);
  const coffer = await openInProcess(job.dataDir);
  const micros: Record<string, number> = {};
  try {
    for (const workload of WORKLOADS.filter((w) => job.workloadIds.includes(w.id))) {
      const requests = workload.source(HOST, signer, job.fixture);
      const run = async (count: number) => {
        // Signed before timing: PutSecretValue signs per request, and signing is the client's cost.
        const batch = Array.from({ length: count }, () => requests.next());
        const before = process.cpuUsage();
        for (const request of batch) {
          const response = await coffer.call(request);
          if (response.status !== 200) throw new Error(`${workload.id} answered ${response.status}: ${response.body.slice(0, 200)}`);
        }
        const used = process.cpuUsage(before);
        return used.user + used.system;
      };
      /** Batches of growing size until `ms` have passed; CPU µs per request over all of them. */
      const runFor = async (ms: number) => {
        const end = performance.now() + ms;
        let requests = 0;
        let micros = 0;
        for (let size = 1; requests === 0 || performance.now() < end; size = Math.min(size * 2, 1_000)) {
          micros += await run(size);
          requests += size;
        }
        return micros / requests;
      };
      await runFor(job.budgetMs / 3); // warm-up: the JIT, the page cache
      micros[workload.id] = await runFor(job.budgetMs);
    }
  } finally {
    await coffer.close();
  }
  return micros;
}

// Run as a child: one job over IPC, one answer, exit.
if (process.argv[1] === CHILD && process.send) {
  process.once('message', (job: InProcessJob) => {
    measure(job).then(
      (micros) => process.send!({ micros }, () => process.exit(0)),
      (error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) }, () => process.exit(1)),
    );
  });
}
