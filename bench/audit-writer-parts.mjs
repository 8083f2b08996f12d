// Issue 21: where the audit writer's CPU per event goes, part by part, for one build of Coffer.
//   node bench/audit-writer-parts.mjs --dist DIR [--events N] [--batch N] [--rounds N] [--dir PATH]
// Runs in one thread, pinned by the caller (taskset) if wanted; every figure is this thread's CPU
// (process.threadCpuUsage: user + system) per event over all the events, median of the rounds. The events are
// GetSecretValue calls of one hot secret by one user, built as the recorder builds them (as bench/audit-size.mjs's
// "hot" workload), handed over in batches of N (the writer thread's group commit: ~30 at 8,000 req/s).
//   append        the writer's whole append (sealedAppender: transaction, head, seal, encode, INSERT, commit, fsync)
//   append-nosync the same with synchronous=OFF: no fsync (what is left is SQLite's and the WAL write's CPU)
//   append-shm    the same, synchronous=FULL, on /dev/shm (fsync is free there): the disk's share
//   append-checkpoint-N, append-checkpoint-off   the same with the WAL checkpointed every N pages (250, 500, 10000), or never
//   clone         structuredClone of a batch of draft rows (the writer's side of the hand-off is about half of it)
//   hash          the chain's SHA-256 alone (chainHash)
// and, for each index of audit_events, `append` on a database without it (what that index costs; none where the
// build's schema has no such index), and:
//   append-page-1024, append-page-2048   `append` on an audit.db made with that page size (SQLite's default: 4096)
//   append-without-secondary-indexes   `append` with every index but the sequence's (the table's b-tree alone)
//   append-one-row-per-batch   a throwaway of a format Coffer does not have: each event encoded and chained as the
//                 writer does it, the batch's rows packed into ONE row of a table keyed by the first sequence (what a
//                 row per batch would save: the b-tree inserts; the packing is a plain length-prefixed concatenation)
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';

const { values } = parseArgs({
  options: {
    dist: { type: 'string' }, events: { type: 'string', default: '30000' }, batch: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' }, dir: { type: 'string' }, parts: { type: 'string' },
  },
});
const dist = resolve(values.dist ?? 'dist');
const events = Number(values.events);
const batchSize = Number(values.batch);
const rounds = Number(values.rounds);
const { buildEvent, canonicalEventJson, indexFields } = await import(join(dist, 'audit/index.js'));
const writer = await import(join(dist, 'store/sqlite/audit-writer.js'));
const { chainHash, GENESIS_HASH } = await import(join(dist, 'store/audit-hash.js'));
const auditRows = await import(join(dist, 'store/sqlite/audit-rows.js'));
const { AuditNames } = auditRows;
/** A row's INSERT values (builds before pushAppendedAuditRow have appendedAuditRow). */
const appendedAuditRow = auditRows.appendedAuditRow ?? ((...args) => {
  const values = [];
  auditRows.pushAppendedAuditRow(values, ...args);
  return values;
});
const { encodeAuditHash } = await import(join(dist, 'store/audit-codec.js'));

