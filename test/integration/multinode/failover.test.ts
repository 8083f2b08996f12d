import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { killChildServers, startChildServer, type ChildServer } from '../../helpers/child-server.js';
import { MixedWriteLoad, type CallRecord, type LoadNode } from '../../helpers/mixed-write-load.js';
import { createFailoverCluster, type FailoverCluster } from '../../helpers/postgres-failover-cluster.js';
import type { AccessKey } from '../../helpers/signed-fetch.js';

/**
 * Issue 14: two `coffer server` nodes on one PostgreSQL primary with a synchronous standby, both hosts in the
 * connection string (target_session_attrs=read-write). Under a mixed write load the primary is stopped hard;
 * then either the standby is promoted (failover) or the primary comes back (restart). Either way nothing
 * acknowledged may be lost, the staging labels must be where the acknowledged calls put them, calls during
 * the outage must fail fast with the retryable 503 ServiceUnavailable, and the nodes must find the primary by
 * themselves, without a restart, and then answer every call again.
 */

/** The nodes' --store-timeout: connecting, waiting for a connection and running a statement. */
const STORE_TIMEOUT_MS = 3_000;
/** A call may take the store timeout and a little more (KMS and the store in one call); longer is a hang. */
const CALL_LIMIT_MS = STORE_TIMEOUT_MS + 2_000;
/** The SDK gives up after this, so a hang shows as a TimeoutError in the ledger instead of blocking the test. */
const CLIENT_TIMEOUT_MS = 30_000;
const WORKERS = 8;
const LOAD_BEFORE_MS = 2_000;
/** How long no server accepts writes: the primary is gone and the standby not yet promoted. */
const OUTAGE_MS = 2_000;
const LOAD_AFTER_MS = 3_000;
const RECOVERY_LIMIT_MS = 30_000;
/** After both nodes wrote again, calls still running from the outage may end; later ones must all succeed. */
const SETTLE_AFTER_RECOVERY_MS = 1_000;
const REGION = 'us-east-1';
/**
 * What a call answers while its node cannot reach the database: AWS's common retryable 503 (store/postgres/
 * unavailable.ts). An InternalServiceError or KMSInternalException would mean the node did not recognise the
 * outage (as when it was connected to the read-only standby), a 4xx a wrong answer.
 */
const OUTAGE_ERROR = { name: 'ServiceUnavailable', httpStatus: 503 };

type Deployment = { cluster: FailoverCluster; nodes: ChildServer[]; dataDirs: string[] };

describe('two coffer nodes on PostgreSQL with a synchronous standby, under a mixed write load', () => {
  const deployments: Deployment[] = [];
  after(async () => {
    await killChildServers();
    for (const { cluster, dataDirs } of deployments) {
      await cluster.destroy();
      for (const dir of dataDirs) {
        rmSync(dir, { recursive: true, force: true });
        rmSync(`${dir}.audit-anchors`, { force: true }); // each node anchors its audit heads beside its data dir
      }
    }
  });

  it('failover: the primary stopped hard and the standby promoted', { timeout: 180_000 }, async (t) => {
    const deployment = await startDeployment(deployments);
    await runThroughOutage(t, deployment, 'promoted', () => deployment.cluster.promoteStandby());
  });

  it('restart: the primary stopped hard and started again, nothing promoted', { timeout: 180_000 }, async (t) => {
    const deployment = await startDeployment(deployments);
    await runThroughOutage(t, deployment, 'restarted', () => deployment.cluster.startPrimary());
  });
});

/** A primary and its synchronous standby, and two nodes on the multi-host URL, started one after the other. */
async function startDeployment(deployments: Deployment[]): Promise<Deployment> {
  const deployment: Deployment = { cluster: await createFailoverCluster(), nodes: [], dataDirs: [] };
  deployments.push(deployment);
  await deployment.cluster.createDatabase('coffer');
  const url = deployment.cluster.connectionString('coffer');
  const rootKey = randomBytes(32).toString('base64');
  // The first node migrates the empty database and creates the administrator key; the second finds both.
  for (const name of ['a', 'b']) {
    const dataDir = mkdtempSync(join(tmpdir(), `coffer-failover-${name}-`));
    deployment.dataDirs.push(dataDir);
    const args = ['--store', url, '--pool-size', '4', '--store-timeout', String(STORE_TIMEOUT_MS)];
    deployment.nodes.push(await startChildServer({ dataDir, args, env: { COFFER_ROOT_KEY: rootKey }, timeoutMs: 30_000 }));
  }
  return deployment;
}

/**
 * Load, stop the primary hard, wait OUTAGE_MS, `recover`, wait until both nodes acknowledge writes again, keep
 * the load a while, then check everything the issue asks.
 */
