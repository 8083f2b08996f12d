import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { defaultAuditAnchorFile, defaultAuditSpoolDir } from '../../src/server/index.js';
import { coffer } from './audit.js';
import { childEnv, killChildServers, startChildServer, type ChildServer } from './child-server.js';
import { createTestDatabase } from './postgres-store.js';
import type { AccessKey } from './signed-fetch.js';

export type ChildNode = ChildServer & { dataDir: string };

export type ChildNodes = {
  /** The database's URL (postgres://postgres@127.0.0.1:5432/coffer_test_…). */
  url: string;
  /** The root key every node shares (base64), given to each as COFFER_ROOT_KEY. */
  rootKeyBase64: string;
  nodes: ChildNode[];
  /** The administrator key the first node created. */
  admin: AccessKey;
  secrets(node: ChildNode): SecretsManagerClient;
  kms(node: ChildNode): KMSClient;
  /** The nodes not stopped or killed. */
  live(): ChildNode[];
  /**
   * Starts a stopped (or killed) node again on its data dir and port, so its URL and clients stay valid, and
   * puts it in its place in `nodes`.
   */
  restart(node: ChildNode): Promise<ChildNode>;
  /** One query against the deployment's database, with a connection of the test's own. */
  query<T extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  /** `coffer audit verify --store URL --data-dir <first node's>`, as an operator runs it. */
  verifyAudit(): Promise<{ code: number; stdout: string; stderr: string }>;
  dispose(): Promise<void>;
};

/**
 * `count` real `coffer server` processes on one fresh PostgreSQL database, each with its own data dir, all
 * with one root key: the multi-node deployment of the README. The first starts alone (it migrates and creates
 * the administrator), the others after it, together. Extra arguments and environment go to every node.
 */
export async function startChildNodes(
  count: number,
  options: {
    args?: string[];
    env?: Record<string, string>;
    /** Another database than a fresh one on the machine's PostgreSQL (a failover cluster's); dispose drops it. */
    database?: { url: string; drop(): Promise<void> };
  } = {},
): Promise<ChildNodes> {
  const database = options.database ?? (await createTestDatabase());
  const rootKeyBase64 = randomBytes(32).toString('base64');
  const dataDirs: string[] = [];
  const nodes: ChildNode[] = [];
  const startNode = async (dataDir = mkdtempSync(join(tmpdir(), 'coffer-node-')), port?: number) => {
    if (!dataDirs.includes(dataDir)) dataDirs.push(dataDir);
    const child = await startChildServer({
      dataDir,
      port,
      args: ['--store', database.url, '--pool-size', '4', ...(options.args ?? [])],
      env: { COFFER_ROOT_KEY: rootKeyBase64, ...options.env },
      timeoutMs: 30_000,
    });
    return Object.assign(child, { dataDir });
  };
  const dispose = async () => {
    await Promise.all(nodes.map((node) => node.stop('SIGTERM')));
    // COFFER_TEST_NODE_LOGS=DIR keeps each node's output there, for debugging a failed run.
    const keep = process.env.COFFER_TEST_NODE_LOGS;
    if (keep) for (const node of nodes) writeFileSync(join(keep, `node-${node.pid}.log`), `${node.stdout()}\n--- stderr\n${node.stderr()}`);
    await killChildServers();
    await database.drop();
    for (const dataDir of dataDirs) {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(defaultAuditAnchorFile(dataDir), { force: true });
      rmSync(defaultAuditSpoolDir(dataDir), { recursive: true, force: true });
    }
  };
  try {
    nodes.push(await startNode());
    nodes.push(...(await Promise.all(Array.from({ length: count - 1 }, () => startNode()))));
  } catch (error) {
    await dispose();
    throw error;
  }
  const admin = nodes[0]!.printedAdmin;
  if (!admin) throw new Error('the first node created no administrator key');
  return {
    url: database.url,
    rootKeyBase64,
    nodes,
    admin,
    secrets: (node) => new SecretsManagerClient({ endpoint: node.url, region: 'us-east-1', credentials: admin, maxAttempts: 1 }),
    kms: (node) => new KMSClient({ endpoint: node.url, region: 'us-east-1', credentials: admin, maxAttempts: 1 }),
    live: () => nodes.filter((node) => node.process.exitCode === null && node.process.signalCode === null),
    async restart(node) {
      const index = nodes.indexOf(node);
      if (index < 0) throw new Error(`node ${node.pid} is not one of these nodes`);
      await node.exited;
      const restarted = await startNode(node.dataDir, Number(new URL(node.url).port));
      nodes[index] = restarted;
      return restarted;
    },
    async query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        return (await client.query<T>(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    verifyAudit: () =>
      coffer(['audit', 'verify', '--store', database.url, '--data-dir', nodes[0]!.dataDir], childEnv({ COFFER_ROOT_KEY: rootKeyBase64 })),
    dispose,
  };
}
