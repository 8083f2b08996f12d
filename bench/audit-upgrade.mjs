import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path'; import { tmpdir } from 'node:os'; import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
// Issue 21: how long audit.db's upgrade to the compact encoding takes, and verify after it.
//   node bench/audit-upgrade.mjs --old-dist BASELINE/dist [--new-dist dist] [--events N]
// Writes N GetSecretValue events with the old build's store, opens audit.db with the new build (its migrations run),
// then verifies the whole chain through the new build's store.
const { values } = parseArgs({ options: { 'old-dist': { type: 'string' }, 'new-dist': { type: 'string', default: 'dist' }, events: { type: 'string', default: '100000' } } });
const base = resolve(values['old-dist']), mine = resolve(values['new-dist']);
const { SqliteStore } = await import(base + '/store/sqlite/index.js');
const { buildEvent, canonicalEventJson, indexFields } = await import(base + '/audit/index.js');
const dir = mkdtempSync(join(tmpdir(), 'coffer-mig-'));
const store = new SqliteStore(join(dir, 'coffer.db')); store.migrate();
const N = Number(values.events);
for (let at = 0; at < N; at += 500) {
  await store.appendAuditEvents(Array.from({ length: 500 }, (_, k) => { const i = at + k; const body = canonicalEventJson(buildEvent({ requestId: randomUUID(), time: new Date(), service: 'secretsmanager', operation: 'GetSecretValue',
    principal: { arn: 'arn:aws:iam::123456789012:user/u', accountId: '123456789012', accessKeyId: 'AKIAQQQQQQQQQQQQQQQ1' }, region: 'us-east-1', sourceIp: '127.0.0.1', userAgent: 'aws-sdk-js/3', input: { SecretId: 's' + i % 100 }, output: {},
    resources: [{ ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s' + (i % 100) + '-abcdef', accountId: '123456789012' }] })); return { ...indexFields(JSON.parse(body)), body }; }));
}
store.close();
console.log('old audit.db', statSync(join(dir, 'audit.db')).size);
const { openAuditDatabase } = await import(mine + '/store/sqlite/audit-writer.js');
const t = Date.now(); const db = openAuditDatabase(join(dir, 'audit.db')); console.log('migration 3 ms', Date.now() - t); db.close();
const { SqliteStore: New } = await import(mine + '/store/sqlite/index.js');
const { verifyChain } = await import(mine + '/audit/index.js');
const s2 = new New(join(dir, 'coffer.db')); s2.migrate();
const t2 = Date.now(); const v = await verifyChain((a, l) => Promise.resolve(s2.listAuditEvents(a, l)), 500); console.log('verify', v.intact, v.events, Date.now() - t2, 'ms');
s2.close(); rmSync(dir, { recursive: true, force: true });
