/**
 * The PostgreSQL backend: `PostgresStore` implements every repository of ../store.ts on one database through
 * the `postgres` driver. Only the composition root (server/) and tests import this entry: every
 * other module sees the repository interfaces (store/index.ts).
 */
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export { PostgresTransfer } from './transfer.js';
