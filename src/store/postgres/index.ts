/**
 * The PostgreSQL backend: `PostgresStore` implements every repository of ../store.ts on one database through
 * a pg.Pool. Only the composition root (server/, once it is wired there) and tests import this entry: every
 * other module sees the repository interfaces (store/index.ts).
 */
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