const ACCOUNT = '123456789012';
const USER_AGENT = 'aws-sdk-js/3.726.1 ua/2.1 os/linux#6.1.0-28-amd64 lang/js md/nodejs#24.11.0 api/secrets-manager#3.726.1 m/E,N';
const NAME = 'bench/secret-0';
const ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${NAME}-xxxxx0`;
const principal = { arn: `arn:aws:iam::${ACCOUNT}:user/bench-0`, accountId: ACCOUNT, accessKeyId: 'AKIAQQQQQQQQQQQQQQQ0' };

/** A draft row as audit-tables.ts's draftRow makes it. */
function draftRow(time) {
  const body = canonicalEventJson(buildEvent({
    requestId: randomUUID(), region: 'us-east-1', sourceIp: '127.0.0.1', userAgent: USER_AGENT, output: {}, time, service: 'secretsmanager',
    operation: 'GetSecretValue', principal, input: { SecretId: NAME }, resources: [{ ARN: NAME, accountId: ACCOUNT }, { ARN, accountId: ACCOUNT }],
  }));
  const draft = { ...indexFields(JSON.parse(body)), body };
  return [
    draft.eventId, draft.accountId, draft.eventTime.getTime(), draft.eventName, draft.eventSource, draft.readOnly ? 1 : 0,
    draft.accessKeyId, draft.username, JSON.stringify(draft.resourceNames), draft.body,
  ];
}

let clock = Date.now();
function batches() {
  const list = [];
  for (let at = 0; at < events; at += batchSize) list.push(Array.from({ length: Math.min(batchSize, events - at) }, () => draftRow(new Date(clock++))));
  return list;
}

function cpuPerEvent(work) {
  const before = process.threadCpuUsage();
  work();
  const used = process.threadCpuUsage(before);
  return { total: (used.user + used.system) / events, system: used.system / events };
}

const diskRoot = values.dir ?? tmpdir();
function appendOn(root, setup) {
  const dir = mkdtempSync(join(root, 'coffer-audit-parts-'));
  try {
    // A page size is fixed when the file's first table is made: such a file is made before the writer opens it.
    if (setup?.pageSize) {
      const fresh = new Database(join(dir, 'audit.db'));
      fresh.pragma(`page_size = ${setup.pageSize}`);
      fresh.exec('CREATE TABLE page_size_fixed (x)');
      fresh.close();
    }
    const db = writer.openAuditDatabase(join(dir, 'audit.db'));
    // A setup that answers false does not apply to this build's schema: no figure.
    if (setup?.(db) === false) {
      db.close();
      return undefined;
    }
    const append = setup?.appender?.(db) ?? writer.sealedAppender(db);
    append(batches()[0].slice(0, 2)); // warm: names and templates known, statements prepared
    append(batches()[0].slice(0, 2));
    const list = batches();
    const result = cpuPerEvent(() => {
      for (const batch of list) append(batch);
    });
    db.close();
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The values of a batch's INSERTs as one length-prefixed BLOB (the throwaway row-per-batch format). */
function packedRows(valueRows) {
  const parts = [];
  for (const values of valueRows) {
    for (const value of values) {
      const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
      const length = Buffer.allocUnsafe(2);
      length.writeUInt16LE(bytes.length);
      parts.push(length, bytes);
    }
  }
  return Buffer.concat(parts);
}

/** sealedAppender's work with the batch stored as one row (see append-one-row-per-batch above). */
function oneRowPerBatchAppender(db) {
  db.exec('CREATE TABLE audit_batches (first_sequence INTEGER PRIMARY KEY, rows BLOB NOT NULL, last_hash BLOB NOT NULL)');
  const names = new AuditNames(db);
  const head = db.prepare('SELECT first_sequence, last_hash FROM audit_batches ORDER BY first_sequence DESC LIMIT 1');
  const insert = db.prepare('INSERT INTO audit_batches VALUES (?, ?, ?)');
  let lastSequence = 0;
  let lastHex = GENESIS_HASH;
  return db.transaction((rows) => {
    head.get();
    let sequence = lastSequence;
    let prevHash = lastHex;
    let storedPrevHash = encodeAuditHash(prevHash);
    const values = [];
    for (const row of rows) {
      sequence += 1;
      const hash = chainHash(prevHash, row[9]);
      const digest = Buffer.from(hash, 'hex');
      values.push(appendedAuditRow(names, sequence, row, storedPrevHash, digest));
      prevHash = hash;
      storedPrevHash = digest;
    }
    insert.run(lastSequence + 1, packedRows(values), storedPrevHash);
    lastSequence = sequence;
    lastHex = prevHash;
  }).immediate;
}

const indexes = ['sqlite_autoindex_audit_events_1', 'audit_events_by_time', 'audit_events_by_name', 'audit_events_by_account'];
const PARTS = {
  append: () => appendOn(diskRoot),
  'append-nosync': () => appendOn(diskRoot, (db) => db.pragma('synchronous = OFF')),
  'append-shm': () => (existsSync('/dev/shm') ? appendOn('/dev/shm') : undefined),
  // The WAL's automatic checkpoint (SQLite's default: at 1,000 pages, run by the commit that crosses it, on the writer
  // thread) at other sizes, and never (the WAL then only grows: what the checkpoints cost, not a setting to run with).
  ...Object.fromEntries(
    [250, 500, 10000, 0].map((pages) => [
      `append-checkpoint-${pages || 'off'}`,
      () => appendOn(diskRoot, (db) => db.pragma(`wal_autocheckpoint = ${pages}`)),
    ]),
  ),
  'append-without-secondary-indexes': () =>
    appendOn(diskRoot, (db) => {
      const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' AND sql IS NOT NULL").pluck().all();
      for (const name of names) db.exec(`DROP INDEX ${name}`);
      return true;
    }),
  // Smaller pages for a new audit.db (a commit writes the tail page of the table and of each index: 4 frames).
  ...Object.fromEntries([1024, 2048].map((bytes) => [`append-page-${bytes}`, () => appendOn(diskRoot, Object.assign(() => true, { pageSize: bytes }))])),
  'append-one-row-per-batch': () => appendOn(diskRoot, Object.assign(() => true, { appender: oneRowPerBatchAppender })),
  clone: () => {
    const list = batches();
    return cpuPerEvent(() => {
      for (const batch of list) structuredClone(batch);
    });
  },
  hash: () => {
    const bodies = batches().flat().map((row) => row[9]);
    let prev = '0'.repeat(64);
    return cpuPerEvent(() => {
      for (const body of bodies) prev = chainHash(prev, body);
    });
  },
  ...Object.fromEntries(
    indexes.map((name) => [
      `append-without-${name}`,
      () => appendOn(diskRoot, (db) => {
        // The event id's UNIQUE constraint is not an index one can drop: rebuild the table without it.
        if (name.startsWith('sqlite_autoindex')) {
          const sql = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'audit_events'").pluck().get();
          if (!/event_id NOT NULL UNIQUE/.test(sql)) return false;
          const others = db.prepare("SELECT sql FROM sqlite_master WHERE tbl_name = 'audit_events' AND type = 'index' AND sql IS NOT NULL").pluck().all();
          db.exec(`DROP TABLE audit_events; ${sql.replace('event_id NOT NULL UNIQUE', 'event_id NOT NULL')}; ${others.join(';')}`);
        } else if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(name)) db.exec(`DROP INDEX ${name}`);
        else return false;
        return true;
      }),
    ]),
  ),
};

const chosen = values.parts ? values.parts.split(',') : Object.keys(PARTS);
const figures = Object.fromEntries(chosen.map((part) => [part, []]));
for (let round = 0; round < rounds; round += 1) {
  for (const part of chosen) {
    const result = PARTS[part]();
    if (result) figures[part].push(result);
  }
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
console.log(`dist ${dist}, ${events} events in batches of ${batchSize}, ${rounds} rounds; µs of this thread's CPU per event (median; system part)`);
for (const part of chosen) {
  const list = figures[part];
  if (list.length === 0) continue;
  const total = median(list.map((f) => f.total));
  const system = median(list.map((f) => f.system));
  console.log(`${part.padEnd(48)} ${total.toFixed(2).padStart(7)}  (system ${system.toFixed(2)})   rounds: ${list.map((f) => f.total.toFixed(2)).join(', ')}`);
}
