/**
 * The PostgreSQL backend (in progress): `PostgresStore` implements the repositories listed in
 * `PostgresRepositories` on one database through a pg.Pool. Only the composition root (server/, once every
 * repository is ported) and tests import this entry: every other module sees the repository interfaces
 * (store/index.ts).
 */
export { PostgresStore, type PostgresStoreOptions, type PostgresRepositories } from './postgres-store.js';