async function runThroughOutage(t: TestContext, { cluster, nodes }: Deployment, recovered: string, recover: () => Promise<void>): Promise<void> {
  const admin = nodes[0]!.printedAdmin!;
  const loadNodes = nodes.map((node, index) => clientsOf(node, ['a', 'b'][index]!, admin));
  const pids = nodes.map((node) => node.pid);
  const load = new MixedWriteLoad(loadNodes);
  load.start(WORKERS);
  let outage: Outage;
  try {
    outage = await outageUnderLoad(t, cluster, load, loadNodes, recovered, recover);
  } finally {
    await load.halt();
  }

  // The nodes were not restarted: the same processes, still running.
  assert.deepEqual(nodes.map((node) => node.pid), pids);
  for (const node of nodes) assert.equal(node.process.exitCode, null, node.stderr());
  assertCallsFailedFast(load.calls, outage);
  assert.deepEqual(load.violations, [], 'wrong answers during the load');
  for (const node of loadNodes) {
    const problems = await load.verifyThrough(node);
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} differences reading back through node ${node.name}`);
  }
}

async function outageUnderLoad(
  t: TestContext,
  cluster: FailoverCluster,
  load: MixedWriteLoad,
  loadNodes: LoadNode[],
  recovered: string,
  recover: () => Promise<void>,
): Promise<Outage> {
  await sleep(LOAD_BEFORE_MS);
  const before = load.counts();
  const stoppedAt = Date.now();
  await cluster.stopPrimaryHard();
  await sleep(OUTAGE_MS);
  await recover();
  const recoveredAt = Date.now();
  await until(() => loadNodes.every((node) => load.acknowledgedSince(node.name, recoveredAt)), RECOVERY_LIMIT_MS, () => summary(load.calls));
  const writingAgainAt = Date.now();
  await sleep(LOAD_AFTER_MS);
  await load.stop(Date.now() + RECOVERY_LIMIT_MS);

  t.diagnostic(`acknowledged before the stop: ${JSON.stringify(before)}; in all: ${JSON.stringify(load.counts())}`);
  t.diagnostic(`both nodes wrote again ${writingAgainAt - recoveredAt} ms after the primary was ${recovered} (${writingAgainAt - stoppedAt} ms after the stop)`);
  t.diagnostic(`calls: ${summary(load.calls)}`);
  return { stoppedAt, writingAgainAt };
}

/**
 * Every failed call failed with the retryable 503; no call took longer than CALL_LIMIT_MS; once both nodes
 * wrote again (and calls from the outage ended) nothing failed.
 */
/** When the primary was stopped, and when both nodes acknowledged writes again. */
type Outage = { stoppedAt: number; writingAgainAt: number };

function assertCallsFailedFast(calls: CallRecord[], { stoppedAt, writingAgainAt }: Outage): void {
  const failed = calls.filter((call) => call.error);
  // The load ran through the outage: a call failed, or one was held across the stop and answered after it (a
  // write committed just before the stop, or one that waited for the standby within the store timeout).
  const heldAcrossTheStop = calls.filter((call) => !call.error && call.startedAt <= stoppedAt && call.startedAt + call.durationMs > stoppedAt);
  assert.ok(failed.length + heldAcrossTheStop.length > 0, 'no call failed and none was in flight at the stop: the load did not run through the outage');
  const wrongFailures = failed.filter((call) => call.error!.name !== OUTAGE_ERROR.name || call.error!.httpStatus !== OUTAGE_ERROR.httpStatus);
  assert.deepEqual(wrongFailures.map(describeCall).slice(0, 20), [], `${wrongFailures.length} calls failed with something other than ServiceUnavailable (503)`);
  const slow = calls.filter((call) => call.durationMs > CALL_LIMIT_MS);
  assert.deepEqual(slow.map(describeCall).slice(0, 20), [], `${slow.length} calls took longer than ${CALL_LIMIT_MS} ms`);
  const failedAfterRecovery = failed.filter((call) => call.startedAt >= writingAgainAt + SETTLE_AFTER_RECOVERY_MS);
  assert.deepEqual(failedAfterRecovery.map(describeCall).slice(0, 20), [], `${failedAfterRecovery.length} calls still failed after both nodes had recovered`);
}

function clientsOf(node: ChildServer, name: string, credentials: AccessKey): LoadNode {
  const common = { endpoint: node.url, region: REGION, credentials, maxAttempts: 1, requestHandler: { requestTimeout: CLIENT_TIMEOUT_MS } };
  return { name, secrets: new SecretsManagerClient(common), kms: new KMSClient(common) };
}

async function until(condition: () => boolean, timeoutMs: number, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`the nodes did not write again within ${timeoutMs} ms: ${explain()}`);
    await sleep(50);
  }
}

function describeCall(call: CallRecord): string {
  return `${call.operation} on node ${call.node}: ${call.error ? `${call.error.name} (${call.error.httpStatus ?? 'no status'}) ${call.error.message}` : 'ok'} after ${call.durationMs} ms`;
}

/** Calls by operation and outcome, and the slowest failure. */
function summary(calls: CallRecord[]): string {
  const counts = new Map<string, number>();
  for (const call of calls) {
    const key = `${call.operation} ${call.error ? call.error.name : 'ok'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const slowestFailure = Math.max(0, ...calls.filter((call) => call.error).map((call) => call.durationMs));
  return `${JSON.stringify(Object.fromEntries(counts))}; slowest failure ${slowestFailure} ms`;
}
