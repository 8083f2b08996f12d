import { describe } from 'node:test';
import { startTestServer } from '../../helpers/start-server.js';
import { sqliteSql, tamperSuite } from './sealed-columns-suite.js';

/** Sealed columns tampered in a stopped server's SQLite file (sealed-columns-suite.ts). */
describe('tampered sealed columns in SQLite', () => {
  tamperSuite(async () => {
    let dataDir: string | undefined;
    return {
      name: 'sqlite',
      async start(logger) {
        const server = await startTestServer({ dataDir, logger });
        dataDir = server.dataDir;
        return server;
      },
      async sql() {
        return sqliteSql(dataDir!);
      },
      async drop() {},
    };
  });
});
