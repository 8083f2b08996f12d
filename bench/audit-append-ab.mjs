// Issue 21: the audit writer's append, two builds side by side in ONE process (one thread, alternated rounds, the
// order flipped every round), so the machine's noise falls on both alike (separate runs of audit-writer-parts.mjs
// spread ±10 % on a shared machine):
//   node bench/audit-append-ab.mjs --base DIR/dist [--candidate DIR/dist] [--batch N] [--batches N] [--rounds N] [--dir PATH] [--sync]
// Each build appends (its own sealedAppender) to its own audit.db under --dir (default /dev/shm, where fsync is free:
// the figure is the writer's CPU, not the disk's), synchronous=OFF unless --sync; the same GetSecretValue draft rows
// as audit-writer-parts.mjs (fresh strings each round, made outside the measure). Prints each round's µs of this
// thread's CPU per event for both and the median of the per-round ratios (candidate / base).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    base: { type: 'string' }, candidate: { type: 'string', default: 'dist' }, batch: { type: 'string', default: '32' },
    batches: { type: 'string', default: '200' }, rounds: { type: 'string', default: '25' }, dir: { type: 'string' }, sync: { type: 'boolean', default: false },
  },
});
if (!values.base) throw new Error('usage: node bench/audit-append-ab.mjs --base DIR/dist [--candidate DIR/dist] [--batch N] [--batches N] [--rounds N] [--dir PATH] [--sync]');
const batchSize = Number(values.batch);
const batchCount = Number(values.batches);
const rounds = Number(values.rounds);
const root = values.dir ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());

const ACCOUNT = '123456789012';
const USER_AGENT = 'aws-sdk-js/3.726.1 ua/2.1 os/linux#6.1.0-28-amd64 lang/js md/nodejs#24.11.0 api/secrets-manager#3.726.1 m/E,N';
const NAME = 'bench/secret-0';
const ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${NAME}-xxxxx0`;
const principal = { arn: `arn:aws:iam::${ACCOUNT}:user/bench-0`, accountId: ACCOUNT, accessKeyId: 'AKIAQQQQQQQQQQQQQQQ0' };

async function openBuild(label, dist) {
  const audit = await import(join(resolve(dist), 'audit/index.js'));
  const writer = await import(join(resolve(dist), 'store/sqlite/audit-writer.js'));
  const dir = mkdtempSync(join(root, `coffer-append-ab-${label}-`));
  const db = writer.openAuditDatabase(join(dir, 'audit.db'));
  if (!values.sync) db.pragma('synchronous = OFF');
  const append = writer.sealedAppender(db);
  let clock = Date.now();
  /** A draft row as audit-tables.ts's draftRow makes it, of this build's event code. */
  const draftRow = () => {
    const body = audit.canonicalEventJson(audit.buildEvent({
      requestId: randomUUID(), region: 'us-east-1', sourceIp: '127.0.0.1', userAgent: USER_AGENT, output: {}, time: new Date(clock++), service: 'secretsmanager',
      operation: 'GetSecretValue', principal, input: { SecretId: NAME }, resources: [{ ARN: NAME, accountId: ACCOUNT }, { ARN, accountId: ACCOUNT }],
    }));
    const draft = { ...audit.indexFields(JSON.parse(body)), body };
    return [draft.eventId, draft.accountId, draft.eventTime.getTime(), draft.eventName, draft.eventSource, draft.readOnly ? 1 : 0,
      draft.accessKeyId, draft.username, JSON.stringify(draft.resourceNames), draft.body];
  };
  const batches = () => Array.from({ length: batchCount }, () => Array.from({ length: batchSize }, draftRow));
  append(batches()[0]); // warm: names and templates known, statements prepared
  append(batches()[0]);
  return {
    label,
    batches,
    run(list) {
      const before = process.threadCpuUsage();
      for (const batch of list) append(batch);
      const used = process.threadCpuUsage(before);
      return (used.user + used.system) / (batchCount * batchSize);
    },
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const base = await openBuild('base', values.base);
const candidate = await openBuild('candidate', values.candidate);
const figures = { base: [], candidate: [] };
try {
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? [base, candidate] : [candidate, base];
    const inputs = order.map((build) => build.batches());
    order.forEach((build, index) => figures[build.label].push(build.run(inputs[index])));
  }
} finally {
  base.close();
  candidate.close();
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const ratios = figures.candidate.map((value, index) => value / figures.base[index]);
console.log(`${rounds} rounds of ${batchCount} batches of ${batchSize} on ${root}${values.sync ? '' : ' (synchronous=OFF)'}; µs of this thread's CPU per event`);
console.log(`base      median ${median(figures.base).toFixed(3)}   rounds: ${figures.base.map((v) => v.toFixed(2)).join(', ')}`);
console.log(`candidate median ${median(figures.candidate).toFixed(3)}   rounds: ${figures.candidate.map((v) => v.toFixed(2)).join(', ')}`);
console.log(`candidate/base: median of the per-round ratios ${median(ratios).toFixed(3)}, ${ratios.filter((r) => r < 1).length} of ${rounds} below 1`);
