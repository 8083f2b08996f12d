import { randomBytes } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PostgresConfig } from '../../src/server/index.js';
import { createTestDatabase } from './postgres-store.js';
import { startTestServer, type TestServer } from './start-server.js';

export type PostgresNodes = {
  /** The database's URL (postgres://postgres@127.0.0.1:5432/coffer_test_…). */
  url: string;
  /** The root key every node shares (base64), as an operator gives it with COFFER_ROOT_KEY. */
  rootKeyBase64: string;
  nodes: TestServer[];
  /** Administrator credentials (created by the first node). */
  admin: { accessKeyId: string; secretAccessKey: string };
  secrets(node: TestServer): SecretsManagerClient;
  /** Starts one more node on the same database (its own data dir). */
  addNode(options?: Partial<PostgresConfig>): Promise<TestServer>;
  dispose(): Promise<void>;
};

/**
 * `count` in-process Coffer nodes on one fresh PostgreSQL database, each with its own data dir and pool, all
 * with one root key: the multi-node deployment of the README, inside the test process. The first starts alone
 * (it migrates and bootstraps the administrator), the others after it.
 */
export async function startPostgresNodes(count: number, config: Partial<PostgresConfig> = {}): Promise<PostgresNodes> {
  const database = await createTestDatabase();
  const rootKeyBase64 = randomBytes(32).toString('base64');
  const nodes: TestServer[] = [];
  const addNode = async (options: Partial<PostgresConfig> = {}) => {
    const node = await startTestServer({ devMode: false, rootKeyBase64, postgres: { url: database.url, poolSize: 4, ...config, ...options } });
    nodes.push(node);
    return node;
  };
  try {
    for (let index = 0; index < count; index++) await addNode();
  } catch (error) {
    await Promise.all(nodes.map((node) => node.cleanup()));
    await database.drop();
    throw error;
  }
  const admin = nodes[0]!.server.coffer.createdAdmin!;
  return {
    url: database.url,
    rootKeyBase64,
    nodes,
    admin,
    addNode,
    secrets: (node) => new SecretsManagerClient({ endpoint: node.url, region: 'us-east-1', credentials: admin, maxAttempts: 1 }),
    async dispose() {
      await Promise.all(nodes.map((node) => node.cleanup()));
      await database.drop();
    },
  };
}
