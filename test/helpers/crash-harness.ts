import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import postgres from 'postgres';
import { auditEvents, coffer, POSTGRES_AUDIT_BODY_COLUMNS, POSTGRES_AUDIT_TEMPLATES, postgresAuditBody } from './audit.js';
import { startChildNodes, type ChildNodes } from './child-nodes.js';
import { killChildServers, startChildServer, type ChildServer } from './child-server.js';
import { startHttpRotationFunction, type HttpRotationFunction } from './http-rotation-function.js';
import { MixedWriteLoad, type Acknowledged, type LoadNode } from './mixed-write-load.js';
import { createFailoverCluster } from './postgres-failover-cluster.js';
import type { AccessKey } from './signed-fetch.js';

/**
 * Issue 20, crash safety: a mixed write load (CreateSecret, PutSecretValue, UpdateSecretVersionStage,
 * RotateSecret, CreateKey + Encrypt, CreateUser, PutUserPolicy) from several clients while the server — on
 * PostgreSQL a node among several, or the database primary — is killed with SIGKILL at random moments; then
 * every acknowledged call must read back, the staging labels hold, and every acknowledged call have its event
 * in an audit chain that verifies. docs/reliability.md, "Crash safety" says what this covers and what it does not.
 */

/** Every server of the runs: rotation leases of 2 s and maintenance every second, so killed rotations resume quickly. */
const SERVER_ARGS = ['--rotation-lease', '2', '--maintenance-interval', '1'];
/** The nodes' --store-timeout on PostgreSQL: calls fail fast while the primary is gone. */
const STORE_TIMEOUT_MS = 3_000;
/** The SDK gives up after this, so a hang shows as a TimeoutError in the ledger instead of blocking the run. */
const CLIENT_TIMEOUT_MS = 30_000;
const REGION = 'us-east-1';
/** Each kill waits for a write acknowledged since the last one (so every kill lands under load), then up to this. */
const MAX_EXTRA_DELAY_MS = 800;
const ACK_WAIT_LIMIT_MS = 60_000;
/** Settling failed calls, the rotations left open, and reading everything back. */
const SETTLE_LIMIT_MS = 180_000;
/** Our PostgreSQL clusters' ports (the machine's own is 5432). */
const CLUSTER_PORTS = { base: 5441, spread: 9 };
/** What the recorder logs when an event could not be written (audit/recorder.ts). */
const AUDIT_WRITE_FAILED = /audit event could not be written/g;
/** What the recorder logs when a batch's events went to the spool instead (appended to the chain later). */
const AUDIT_SPOOLED = /audit events spooled/g;
/** What the recorder logs when a batch went in on a retry after the store was unreachable (a failover). */
const AUDIT_RETRIED = /audit events appended on a retry/g;

/**
 * The size of a run, from the environment: the reduced run of `npm test` (3 kills per store) unless
 * COFFER_CRASH_KILLS says more (`npm run reliability:crash`: 50). On PostgreSQL one kill in five is the primary's.
 */
export function crashRunSize() {
  const kills = Number(process.env.COFFER_CRASH_KILLS ?? 3);
  return { kills, primaryKills: Math.max(1, Math.round(kills / 5)), workers: 6, timeoutMs: kills >= 20 ? 3_600_000 : 150_000 };
}

/**
 * What a run must show: every kill made, writes of each kind acknowledged, nothing lost, no label out of
 * place, every acknowledged call audited, the chain verified. Prints the figures first, and writes them to
 * COFFER_CRASH_REPORT_DIR/crash-<store>.json when that is set.
 */
