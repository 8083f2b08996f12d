/**
 * `node bench/dist/main.js postgres-trace [--build DIR] [--pg-log FILE]`: the SQL statements one request makes,
 * read from the PostgreSQL server's log. One Coffer node on a fresh database that logs every statement
 * (`ALTER DATABASE … SET log_statement = 'all'`, that database only); between marker statements sent on a
 * connection of its own, GetSecretValue with the node's read cache cold and warm, and PutSecretValue. Each
 * statement is one round trip (the driver does not pipeline inside a transaction). Needs read access to the
 * server's log (root or the postgres group): Debian's /var/log/postgresql/postgresql-<major>-main.log by default.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { sendOk } from './aws-call.js';
import { DEV_KEY, startCoffer } from './peers.js';
import { createBenchDatabase } from './postgres-db.js';
import { Signer } from './signer.js';

type Step = { label: string; run: () => Promise<unknown> };

export async function runStatementTrace(dirs: { disk: string }, options: { pgLog?: string }): Promise<string> {
  const database = await createBenchDatabase();
  const major = database.settings.server_version?.split('.')[0] ?? '15';
  const logFile = options.pgLog ?? `/var/log/postgresql/postgresql-${major}-main.log`;
  // The setting applies to connections opened after it: the markers' connection comes after.
  const setup = postgres(database.url, { max: 1, onnotice: () => undefined });
  await setup.unsafe(`ALTER DATABASE ${database.name} SET log_statement = 'all'`);
  await setup.end({ timeout: 5 });
  const marker = postgres(database.url, { max: 1, onnotice: () => undefined });
  try {
    const node = await startCoffer({
      dataDir: mkdtempSync(join(dirs.disk, 'trace-node-')),
      serverArgs: ['--store', database.url],
      env: { COFFER_ROOT_KEY: randomBytes(32).toString('base64') },
    });
    try {
      const signer = new Signer(DEV_KEY);
      const call = (operation: string, payload: unknown) => sendOk(node.url, node.host, signer, { service: 'secretsmanager', operation, payload });
      // A secret with a previous version, read once (its LastAccessedDate is today's), then left until the
      // node's read cache (500 ms) has let go of everything.
      await call('CreateSecret', { Name: 'trace/secret', SecretString: 'first' });
      await call('PutSecretValue', { SecretId: 'trace/secret', SecretString: 'second' });
      await call('GetSecretValue', { SecretId: 'trace/secret' });
      await sleep(1_500);
      const steps: Step[] = [
        { label: 'GetSecretValue, read cache cold', run: () => call('GetSecretValue', { SecretId: 'trace/secret' }) },
        { label: 'GetSecretValue, read cache warm', run: () => call('GetSecretValue', { SecretId: 'trace/secret' }) },
        { label: 'PutSecretValue', run: () => call('PutSecretValue', { SecretId: 'trace/secret', SecretString: 'third' }) },
      ];
      const logFrom = statSync(logFile).size;
      for (const step of steps) {
        await marker.unsafe(`SELECT 'MARK ${step.label}'`);
        await step.run();
        await sleep(300); // the audit event's group commit
      }
      await marker.unsafe(`SELECT 'MARK end'`);
      await sleep(200);
      return renderTrace(statementsByStep(readFileSync(logFile).subarray(logFrom).toString('utf8'), database.name));
    } finally {
      await node.stop();
    }
  } finally {
    await marker.end({ timeout: 5 });
    await database.drop();
  }
}

/** The logged statements of `databaseName` between consecutive markers, by the marker's label. */
function statementsByStep(log: string, databaseName: string): Map<string, string[]> {
  const steps = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of log.split('\n')) {
    if (!line.includes(`@${databaseName} `)) continue;
    const logged = /LOG:\s+(?:statement|execute [^:]*): (.*)$/.exec(line);
    if (!logged) continue;
    const mark = /^SELECT 'MARK ([^']+)'/.exec(logged[1]!);
    if (mark) {
      current = mark[1] === 'end' ? undefined : [];
      if (current) steps.set(mark[1]!, current);
      continue;
    }
    current?.push(logged[1]!.replace(/\s+/g, ' ').slice(0, 140));
  }
  return steps;
}

function renderTrace(steps: Map<string, string[]>): string {
  const lines: string[] = [];
  for (const [label, statements] of steps) {
    lines.push(`${label}: ${statements.length} statements (round trips)`);
    for (const statement of statements) lines.push(`  ${statement}`);
    lines.push('');
  }
  return lines.join('\n');
}
