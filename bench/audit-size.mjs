// Issue 21: bytes of audit log per event, and the CPU of appending them, for one build of Coffer.
//   node bench/audit-size.mjs --dist DIR [--events N] [--batch N] [--workload named|hot|random|mixed] [--postgres URL-of-server]
// DIR is a build's dist/ (this tree's, or a baseline's), so one run can compare two builds on the same machine.
// Workloads (events as the recorder builds them, SecretId by name; its resources, as the recorder reads them from a
// successful call, the SecretId as given and the secret's ARN): named = GetSecretValue over 200 secrets and
// 5 users (the figures of the first compact encoding); hot = GetSecretValue of one secret by one user; random =
// GetSecretValue of a random one of 2,000 secrets by one user; mixed = get (random of 2,000) / KMS Decrypt of one
// key / PutSecretValue (a ClientRequestToken, a new VersionId) in turn, by one user.
// SQLite: N events appended through the store (its writer thread) in batches (the recorder's group commit), then
// audit.db's size after close (WAL checkpointed), and dbstat's bytes per table and index. PostgreSQL (optional):
// the same events into a fresh database, pg_total_relation_size of audit_events (and audit_templates where the
// build has it) per event; the database is dropped.
// CPU: the process's user+system CPU (all threads) over the appends only, per event; the events are built before.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import postgres from 'postgres';

const { values } = parseArgs({
  options: {
    dist: { type: 'string' }, events: { type: 'string', default: '100000' }, batch: { type: 'string', default: '64' }, postgres: { type: 'string' },
    workload: { type: 'string', default: 'named' },
  },
});
const dist = resolve(values.dist ?? 'dist');
const events = Number(values.events);
const batch = Number(values.batch);
const { buildEvent, canonicalEventJson, indexFields } = await import(join(dist, 'audit/index.js'));
const { SqliteStore } = await import(join(dist, 'store/sqlite/index.js'));

const ACCOUNT = '123456789012';
const USER_AGENT = 'aws-sdk-js/3.726.1 ua/2.1 os/linux#6.1.0-28-amd64 lang/js md/nodejs#24.11.0 api/secrets-manager#3.726.1 m/E,N';

const user = (index) => ({ arn: `arn:aws:iam::${ACCOUNT}:user/bench-${index}`, accountId: ACCOUNT, accessKeyId: `AKIA${String(index).padStart(16, 'Q')}` });
const secretArn = (name, index) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-${String(index).padStart(6, 'x')}`;
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${randomUUID()}`;

function recorded(call) {
  const body = canonicalEventJson(buildEvent({ requestId: randomUUID(), region: 'us-east-1', sourceIp: '127.0.0.1', userAgent: USER_AGENT, output: {}, ...call }));
  return { ...indexFields(JSON.parse(body)), body };
}

/** A GetSecretValue event as the recorder builds it, by name, of secret `secret` by user `by`. */
function getSecretValue(secret, by, time) {
  const name = `bench/secret-${secret}`;
  return recorded({
    time, service: 'secretsmanager', operation: 'GetSecretValue', principal: user(by), input: { SecretId: name },
    resources: [{ ARN: name, accountId: ACCOUNT }, { ARN: secretArn(name, secret), accountId: ACCOUNT }],
  });
}

function decrypt(time) {
  return recorded({
    time, service: 'kms', operation: 'Decrypt', principal: user(0), input: { CiphertextBlob: 'AQIDAHh', EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    output: { KeyId: KEY_ARN, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }, resources: [{ ARN: KEY_ARN, accountId: ACCOUNT }],
  });
}

function putSecretValue(secret, time) {
  const name = `bench/secret-${secret}`;
  return recorded({
    time, service: 'secretsmanager', operation: 'PutSecretValue', principal: user(0), input: { SecretId: name, ClientRequestToken: randomUUID(), SecretString: 'x' },
    output: { ARN: secretArn(name, secret), Name: name, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'] },
    resources: [{ ARN: name, accountId: ACCOUNT }, { ARN: secretArn(name, secret), accountId: ACCOUNT }],
  });
}

const random2000 = () => Math.floor(Math.random() * 2000);
const WORKLOADS = {
  named: (index, time) => getSecretValue(index % 200, index % 5, time),
  hot: (index, time) => getSecretValue(0, 0, time),
  random: (index, time) => getSecretValue(random2000(), 0, time),
  mixed: (index, time) => [getSecretValue(random2000(), 0, time), decrypt(time), putSecretValue(random2000(), time)][Math.abs(index) % 3],
};
const draft = WORKLOADS[values.workload];
if (!draft) throw new Error(`--workload: one of ${Object.keys(WORKLOADS).join(', ')}`);

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

const result = { dist, workload: values.workload, events, batch };
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
    await sql`VACUUM ANALYZE`;
    const [sizes] = await sql`SELECT pg_total_relation_size('audit_events') AS total, pg_relation_size('audit_events') AS heap,
      pg_indexes_size('audit_events') AS indexes, pg_total_relation_size('audit_events') - pg_relation_size('audit_events') - pg_indexes_size('audit_events') AS toast,
      COALESCE(pg_total_relation_size(to_regclass('audit_templates')), 0) AS templates`;
    await sql.end();
    await store.close();
    result.postgres.bytesPerEvent = (Number(sizes.total) + Number(sizes.templates)) / events;
    result.postgres.parts = {
      heap: Number(sizes.heap) / events, indexes: Number(sizes.indexes) / events, toastAndMaps: Number(sizes.toast) / events, templates: Number(sizes.templates) / events,
    };
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
