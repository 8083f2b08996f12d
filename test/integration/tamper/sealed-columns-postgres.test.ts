import { describe } from 'node:test';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { startTestServer } from '../../helpers/start-server.js';
import { postgresSql, tamperSuite } from './sealed-columns-suite.js';

/** Sealed columns tampered in a stopped server's PostgreSQL database (sealed-columns-suite.ts). */
describe('tampered sealed columns in PostgreSQL', () => {
  tamperSuite(async () => {
    const database = await createTestDatabase();
    let dataDir: string | undefined;
    return {
      name: 'postgres',
      async start(logger) {
        const server = await startTestServer({ dataDir, logger, postgres: { url: database.url } });
        dataDir = server.dataDir;
        return server;
      },
      sql: () => postgresSql(database.url),
      drop: database.drop,
    };
  });
});