export function checkCrashRun(t: TestContext, run: CrashFigures, kills: number): void {
  const reportDir = process.env.COFFER_CRASH_REPORT_DIR;
  if (reportDir) writeFileSync(join(reportDir, `crash-${run.store}.json`), `${JSON.stringify(run, null, 2)}\n`);
  t.diagnostic(
    `${run.store} (${run.audit}): kills ${JSON.stringify(run.kills)}; acknowledged calls ${run.acknowledgedCalls}, writes ${JSON.stringify(run.acknowledgedWrites)}; ` +
      `failed calls ${run.failedCalls}; lost ${run.lost.length}; invariant violations ${run.invariantViolations.length}; unaudited ${run.unaudited.length}; ` +
      `audit write failures ${run.auditWriteFailures}; audit batches retried ${run.auditRetriedBatches}, spooled ${run.auditSpooledBatches}; ${Math.round(run.durationMs / 1000)} s`,
  );
  assert.equal(Object.values(run.kills).reduce((sum, each) => sum + each, 0), kills);
  const writes = run.acknowledgedWrites;
  assert.ok(writes.versions > 0 && writes.keys > 0 && writes.rotations > 0 && writes.users > 0, `too few writes of some kind: ${JSON.stringify(writes)}`);
  assert.deepEqual(run.lost.slice(0, 20), [], `${run.lost.length} acknowledged writes lost or wrong`);
  assert.deepEqual(run.invariantViolations.slice(0, 20), [], `${run.invariantViolations.length} label invariants broken`);
  assert.deepEqual(run.unaudited.slice(0, 20), [], `${run.unaudited.length} acknowledged calls without an audit event`);
  assert.equal(run.auditVerify.code, 0, run.auditVerify.output);
  assert.match(run.auditVerify.output, /chain intact/);
}

export type CrashRunOptions = {
  kills: number;
  workers: number;
  /** A line of progress (the test's diagnostic). */
  log(line: string): void;
};

export type CrashFigures = {
  store: 'sqlite' | 'postgres';
  audit: 'fail-open' | 'fail-closed';
  kills: Record<string, number>;
  /** Acknowledged calls in all, and acknowledged writes by kind. */
  acknowledgedCalls: number;
  acknowledgedWrites: ReturnType<MixedWriteLoad['counts']>;
  failedCalls: number;
  /** Acknowledged writes that did not read back (or read back wrong), by the read-back through each node. */
  lost: string[];
  /** Staging labels not where the acknowledged calls put them, and wrong answers during the load. */
  invariantViolations: string[];
  /** Acknowledged calls without an audit event of their request id and operation that records no error. */
  unaudited: string[];
  /** Lines "audit event could not be written" in the servers' logs (fail-open let those calls through). */
  auditWriteFailures: number;
  /** Lines "audit events spooled": batches the audit log refused, kept in a node's spool until it took them. */
  auditSpooledBatches: number;
  /** Lines "audit events appended on a retry": batches that went in once the store answered again, within the retry. */
  auditRetriedBatches: number;
  /** `coffer audit verify`: exit code and output. */
  auditVerify: { code: number; output: string };
  durationMs: number;
};

/**
 * One `coffer server` on a SQLite data dir (fail-open auditing, the default), `kills` times SIGKILLed under the
 * load and started again on the same data dir and port.
 */
