/**
 * `coffer server --workers N`: N server processes under node:cluster sharing one port, on one data dir.
 *
 * - The primary serves no requests. It forks the workers (the first alone, so that migrations, the root key and
 *   the administrator bootstrap happen once; the others when it is ready), replaces a worker that dies, and is
 *   the ONE audit writer of the data dir: workers send each group-commit batch over IPC, the primary's writer
 *   thread seals and appends it to audit.db (batches of several workers that arrive together share one
 *   transaction) and answers with each event's place in the chain. One writer means no fight for audit.db's
 *   write lock and no retries, and the chain head is always the one it just wrote.
 * - Exactly one worker runs the maintenance timer (the first, or the one that replaced it).
 * - SIGTERM/SIGINT to the primary: every worker drains its in-flight requests (each still waits for its audit
 *   ack) and exits; then the primary closes audit.db and exits 0.
 */
import cluster, { type Worker } from 'node:cluster';
import { join } from 'node:path';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { AuditWriterThread, type AuditAppender, type AuditDraftRow, type AuditSeal, type AuditWriterAnchoring } from '../store/sqlite/index.js';

/** Set in the environment of the worker that runs the maintenance timer. */
const MAINTENANCE_ENV = 'COFFER_CLUSTER_MAINTENANCE';

type WorkerMessage =
  | { coffer: 'audit-append'; id: number; rows: AuditDraftRow[] }
  | { coffer: 'audit-probe'; id: number }
  | { coffer: 'ready' }
  | { coffer: 'metrics-scrape'; id: number }
  | { coffer: 'metrics-json'; id: number; metrics: MetricsJson };
type PrimaryMessage =
  | { coffer: 'audit-reply'; id: number; seals?: AuditSeal[]; error?: string }
  | { coffer: 'announce' }
  | { coffer: 'metrics-collect'; id: number }
  | { coffer: 'metrics-text'; id: number; text?: string; error?: string };

/** One process's metrics as prom-client's getMetricsAsJSON gives them. */
type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
/** How long the primary waits for the workers' metrics; a worker that has not answered by then is left out. */
const METRICS_COLLECT_TIMEOUT_MS = 3_000;

export type ClusterOptions = {
  workers: number;
  dataDir: string;
  /** Where the primary's own lines go (worker started, died, replaced). */
  log: (line: string) => void;
  /**
   * The anchoring of the primary's audit writer (the one writer of the chain anchors it): asked for once, when
   * the writer starts, after the first worker has opened the data dir and its root key.
   */
  auditAnchoring?: () => AuditWriterAnchoring;
  /** Whether the primary is the data dir's audit writer (SQLite: yes; PostgreSQL: each worker appends itself). */
  auditWriter?: boolean;
};

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker: whether this one runs the maintenance timer. */
export function runsMaintenance(): boolean {
  return process.env[MAINTENANCE_ENV] === '1';
}

/**
 * Runs the primary until it is told to stop; resolves with the exit code (0 after a clean stop, the first
 * worker's code when it could not start).
 */
