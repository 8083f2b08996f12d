import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { startPostgresNodes, type PostgresNodes } from '../../helpers/postgres-nodes.js';

/**
 * Each node keeps its point reads until a write anywhere empties its cache: it hears the other nodes' writes
 * (store/postgres/read-cache-notifications.ts). Here the nodes' max age is 5 s, so a node that did not hear the
 * other's write would answer the old value for seconds; it must answer the new one within one second of the
 * writing node's answer, and the writing node at once.
 */
describe("two nodes with long-lived read caches: one node's write is heard by the other", () => {
  let cluster: PostgresNodes;
  before(async () => {
    cluster = await startPostgresNodes(2, { readCacheMaxAgeMs: 5_000 });
  });
  after(async () => cluster.dispose());

  it('a value written through one node is read through the other within one second, though its cache held the old one', async () => {
    const [a, b] = cluster.nodes.map((node) => cluster.secrets(node));
    await a!.send(new CreateSecretCommand({ Name: 'heard/one', SecretString: 'v1' }));
    await sleep(300);
    for (let read = 0; read < 2; read++) assert.equal((await b!.send(new GetSecretValueCommand({ SecretId: 'heard/one' }))).SecretString, 'v1');
    for (let round = 2; round <= 4; round++) {
      await a!.send(new PutSecretValueCommand({ SecretId: 'heard/one', SecretString: `v${round}` }));
      const answeredAt = performance.now();
      assert.equal((await a!.send(new GetSecretValueCommand({ SecretId: 'heard/one' }))).SecretString, `v${round}`, 'read-your-writes on the writing node');
      let seen: string | undefined;
      while (performance.now() - answeredAt < 1_000) {
        seen = (await b!.send(new GetSecretValueCommand({ SecretId: 'heard/one' }))).SecretString;
        if (seen === `v${round}`) break;
        await sleep(25);
      }
      assert.equal(seen, `v${round}`, 'seen through the other node within 1 s of the answer');
      // And it stays seen: no read answers the older value again.
      assert.equal((await b!.send(new GetSecretValueCommand({ SecretId: 'heard/one' }))).SecretString, `v${round}`);
    }
  });
});