export async function sqliteCrashRun(options: CrashRunOptions): Promise<CrashFigures> {
  const startedAt = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-crash-'));
  let server = await startChildServer({ dataDir, args: SERVER_ARGS });
  const port = Number(new URL(server.url).port);
  const admin = server.printedAdmin!;
  const rotation = await startHttpRotationFunction({ nodes: () => liveUrls([server]), credentials: admin });
  const auditLog = new AuditLogTally();
  try {
    const node = loadNode('server', server.url, admin);
    const load = new MixedWriteLoad([node], { rotation: { functionArn: await createRotationFunction(server.url, admin, rotation.url) }, iam: true });
    load.start(options.workers);
    await warmedUp(load);
    let kills = 0;
    try {
      for (let since = Date.now(); kills < options.kills; ) {
        await underLoad(load, since);
        process.kill(server.pid, 'SIGKILL');
        await server.exited;
        kills++;
        auditLog.add(server.stderr());
        server = await startChildServer({ dataDir, port, args: SERVER_ARGS });
        since = Date.now();
        if (kills % 10 === 0) options.log(`sqlite: ${kills} kills, ${JSON.stringify(load.counts())}`);
      }
    } finally {
      await load.halt();
    }
    const deadline = Date.now() + SETTLE_LIMIT_MS;
    await load.stop(deadline);
    await load.waitForRotations(node, deadline);
    const { lost, invariantViolations } = await readBack(load, [node]);
    auditLog.add(server.stderr());
    await server.stop('SIGTERM');
    const events = auditedCalls(auditEvents(dataDir) as AuditedCall[]);
    const verify = await coffer(['audit', 'verify', '--data-dir', dataDir]);
    return crashFigures({ store: 'sqlite', audit: 'fail-open', kills: { server: kills } }, { load, lost, invariantViolations, events, auditLog, verify, startedAt });
  } finally {
    await rotation.close();
    await killChildServers();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.audit-anchors`, { force: true });
    rmSync(`${dataDir}.audit-spool`, { recursive: true, force: true });
  }
}

/**
 * Three `coffer server` nodes (fail-open auditing, the default, unless `auditFailClosed`) on a PostgreSQL primary
 * with a synchronous standby, both hosts in their connection string. Of the `kills`, one in five is the
 * primary's (SIGKILL; the standby promoted; the dead primary rebuilt as the new primary's synchronous
 * standby before the next kill), the others a node's (SIGKILL; started again on its data dir and port while
 * the other nodes serve).
 */
export async function postgresCrashRun(
  options: CrashRunOptions & {
    primaryKills: number;
    /** Run the nodes with `--audit-fail-closed` (default: fail-open, where the audit spool keeps every acknowledged call's event). */
    auditFailClosed?: boolean;
  },
): Promise<CrashFigures> {
  const startedAt = Date.now();
  const cluster = await createFailoverCluster({ ports: CLUSTER_PORTS });
  let nodes: ChildNodes | undefined;
  let rotation: HttpRotationFunction | undefined;
  try {
    const database = `crash_${randomBytes(4).toString('hex')}`;
    await cluster.createDatabase(database);
    const url = cluster.connectionString(database);
    nodes = await startChildNodes(3, {
      database: { url, drop: async () => undefined },
      args: [...SERVER_ARGS, '--store-timeout', String(STORE_TIMEOUT_MS), ...(options.auditFailClosed ? ['--audit-fail-closed'] : [])],
    });
    const deployment = nodes;
    const admin = deployment.admin;
    options.log(`postgres: cluster and nodes up after ${Date.now() - startedAt} ms`);
    rotation = await startHttpRotationFunction({ nodes: () => liveUrls(deployment.live()), credentials: admin });
    // Each load node keeps its name and URL; a restarted node listens on the same port.
    const loadNodes = deployment.nodes.map((node, index) => loadNode(`n${index}`, node.url, admin));
    const functionArn = await createRotationFunction(deployment.nodes[0]!.url, admin, rotation.url);
    const load = new MixedWriteLoad(loadNodes, { rotation: { functionArn }, iam: true });
    load.start(options.workers);
    await warmedUp(load);
    const schedule = shuffle([...Array<'node'>(options.kills - options.primaryKills).fill('node'), ...Array<'primary'>(options.primaryKills).fill('primary')]);
    const kills = { node: 0, primary: 0 };
    const auditLog = new AuditLogTally();
    try {
      for (let since = Date.now(); kills.node + kills.primary < schedule.length; since = Date.now()) {
        await underLoad(load, since);
        if (schedule[kills.node + kills.primary] === 'primary') {
          const killedAt = Date.now();
          await cluster.killPrimary();
          kills.primary++;
          await cluster.promoteStandby();
          const promotedAt = Date.now();
          // A standby again before the next kill (after the last one, none is needed: no kill follows).
          const another = kills.node + kills.primary < schedule.length;
          if (another) await cluster.rebuildStandby();
          options.log(`postgres: primary killed; promoted in ${promotedAt - killedAt} ms${another ? `, standby rebuilt in ${Date.now() - promotedAt} ms` : ''}`);
        } else {
          const victim = deployment.nodes[randomInt(deployment.nodes.length)]!;
          process.kill(victim.pid, 'SIGKILL');
          await victim.exited;
          kills.node++;
          auditLog.add(victim.stderr());
          await deployment.restart(victim);
        }
        const done = kills.node + kills.primary;
        if (done % 10 === 0) options.log(`postgres: ${done} kills (${kills.primary} of the primary), ${JSON.stringify(load.counts())}`);
      }
    } finally {
      await load.halt();
    }
    options.log(`postgres: kills done after ${Date.now() - startedAt} ms`);
    const deadline = Date.now() + SETTLE_LIMIT_MS;
    await load.stop(deadline);
    await load.waitForRotations(loadNodes[0]!, deadline);
    options.log(`postgres: settled after ${Date.now() - startedAt} ms`);
    const { lost, invariantViolations } = await readBack(load, loadNodes);
    options.log(`postgres: read back after ${Date.now() - startedAt} ms`);
    for (const node of deployment.nodes) {
      auditLog.add(node.stderr());
      await node.stop('SIGTERM');
    }
    // Through the multi-host URL, as the nodes connect: whichever server is the primary now.
    const sql = postgres(cluster.connectionString(database, 'primary'), { max: 1, onnotice: () => undefined });
    const [rows, templates] = await Promise.all([
      sql.unsafe(`SELECT ${POSTGRES_AUDIT_BODY_COLUMNS} FROM audit_events`),
      sql.unsafe(POSTGRES_AUDIT_TEMPLATES),
    ]).finally(() => sql.end({ timeout: 1 }));
    const events = auditedCalls(rows.map((row) => JSON.parse(postgresAuditBody(row as never, templates as never)) as AuditedCall));
    const verify = await deployment.verifyAudit();
    return crashFigures(
      { store: 'postgres', audit: options.auditFailClosed ? 'fail-closed' : 'fail-open', kills },
      { load, lost, invariantViolations, events, auditLog, verify, startedAt },
    );
  } finally {
    await rotation?.close();
    await nodes?.dispose();
    await cluster.destroy();
  }
}

/** Before the first kill: a write of each kind the run checks acknowledged (a short run would miss some). */
async function warmedUp(load: MixedWriteLoad): Promise<void> {
  const limit = Date.now() + ACK_WAIT_LIMIT_MS;
  for (;;) {
    const counts = load.counts();
    if (counts.versions > 0 && counts.keys > 0 && counts.rotations > 0 && counts.users > 0) return;
    if (Date.now() > limit) throw new Error(`not every kind of write was acknowledged within ${ACK_WAIT_LIMIT_MS} ms: ${JSON.stringify(counts)}`);
    await sleep(50);
  }
}

/** Waits for a write acknowledged since `since`, then a random moment more, so the kill lands mid-load. */
async function underLoad(load: MixedWriteLoad, since: number): Promise<void> {
  const limit = Date.now() + ACK_WAIT_LIMIT_MS;
  while (!load.acknowledgedSinceAnywhere(since)) {
    if (Date.now() > limit) throw new Error(`nothing was acknowledged within ${ACK_WAIT_LIMIT_MS} ms of the last kill`);
    await sleep(20);
  }
  await sleep(randomInt(MAX_EXTRA_DELAY_MS));
}

/** Everything read back through every node; label problems apart from the rest. */
async function readBack(load: MixedWriteLoad, nodes: LoadNode[]): Promise<{ lost: string[]; invariantViolations: string[] }> {
  const problems: string[] = [];
  for (const node of nodes) problems.push(...(await load.verifyThrough(node)));
  const label = (problem: string) => /AWS(CURRENT|PREVIOUS|PENDING)/.test(problem);
  return { lost: problems.filter((problem) => !label(problem)), invariantViolations: [...load.violations, ...problems.filter(label)] };
}

function callFigures(load: MixedWriteLoad) {
  return { acknowledgedCalls: load.acknowledged.length, acknowledgedWrites: load.counts(), failedCalls: load.calls.filter((call) => call.error).length };
}

/** The members of an audit event this check reads. */
type AuditedCall = { requestID: string; eventName: string; errorCode?: string };

function auditedCalls(events: AuditedCall[]): Map<string, AuditedCall> {
  return new Map(events.map((event) => [event.requestID, event]));
}

/** Acknowledged calls without an event of their request id, of their operation, recording no error. */
function unaudited(acknowledged: Acknowledged[], events: Map<string, AuditedCall>): string[] {
  return acknowledged.flatMap((call) => {
    const event = call.requestId ? events.get(call.requestId) : undefined;
    if (event && event.eventName === call.operation && !event.errorCode) return [];
    const found = event ? `its event is ${event.eventName}${event.errorCode ? ` with error ${event.errorCode}` : ''}` : 'no event';
    return [`${call.operation} on ${call.node}, request ${call.requestId ?? '(no request id)'}: ${found}`];
  });
}

function loadNode(name: string, url: string, credentials: AccessKey): LoadNode {
  const common = { endpoint: url, region: REGION, credentials, maxAttempts: 1, requestHandler: { requestTimeout: CLIENT_TIMEOUT_MS } };
  return { name, secrets: new SecretsManagerClient(common), kms: new KMSClient(common), iam: new IAMClient(common) };
}

/** The test's rotation function, deployed as a coffer-http function; its ARN. */
async function createRotationFunction(url: string, credentials: AccessKey, functionUrl: string): Promise<string> {
  const lambda = new LambdaClient({ endpoint: url, region: REGION, credentials, maxAttempts: 1 });
  try {
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'crash-rotator',
        Runtime: 'coffer-http' as never,
        Role: undefined,
        Code: {},
        Timeout: 60,
        Environment: { Variables: { COFFER_FUNCTION_URL: functionUrl } },
      }),
    );
    return created.FunctionArn!;
  } finally {
    lambda.destroy();
  }
}

function liveUrls(servers: ChildServer[]): Map<number, string> {
  return new Map(servers.filter((server) => server.process.exitCode === null && server.process.signalCode === null).map((server) => [server.pid, server.url]));
}

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}

/** The audit lines of the servers' logs, added up over every server process of a run (each log once, as it ends). */
class AuditLogTally {
  writeFailures = 0;
  spooledBatches = 0;
  retriedBatches = 0;

  add(log: string): void {
    this.writeFailures += count(log, AUDIT_WRITE_FAILED);
    this.spooledBatches += count(log, AUDIT_SPOOLED);
    this.retriedBatches += count(log, AUDIT_RETRIED);
  }
}

/** A run's figures from what both stores' runs gather the same way. */
function crashFigures(
  run: Pick<CrashFigures, 'store' | 'audit' | 'kills'>,
  found: {
    load: MixedWriteLoad;
    lost: string[];
    invariantViolations: string[];
    events: ReturnType<typeof auditedCalls>;
    auditLog: AuditLogTally;
    verify: { code: number; stdout: string; stderr: string };
    startedAt: number;
  },
): CrashFigures {
  return {
    ...run,
    ...callFigures(found.load),
    lost: found.lost,
    invariantViolations: found.invariantViolations,
    unaudited: unaudited(found.load.acknowledged, found.events),
    auditWriteFailures: found.auditLog.writeFailures,
    auditSpooledBatches: found.auditLog.spooledBatches,
    auditRetriedBatches: found.auditLog.retriedBatches,
    auditVerify: { code: found.verify.code, output: `${found.verify.stdout}${found.verify.stderr}`.trim() },
    durationMs: Date.now() - found.startedAt,
  };
}

function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = randomInt(index + 1);
    [items[index], items[other]] = [items[other]!, items[index]!];
  }
  return items;
}