export async function runClusterPrimary(options: ClusterOptions): Promise<number> {
  // Started once the first worker is ready (or at an earlier append), so that a start that fails (port in use,
  // wrong root key) creates no audit.db.
  let writer: AuditWriterThread | undefined;
  const auditWriter = () => {
    if (writer) return writer;
    const anchoring = anchoringOrNone(options);
    writer = new AuditWriterThread(join(options.dataDir, 'audit.db'), anchoring);
    // The thread has its own copy of the anchor key.
    anchoring?.options.key.fill(0);
    return writer;
  };
  const ready = new Set<Worker>();
  let maintenanceWorker: Worker | undefined;
  let stopping = false;

  const metrics = metricsGatherer(() => [...ready]);
  cluster.on('message', (worker, message: WorkerMessage) => {
    if (message?.coffer === 'ready') ready.add(worker);
    else if (message?.coffer === 'audit-append' || message?.coffer === 'audit-probe') answerAudit(worker, message, auditWriter());
    else if (message?.coffer === 'metrics-scrape') metrics.scrape(worker, message.id);
    else if (message?.coffer === 'metrics-json') metrics.collected(message.id, message.metrics);
  });

  const fork = (maintenance: boolean): Worker => {
    const worker = cluster.fork(maintenance ? { [MAINTENANCE_ENV]: '1' } : {});
    if (maintenance) maintenanceWorker = worker;
    return worker;
  };

  const first = fork(true);
  const firstStarted = await startedOrExit(first);
  if (firstStarted !== 'ready') return firstStarted.code;
  options.log(`worker 1 (pid ${first.process.pid}) ready`);
  // The data dir is open and migrated: start the writer now, so the first audited request need not wait for it.
  if (options.auditWriter !== false) auditWriter();
  for (let index = 2; index <= options.workers; index++) {
    const worker = fork(false);
    const started = await startedOrExit(worker);
    if (started === 'ready') options.log(`worker ${index} (pid ${worker.process.pid}) ready`);
    else options.log(`worker ${index} (pid ${worker.process.pid}) exited at start (code ${started.code}); continuing with fewer`);
  }
  send(first, { coffer: 'announce' });

  // A worker that dies while the cluster runs is replaced (the maintenance timer moves to its replacement).
  // One that dies before it was ready is not: it would most likely die again, over and over.
  const stopped = new Promise<number>((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      const wasReady = ready.delete(worker);
      if (stopping) return;
      const hadMaintenance = worker === maintenanceWorker;
      if (!wasReady) {
        options.log(`worker pid ${worker.process.pid} exited before it was ready (code ${code}, signal ${signal}); not replaced`);
        if (hadMaintenance) maintenanceWorker = undefined;
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          writer?.close();
          resolve(1);
        }
        return;
      }
      options.log(`worker pid ${worker.process.pid} died (code ${code}, signal ${signal}); starting a replacement`);
      const replacement = fork(hadMaintenance);
      void startedOrExit(replacement).then((started) => {
        if (started === 'ready') options.log(`replacement worker (pid ${replacement.process.pid}) ready`);
      });
    });
  });

  const signalled = new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      options.log(`${signal} received, stopping the workers`);
      const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
      let failed = false;
      void Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((done) => {
              worker.once('exit', (code) => {
                if (code !== 0) failed = true;
                done();
              });
              worker.process.kill('SIGTERM');
            }),
        ),
      ).then(() => {
        // Every worker has had its last event acknowledged: the audit writer closes after those appends.
        writer?.close();
        resolve(failed ? 1 : 0);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  return Promise.race([signalled, stopped]);
}

/** The writer's anchoring; if it cannot be had the chain is still written, and the log says loudly why unanchored. */
function anchoringOrNone(options: ClusterOptions): AuditWriterAnchoring | undefined {
  try {
    return options.auditAnchoring?.();
  } catch (error) {
    options.log(`ERROR: the audit chain will not be anchored: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/**
 * The primary's side of a scrape in cluster mode: a worker that received GET /metrics asks here; every ready worker
 * is asked for its metrics, and the asking worker gets them summed (gauges read from the store, the same on every
 * worker, are shown once: their aggregator is max). prom-client's AggregatorRegistry.aggregate does the summing.
 */
function metricsGatherer(readyWorkers: () => Worker[]) {
  let nextId = 1;
  const collecting = new Map<number, { parts: MetricsJson[]; waitingFor: number; done: () => void }>();

  function collected(id: number, metrics: MetricsJson): void {
    const collection = collecting.get(id);
    if (!collection) return;
    collection.parts.push(metrics);
    collection.waitingFor -= 1;
    if (collection.waitingFor === 0) collection.done();
  }

  async function gather(): Promise<string> {
    const id = nextId++;
    const workers = readyWorkers().filter((worker) => worker.isConnected());
    const parts: MetricsJson[] = [];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, METRICS_COLLECT_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      collecting.set(id, { parts, waitingFor: workers.length, done });
      if (workers.length === 0) done();
      for (const worker of workers) send(worker, { coffer: 'metrics-collect', id });
    });
    collecting.delete(id);
    return AggregatorRegistry.aggregate(parts).metrics();
  }

  return {
    collected,
    scrape(asking: Worker, id: number): void {
      gather().then(
        (text) => send(asking, { coffer: 'metrics-text', id, text }),
        (error: unknown) => send(asking, { coffer: 'metrics-text', id, error: error instanceof Error ? error.message : String(error) }),
      );
    },
  };
}

/**
 * In a worker: answers the primary's requests for this worker's metrics, and gives the scrape of the whole
 * cluster (the primary gathers it) to this worker's /metrics. Answer before reportReady(): the primary asks only
 * ready workers.
 */
export function clusterMetrics() {
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let registry: Registry | undefined;
  process.on('message', (message: PrimaryMessage) => {
    if (message?.coffer === 'metrics-collect') {
      const local = registry ? registry.getMetricsAsJSON() : Promise.resolve([]);
      void local.then(
        (metrics) => process.connected && process.send!({ coffer: 'metrics-json', id: message.id, metrics } satisfies WorkerMessage),
        () => process.connected && process.send!({ coffer: 'metrics-json', id: message.id, metrics: [] } satisfies WorkerMessage),
      );
    } else if (message?.coffer === 'metrics-text') {
      const entry = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error !== undefined || message.text === undefined) entry?.reject(new Error(message.error ?? 'no metrics'));
      else entry?.resolve(message.text);
    }
  });
  process.on('disconnect', () => {
    for (const entry of waiting.values()) entry.reject(new Error('the cluster primary is gone'));
    waiting.clear();
  });
  return {
    /** This worker's registry, once its server is open. */
    serve(workerRegistry: Registry): void {
      registry = workerRegistry;
    },
    /** Every ready worker's metrics, summed by the primary. */
    scrape(): Promise<string> {
      return new Promise((resolve, reject) => {
        if (!process.connected) return reject(new Error('the cluster primary is gone'));
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        process.send!({ coffer: 'metrics-scrape', id } satisfies WorkerMessage);
      });
    },
  };
}

/** Appends (or probes) for a worker and answers it; the writer merges concurrent batches into one commit. */
function answerAudit(worker: Worker, message: Extract<WorkerMessage, { id: number }>, writer: AuditAppender): void {
  const answer = message.coffer === 'audit-append' ? writer.append(message.rows) : writer.probe().then(() => undefined);
  answer.then(
    (seals) => send(worker, { coffer: 'audit-reply', id: message.id, seals: seals ?? undefined }),
    (error: unknown) => send(worker, { coffer: 'audit-reply', id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
}

function send(worker: Worker, message: PrimaryMessage): void {
  // A worker that has gone away meanwhile cannot be answered; its requests went with it.
  if (worker.isConnected()) worker.send(message);
}

/** Waits for a worker's 'ready' message, or its exit before it. */
function startedOrExit(worker: Worker): Promise<'ready' | { code: number }> {
  return new Promise((resolve) => {
    const onMessage = (message: WorkerMessage) => {
      if (message?.coffer !== 'ready') return;
      worker.off('exit', onExit);
      worker.off('message', onMessage);
      resolve('ready');
    };
    const onExit = (code: number | null) => {
      worker.off('message', onMessage);
      resolve({ code: code || 1 });
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
}

/** In a worker: tells the primary this worker is open (data dir opened, listening). */
export function reportReady(): void {
  process.send!({ coffer: 'ready' } satisfies WorkerMessage);
}

/** In a worker: runs `announce` when the primary says every worker is up. */
export function onAnnounce(announce: () => void): void {
  process.on('message', (message: PrimaryMessage) => {
    if (message?.coffer === 'announce') announce();
  });
}

/**
 * In a worker: the primary's audit writer, reached over IPC. Each call is one message; replies are matched by
 * number. If the primary is gone, appends fail (fail-open logs them, fail-closed answers 5xx).
 */
export function clusterAuditAppender(): AuditAppender {
  const waiting = new Map<number, { resolve: (seals: AuditSeal[]) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  process.on('message', (message: PrimaryMessage) => {
    if (message?.coffer !== 'audit-reply') return;
    const entry = waiting.get(message.id);
    waiting.delete(message.id);
    if (!entry) return;
    if (message.error !== undefined) entry.reject(new Error(message.error));
    else entry.resolve(message.seals ?? []);
  });
  process.on('disconnect', () => {
    for (const entry of waiting.values()) entry.reject(new Error('the cluster primary (the audit writer) is gone'));
    waiting.clear();
  });
  const ask = (message: WorkerMessage & { id: number }) =>
    new Promise<AuditSeal[]>((resolve, reject) => {
      if (!process.connected) return reject(new Error('the cluster primary (the audit writer) is gone'));
      waiting.set(message.id, { resolve, reject });
      process.send!(message, undefined, undefined, (error: Error | null) => {
        if (!error) return;
        waiting.delete(message.id);
        reject(error);
      });
    });
  return {
    append: (rows) => ask({ coffer: 'audit-append', id: nextId++, rows }),
    probe: async () => {
      await ask({ coffer: 'audit-probe', id: nextId++ });
    },
    close: () => {},
  };
}
