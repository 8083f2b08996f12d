/**
 * `node bench/dist/cluster-coffer.js N MAIN server ...`: a measurement aid for issue 6's "1 against 2
 * processes" (`--coffer-workers N`), not a Coffer feature. A node:cluster primary forks N processes that each
 * run `coffer server` with the same arguments and share its listening port (the primary hands accepted
 * connections out round-robin). The first one starts alone, so that the root key, the migrations and the
 * admin bootstrap happen once; the others start when it listens. Each process does every request's full
 * work (SigV4, authorization, decryption, its audit event).
 *
 * Caveats, why Coffer itself does not offer this yet (bench/RESULTS.md): every process runs the maintenance
 * timer, and the store's read-then-write transactions are DEFERRED, which SQLite refuses to upgrade when
 * another process committed since their read (SQLITE_BUSY): fine for the read workloads measured with it,
 * not for concurrent writes.
 */
import cluster from 'node:cluster';
import { once } from 'node:events';

const [countText, main, ...args] = process.argv.slice(2);
const count = Number(countText);
if (!(count >= 1) || !main) throw new Error('usage: cluster-coffer.js N COFFER_MAIN server [args]');

cluster.setupPrimary({ exec: main, args });
const first = cluster.fork();
await once(first, 'listening');
for (let i = 1; i < count; i++) await once(cluster.fork(), 'listening');

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  const workers = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
  let left = workers.length;
  if (left === 0) process.exit(0);
  for (const worker of workers) {
    worker.once('exit', () => {
      if (--left === 0) process.exit(0);
    });
    worker.process.kill('SIGTERM');
  }
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
cluster.on('exit', (worker, code, signal) => {
  if (!stopping) {
    process.stderr.write(`cluster-coffer: worker ${worker.process.pid} exited (code ${code}, signal ${signal}); stopping\n`);
    stop();
  }
});
