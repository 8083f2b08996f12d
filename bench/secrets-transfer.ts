/**
 * `coffer secrets export` and `import` at scale (issue 17: "export/import of 10,000 secrets in under a minute each";
 * "an export of 10,000 secrets imports into a fresh server with identical values, labels, tags and descriptions").
 * Two `coffer server --dev` processes on their own data dirs; N secrets seeded into the first (a description, two
 * tags, and every tenth with a second version, AWSPREVIOUS and a label of its own); the built bin/coffer exports
 * them to a passphrase file and imports it into the second, each timed from spawn to exit; then every secret is
 * compared on both servers: description, tags, every version's stages and value.
 *
 *   npm run build && tsc -p bench/tsconfig.json && node bench/dist/secrets-transfer.js [--count N] [--compare DIR]
 *
 * `--compare DIR`: another checkout's built CLI (DIR/bin/coffer) exports and imports the same secrets too (into a
 * third server), alternated with this one, for a same-run A/B of a change to export/import.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { forEachConcurrently } from './aws-call.js';
import { REPO_ROOT } from './coffer-build.js';
import { describeMachine } from './extras.js';
import { log } from './log.js';
import { DEV_KEY, startCoffer, type Peer } from './peers.js';

const COFFER_BIN = join(REPO_ROOT, 'bin/coffer');
const CONCURRENCY = 16;

/** What must survive the round trip for one secret. */
type SecretImage = { description?: string; tags: string; versions: Array<{ stages: string; value: string }> };

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string) => (argv.indexOf(name) === -1 ? undefined : argv[argv.indexOf(name) + 1]);
  const count = Number(flag('--count') ?? 10_000);
  const clis = [{ label: 'this build', bin: COFFER_BIN }, ...(flag('--compare') ? [{ label: flag('--compare')!, bin: join(flag('--compare')!, 'bin/coffer') }] : [])];
  const scratch = mkdtempSync(join(tmpdir(), 'coffer-transfer-bench-'));
  const main = join(REPO_ROOT, 'dist/bundle/main.js');
  const source = await startCoffer({ dataDir: join(scratch, 'source'), main });
  const targets = await Promise.all(clis.map((_, index) => startCoffer({ dataDir: join(scratch, `target-${index}`), main })));
  try {
    const prefix = `bench/transfer-${Date.now()}`;
    const seedStart = performance.now();
    await seed(source, prefix, count);
    log(`seeded ${count} secrets in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    const passphraseFile = join(scratch, 'passphrase');
    writeFileSync(passphraseFile, 'bench passphrase, test data only', { mode: 0o600 });
    const machine = describeMachine();
    const lines = [
      `${count} secrets (${Math.ceil(count / 10)} with two versions), ${machine.cores} cores, load average at start ${machine.loadAverageAtStart.join(' ')}`,
      `| CLI | export (spawn to exit) | import into a fresh server | file bytes | secrets differing after import |`,
      `|---|---:|---:|---:|---:|`,
    ];
    const before = await image(source, prefix);
    for (const [index, cli] of clis.entries()) {
      const file = join(scratch, `export-${index}.cse`);
      const exportMs = await cofferCli(cli.bin, source, ['secrets', 'export', file, '--prefix', prefix, '--passphrase-file', passphraseFile]);
      const importMs = await cofferCli(cli.bin, targets[index]!, ['secrets', 'import', file, '--passphrase-file', passphraseFile]);
      const after = await image(targets[index]!, prefix);
      const differing = [...before.keys()].filter((name) => JSON.stringify(before.get(name)) !== JSON.stringify(after.get(name)));
      lines.push(`| ${cli.label} | ${(exportMs / 1000).toFixed(1)} s | ${(importMs / 1000).toFixed(1)} s | ${statSync(file).size} | ${differing.length + Math.abs(before.size - after.size)} |`);
      if (before.size !== count || after.size !== count || differing.length > 0) process.exitCode = 1;
    }
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await source.stop();
    for (const target of targets) await target.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function client(peer: Peer): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: peer.url, region: 'us-east-1', credentials: DEV_KEY, maxAttempts: 5 });
}

async function seed(peer: Peer, prefix: string, count: number): Promise<void> {
  const sm = client(peer);
  await forEachConcurrently(count, CONCURRENCY, async (i) => {
    const name = `${prefix}/s${i}`;
    await sm.send(
      new CreateSecretCommand({
        Name: name,
        Description: `secret number ${i}`,
        SecretString: JSON.stringify({ username: `user-${i}`, password: `pw-${i}-${'x'.repeat(i % 50)}` }),
        Tags: [{ Key: 'team', Value: `t${i % 7}` }, { Key: 'n', Value: String(i) }],
      }),
    );
    if (i % 10 !== 0) return;
    const second = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: `second-${i}` }));
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'blue', MoveToVersionId: second.VersionId }));
  });
  sm.destroy();
}

/** Every secret under the prefix as it must look after the round trip (version ids too: import keeps them). */
async function image(peer: Peer, prefix: string): Promise<Map<string, SecretImage>> {
  const sm = client(peer);
  const entries: Array<{ name: string; description?: string; tags: string }> = [];
  let nextToken: string | undefined;
  do {
    const page = await sm.send(new ListSecretsCommand({ NextToken: nextToken, MaxResults: 100, Filters: [{ Key: 'name', Values: [prefix] }] }));
    for (const entry of page.SecretList ?? []) {
      const tags = (entry.Tags ?? []).map((tag) => `${tag.Key}=${tag.Value}`).sort().join(',');
      entries.push({ name: entry.Name!, description: entry.Description, tags });
    }
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  const images = new Map<string, SecretImage>();
  await forEachConcurrently(entries.length, CONCURRENCY, async (index) => {
    const entry = entries[index]!;
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: entry.name }));
    const versions = [];
    for (const version of (listed.Versions ?? []).sort((a, b) => a.VersionId!.localeCompare(b.VersionId!))) {
      const value = await sm.send(new GetSecretValueCommand({ SecretId: entry.name, VersionId: version.VersionId }));
      versions.push({ stages: `${version.VersionId}:${[...(version.VersionStages ?? [])].sort().join(',')}`, value: value.SecretString ?? '' });
    }
    images.set(entry.name, { description: entry.description, tags: entry.tags, versions });
  });
  sm.destroy();
  return images;
}

/** A built bin/coffer against `peer`, spawn to exit in ms; a failure ends the bench. */
function cofferCli(bin: string, peer: Peer, args: string[]): Promise<number> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    AWS_ACCESS_KEY_ID: DEV_KEY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEV_KEY.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: peer.url,
  };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('close', (code) => {
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`coffer ${args.slice(0, 2).join(' ')}: exit ${code}: ${output}`));
    });
  });
}

await main();
