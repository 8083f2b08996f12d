// Issue 21: bytes of audit log per GetSecretValue event, and the CPU of appending them, for one build of Coffer.
//   node bench/audit-size.mjs --dist DIR [--events N] [--batch N] [--postgres URL-of-server]
// DIR is a build's dist/ (this tree's, or a baseline's), so one run can compare two builds on the same machine.
// SQLite: N events appended through the store (its writer thread) in batches (the recorder's group commit), then
// audit.db's size after close (WAL checkpointed), and dbstat's bytes per table and index. PostgreSQL (optional):
// the same events into a fresh database, pg_total_relation_size('audit_events') per event; the database is dropped.
// CPU: the process's user+system CPU (all threads) over the appends only, per event; the events are built before.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import postgres from 'postgres';

const { values } = parseArgs({
  options: { dist: { type: 'string' }, events: { type: 'string', default: '100000' }, batch: { type: 'string', default: '64' }, postgres: { type: 'string' } },
});
const dist = resolve(values.dist ?? 'dist');
const events = Number(values.events);
const batch = Number(values.batch);
const { buildEvent, canonicalEventJson, indexFields } = await import(join(dist, 'audit/index.js'));
const { SqliteStore } = await import(join(dist, 'store/sqlite/index.js'));

const ACCOUNT = '123456789012';
const USER_AGENT = 'aws-sdk-js/3.726.1 ua/2.1 os/linux#6.1.0-28-amd64 lang/js md/nodejs#24.11.0 api/secrets-manager#3.726.1 m/E,N';

/** A GetSecretValue event as the recorder builds it: by name, one of 200 secrets, one of 5 users. */
function draft(index, time) {
  const name = `bench/secret-${index % 200}`;
  const body = canonicalEventJson(
    buildEvent({
      requestId: randomUUID(), time, service: 'secretsmanager', operation: 'GetSecretValue',
      principal: { arn: `arn:aws:iam::${ACCOUNT}:user/bench-${index % 5}`, accountId: ACCOUNT, accessKeyId: `AKIA${String(index % 5).padStart(16, 'Q')}` },
      region: 'us-east-1', sourceIp: '127.0.0.1', userAgent: USER_AGENT, input: { SecretId: name }, output: {},
      resources: [{ ARN: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-${String(index % 200).padStart(6, 'x')}`, accountId: ACCOUNT }],
    }),
  );
  return { ...indexFields(JSON.parse(body)), body };
}

const start = Date.now();
const drafts = Array.from({ length: events }, (_, index) => draft(index, new Date(start + index)));
const batches = [];
for (let at = 0; at < drafts.length; at += batch) batches.push(drafts.slice(at, at + batch));

async function appendAll(store) {
  const before = process.cpuUsage();
  const wall = process.hrtime.bigint();
  for (const group of batches) await store.appendAuditEvents(group);
  const cpu = process.cpuUsage(before);
  return { cpuMicrosPerEvent: (cpu.user + cpu.system) / events, wallMicrosPerEvent: Number(process.hrtime.bigint() - wall) / 1000 / events };
}

const result = { dist, events, batch };
const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-size-'));
try {
  const store = new SqliteStore(join(dir, 'coffer.db'));
  store.migrate();
  store.startWriter?.();
  await store.listAuditEvents(0, 1); // opens (and migrates) audit.db before the clock starts
  await store.appendAuditEvents([draft(-1, new Date(start - 1))]);
  result.sqlite = await appendAll(store);
  store.close();
  const path = join(dir, 'audit.db');
  result.sqlite.bytesPerEvent = statSync(path).size / events;
  const db = new Database(path, { readonly: true });
  try {
    result.sqlite.dbstat = Object.fromEntries(
      db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY 2 DESC').all().map((row) => [row.name, Math.round((row.bytes / events) * 10) / 10]),
    );
  } catch (error) {
    result.sqlite.dbstat = `dbstat unavailable: ${error.message}`;
  }
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (values.postgres) {
  const { PostgresStore } = await import(join(dist, 'store/postgres/index.js'));
  const name = `coffer_audit_size_${randomUUID().slice(0, 8)}`;
  const admin = postgres(values.postgres, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  try {
    const store = new PostgresStore({ connectionString: `${values.postgres.replace(/\/[^/]*$/, '')}/${name}`, poolSize: 2 });
    await store.migrate();
    await store.appendAuditEvents([draft(-1, new Date(start - 1))]);
    result.postgres = await appendAll(store);
    const sql = postgres(`${values.postgres.replace(/\/[^/]*$/, '')}/${name}`, { max: 1, onnotice: () => undefined });
    await sql`VACUUM ANALYZE audit_events`;
    const [sizes] = await sql`SELECT pg_total_relation_size('audit_events') AS total, pg_relation_size('audit_events') AS heap,
      pg_indexes_size('audit_events') AS indexes, pg_total_relation_size('audit_events') - pg_relation_size('audit_events') - pg_indexes_size('audit_events') AS toast`;
    await sql.end();
    await store.close();
    result.postgres.bytesPerEvent = Number(sizes.total) / events;
    result.postgres.parts = { heap: Number(sizes.heap) / events, indexes: Number(sizes.indexes) / events, toastAndMaps: Number(sizes.toast) / events };
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
