/**
 * @module cli
 * `coffer secrets export FILE` and `coffer secrets import FILE` (docs/ARCHITECTURE.md, "CLI for people"):
 * every secret (or those under a name prefix) with its labelled versions, description and tags, moved through
 * a file encrypted to a passphrase (scrypt) or to a KMS key (GenerateDataKey / Decrypt); format in
 * ../secret-archive.ts. Import checks the whole file before writing anything, and is resumable: each version
 * is written with ClientRequestToken = its exported VersionId, which makes PutSecretValue idempotent
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html).
 * No value is ever printed; messages name secrets, never their contents.
 */
import { closeSync, fchmodSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import type { SecretListEntry, SecretsManagerClient, SecretVersionsListEntry } from '@aws-sdk/client-secrets-manager';
import type { ClientOptions, SecretsManagerClients } from '../aws-clients.js';
import type { RemoteCall } from '../remote-command.js';
import { printJson, UsageError } from '../output.js';
import {
  ArchiveError,
  ArchiveWriter,
  deriveScryptKey,
  newScryptKdf,
  openArchive,
  readArchiveHeader,
  RECORDS_PER_CHUNK,
  type ArchiveKdf,
  type SecretRecord,
} from '../secret-archive.js';

type Subcommand = (name: string, description: string, action: string, build: (command: Command) => (...args: never[]) => RemoteCall<SecretsManagerClients>) => void;

type KeyOptions = { passphraseFile?: string; passphraseEnv?: string; kmsKey?: string };

/** Requests in flight at once: enough to hide the round trip, few enough not to crowd the server. */
const CONCURRENCY = 16;

export function registerSecretsTransferCommands(subcommand: Subcommand): void {
  subcommand('export', 'write every secret (or a prefix) with its labelled versions to an encrypted file', 'GetSecretValue', (command) => {
    keyOptions(command.argument('<file>', 'the archive to create (mode 0600)').option('--prefix <prefix>', 'only secrets whose name starts with prefix'));
    return (file: string, options: KeyOptions & { prefix?: string }) => async (clients, format) => {
      const keySource = chooseKeySource(options);
      const client = clients.client();
      const entries = await listSecrets(clients, options.prefix);
      const progress = progressLine('exported', entries.length);
      const records = await mapLimit(entries, async (entry) => {
        const record = await exportSecret(clients, entry);
        progress.step();
        return record;
      });
      progress.done();
      const { key, kdf } = await newArchiveKey(keySource, clients, command);
      const writer = new ArchiveWriter(key, {
        kdf,
        source: { account: entries[0]?.ARN?.split(':')[4], region: await client.config.region() },
        createdAt: new Date().toISOString(),
      });
      writeArchive(file, writer, records);
      const versions = records.reduce((sum, record) => sum + record.versions.length, 0);
      if (format === 'json') return printJson({ File: file, Secrets: records.length, Versions: versions });
      process.stdout.write(`exported ${records.length} secrets (${versions} versions) to ${file}\n`);
    };
  });

  subcommand('import', 'create the secrets of an export file that are absent (resumable; nothing written from a damaged file)', 'PutSecretValue', (command) => {
    keyOptions(command.argument('<file>', 'an archive written by `coffer secrets export`')).option(
      '--skip-existing',
      'leave secrets that exist with different content as they are (default: refuse the whole import, naming them)',
    );
    return (file: string, options: KeyOptions & { skipExisting?: boolean }) => async (clients, format) => {
      const keySource = chooseKeySource(options);
      const bytes = readFileSync(file);
      const { header } = readArchiveHeader(bytes);
      const key = await archiveKeyOf(header.kdf, keySource, clients, command);
      const { records } = openArchive(bytes, key);
      const existing = await existingSecrets(clients, records);
      const plans = await mapLimit(records, (record) => planImport(clients.client(), record, existing.get(record.name)));
      const conflicts = plans.filter((plan) => plan.kind === 'conflict').map((plan) => plan.record.name);
      if (conflicts.length > 0 && options.skipExisting !== true) {
        throw new UsageError(
          `${conflicts.length} secret(s) exist with different content: ${conflicts.slice(0, 20).join(', ')}${conflicts.length > 20 ? ', …' : ''}; nothing imported (pass --skip-existing to leave them and import the rest)`,
        );
      }
      const progress = progressLine('imported', plans.length);
      await mapLimit(plans, async (plan) => {
        if (plan.kind === 'write') await writeSecret(clients.client(), plan.record, plan.existing);
        progress.step();
      });
      progress.done();
      const count = (kind: Plan['kind']) => plans.filter((plan) => plan.kind === kind).length;
      const summary = { Imported: count('write'), Identical: count('identical'), SkippedExisting: conflicts };
      if (format === 'json') return printJson(summary);
      process.stdout.write(`imported ${summary.Imported} secrets, ${summary.Identical} already identical\n`);
      if (conflicts.length > 0) process.stdout.write(`skipped ${conflicts.length} existing with different content: ${conflicts.join(', ')}\n`);
    };
  });
}

function keyOptions(command: Command): Command {
  return command
    .option('--passphrase-file <file>', 'read the passphrase from a file (its first line)')
    .option('--passphrase-env <variable>', 'read the passphrase from an environment variable')
    .option('--kms-key <key>', 'encrypt to a KMS key (id, ARN or alias) instead of a passphrase');
}

type KeySource = { kind: 'passphrase'; passphrase: string } | { kind: 'kms'; keyId?: string };

function chooseKeySource(options: KeyOptions): KeySource {
  const given = [options.passphraseFile, options.passphraseEnv, options.kmsKey].filter((value) => value !== undefined).length;
  if (given !== 1) throw new UsageError('give exactly one of --passphrase-file, --passphrase-env, --kms-key');
  if (options.kmsKey !== undefined) return { kind: 'kms', keyId: options.kmsKey };
  const passphrase =
    options.passphraseFile !== undefined ? readFileSync(options.passphraseFile, 'utf8').split(/\r?\n/)[0]! : process.env[options.passphraseEnv!];
  if (passphrase === undefined || passphrase === '') throw new UsageError('the passphrase is empty (or its variable is unset)');
  return { kind: 'passphrase', passphrase };
}

async function kmsClientFor(clients: SecretsManagerClients, command: Command) {
  const kms = await import('@aws-sdk/client-kms');
  const options = command.optsWithGlobals<ClientOptions>();
  const client = new kms.KMSClient({
    region: options.region ?? (await clients.client().config.region()),
    endpoint: options.endpointUrl,
    profile: options.profile,
    maxAttempts: 3,
  });
  return { kms, client };
}

async function newArchiveKey(source: KeySource, clients: SecretsManagerClients, command: Command): Promise<{ key: Buffer; kdf: ArchiveKdf }> {
  if (source.kind === 'passphrase') {
    const kdf = newScryptKdf();
    return { key: await deriveScryptKey(source.passphrase, kdf), kdf };
  }
  const { kms, client } = await kmsClientFor(clients, command);
  try {
    const answer = await client.send(new kms.GenerateDataKeyCommand({ KeyId: source.keyId, KeySpec: 'AES_256' }));
    return {
      key: Buffer.from(answer.Plaintext!),
      kdf: { name: 'kms', keyId: answer.KeyId ?? source.keyId!, wrappedKey: Buffer.from(answer.CiphertextBlob!).toString('base64') },
    };
  } finally {
    client.destroy();
  }
}

async function archiveKeyOf(kdf: ArchiveKdf, source: KeySource, clients: SecretsManagerClients, command: Command): Promise<Buffer> {
  if (kdf.name === 'scrypt') {
    if (source.kind !== 'passphrase') throw new UsageError('this archive is encrypted to a passphrase: give --passphrase-file or --passphrase-env');
    return deriveScryptKey(source.passphrase, kdf);
  }
  if (source.kind !== 'kms') throw new UsageError(`this archive is encrypted to the KMS key ${kdf.keyId}: give --kms-key`);
  const { kms, client } = await kmsClientFor(clients, command);
  try {
    // KeyId pins the key: a wrapped key of another key is refused by KMS rather than decrypted under it.
    const answer = await client.send(new kms.DecryptCommand({ CiphertextBlob: Buffer.from(kdf.wrappedKey, 'base64'), KeyId: source.keyId }));
    return Buffer.from(answer.Plaintext!);
  } catch (error) {
    if (error instanceof Error && (error.name === 'InvalidCiphertextException' || error.name === 'IncorrectKeyException')) {
      throw new ArchiveError(`KMS could not unwrap this archive's key with ${source.keyId} (${error.name})`);
    }
    throw error;
  } finally {
    client.destroy();
  }
}

async function listSecrets(clients: SecretsManagerClients, prefix: string | undefined): Promise<SecretListEntry[]> {
  const entries: SecretListEntry[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.client().send(
      new clients.sdk.ListSecretsCommand({ NextToken: nextToken, MaxResults: 100, Filters: prefix === undefined ? undefined : [{ Key: 'name', Values: [prefix] }] }),
    );
    // The name filter matches a prefix of any word in AWS; keep only names that start with it.
    entries.push(...(page.SecretList ?? []).filter((entry) => prefix === undefined || entry.Name?.startsWith(prefix)));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return entries;
}

async function listVersions(client: SecretsManagerClient, sdk: SecretsManagerClients['sdk'], secretId: string, includeDeprecated: boolean): Promise<SecretVersionsListEntry[]> {
  const versions: SecretVersionsListEntry[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new sdk.ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: includeDeprecated, NextToken: nextToken }));
    versions.push(...(page.Versions ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return versions;
}

/** The versions that carry labels, oldest first, the AWSCURRENT one last (import writes them in this order). */
function importOrder<T extends { stages: string[]; createdDate?: string }>(versions: T[]): T[] {
  const byAge = [...versions].sort((a, b) => (a.createdDate ?? '').localeCompare(b.createdDate ?? ''));
  return [...byAge.filter((v) => !v.stages.includes('AWSCURRENT')), ...byAge.filter((v) => v.stages.includes('AWSCURRENT'))];
}

/**
 * One secret from its ListSecrets entry (name, description, KMS key, tags and SecretVersionsToStages are all
 * there) and one GetSecretValue per labelled version, whose answer also dates the version for importOrder.
 */
async function exportSecret(clients: SecretsManagerClients, entry: SecretListEntry): Promise<SecretRecord> {
  const client = clients.client();
  const labelled = Object.entries(entry.SecretVersionsToStages ?? {}).filter(([, stages]) => stages.length > 0);
  const versions: SecretRecord['versions'] = [];
  for (const [versionId, stages] of labelled) {
    const value = await client.send(new clients.sdk.GetSecretValueCommand({ SecretId: entry.ARN, VersionId: versionId }));
    versions.push({
      versionId,
      stages,
      createdDate: value.CreatedDate?.toISOString(),
      secretString: value.SecretString,
      secretBinary: value.SecretBinary === undefined ? undefined : Buffer.from(value.SecretBinary).toString('base64'),
    });
  }
  return {
    name: entry.Name!,
    description: entry.Description,
    kmsKeyId: entry.KmsKeyId,
    tags: (entry.Tags ?? []).map((tag) => ({ Key: tag.Key!, Value: tag.Value ?? '' })),
    versions: importOrder(versions),
  };
}

/** The file is opened 0600 before a byte is written (fchmod too: an existing file keeps its mode on open). */
function writeArchive(file: string, writer: ArchiveWriter, records: SecretRecord[]): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, writer.begin());
    for (let start = 0; start === 0 || start < records.length; start += RECORDS_PER_CHUNK) {
      const final = start + RECORDS_PER_CHUNK >= records.length;
      writeSync(fd, writer.chunk(records.slice(start, start + RECORDS_PER_CHUNK), final));
    }
  } finally {
    closeSync(fd);
  }
}

type Existing = { versionIds: Set<string>; stages: Map<string, string> };
type Plan = { kind: 'write' | 'identical' | 'conflict'; record: SecretRecord; existing?: Existing };

/**
 * What to do with one record: absent → write; present with only exported versions (an interrupted import) →
 * write the rest; present with the same versions, values, labels, description and tags → identical; anything
 * else (a version the export does not have, another value, description or tags, or scheduled for deletion) →
 * conflict. `listed` is the target's ListSecrets entry of that name: absent means no call at all.
 */
async function planImport(client: SecretsManagerClient, record: SecretRecord, listed: SecretListEntry | undefined): Promise<Plan> {
  if (listed === undefined) return { kind: 'write', record };
  const sdk = await import('@aws-sdk/client-secrets-manager');
  if (listed.DeletedDate !== undefined) return { kind: 'conflict', record };
  const all = await listVersions(client, sdk, record.name, true);
  const exported = new Map(record.versions.map((v) => [v.versionId, v]));
  if (all.some((v) => !exported.has(v.VersionId!))) return { kind: 'conflict', record };
  if ((listed.Description ?? '') !== (record.description ?? '') || !sameTags(listed.Tags ?? [], record.tags)) return { kind: 'conflict', record };
  for (const version of all) {
    const value = await client.send(new sdk.GetSecretValueCommand({ SecretId: record.name, VersionId: version.VersionId }));
    const wanted = exported.get(version.VersionId!)!;
    const binary = value.SecretBinary === undefined ? undefined : Buffer.from(value.SecretBinary).toString('base64');
    if (value.SecretString !== wanted.secretString || binary !== wanted.secretBinary) return { kind: 'conflict', record };
  }
  const stages = new Map(all.flatMap((v) => (v.VersionStages ?? []).map((stage) => [stage, v.VersionId!] as [string, string])));
  const existing = { versionIds: new Set(all.map((v) => v.VersionId!)), stages };
  const wantedStages = new Map(record.versions.flatMap((v) => v.stages.map((stage) => [stage, v.versionId] as [string, string])));
  const identical = all.length === record.versions.length && stages.size === wantedStages.size && [...wantedStages].every(([stage, id]) => stages.get(stage) === id);
  return { kind: identical ? 'identical' : 'write', record, existing };
}

/**
 * The target's secrets (those scheduled for deletion too) whose names the records could have, by name: one
 * ListSecrets page per 100 secrets under the records' common name prefix, instead of a DescribeSecret per record.
 */
async function existingSecrets(clients: SecretsManagerClients, records: SecretRecord[]): Promise<Map<string, SecretListEntry>> {
  const names = records.map((record) => record.name);
  const prefix = commonPrefix(names);
  const wanted = new Set(names);
  const found = new Map<string, SecretListEntry>();
  let nextToken: string | undefined;
  do {
    const page = await clients.client().send(
      new clients.sdk.ListSecretsCommand({
        NextToken: nextToken,
        MaxResults: 100,
        IncludePlannedDeletion: true,
        Filters: prefix === '' ? undefined : [{ Key: 'name', Values: [prefix] }],
      }),
    );
    for (const entry of page.SecretList ?? []) if (wanted.has(entry.Name!)) found.set(entry.Name!, entry);
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return found;
}

function commonPrefix(names: string[]): string {
  if (names.length === 0) return '';
  let prefix = names[0]!;
  for (const name of names) while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

function sameTags(a: Array<{ Key?: string; Value?: string }>, b: Array<{ Key: string; Value: string }>): boolean {
  const key = (tags: Array<{ Key?: string; Value?: string }>) => JSON.stringify(tags.map((t) => [t.Key, t.Value ?? '']).sort());
  return key(a) === key(b);
}

/** Default encryption key names: the target's own default applies; anything else is passed as given. */
function isDefaultKey(kmsKeyId: string | undefined): boolean {
  return kmsKeyId === undefined || kmsKeyId === 'alias/aws/secretsmanager' || kmsKeyId === '';
}

/** Creates (or completes) one secret: versions in import order, then labels moved to where the export had them. */
async function writeSecret(client: SecretsManagerClient, record: SecretRecord, existing: Existing | undefined): Promise<void> {
  const sdk = await import('@aws-sdk/client-secrets-manager');
  const versions = importOrder(record.versions);
  const value = (v: SecretRecord['versions'][number]) =>
    v.secretBinary !== undefined ? { SecretBinary: Buffer.from(v.secretBinary, 'base64') } : { SecretString: v.secretString };
  const present = existing?.versionIds ?? new Set<string>();
  for (const [index, version] of versions.entries()) {
    if (present.has(version.versionId)) continue;
    if (index === 0 && existing === undefined) {
      await client.send(
        new sdk.CreateSecretCommand({
          Name: record.name,
          Description: record.description,
          KmsKeyId: isDefaultKey(record.kmsKeyId) ? undefined : record.kmsKeyId,
          Tags: record.tags.length > 0 ? record.tags : undefined,
          ClientRequestToken: version.versionId,
          ...value(version),
        }),
      );
    } else {
      // Each write becomes AWSCURRENT (its predecessor AWSPREVIOUS); the AWSCURRENT version comes last.
      await client.send(new sdk.PutSecretValueCommand({ SecretId: record.name, ClientRequestToken: version.versionId, ...value(version) }));
    }
  }
  await reconcileStages(client, sdk, record, existing === undefined ? stagesAfterWriting(versions) : undefined);
}

/** Where the labels are after a new secret's versions were written in order: AWSCURRENT last, AWSPREVIOUS before it. */
function stagesAfterWriting(versions: SecretRecord['versions']): Map<string, string> {
  const stages = new Map<string, string>([['AWSCURRENT', versions[versions.length - 1]!.versionId]]);
  if (versions.length > 1) stages.set('AWSPREVIOUS', versions[versions.length - 2]!.versionId);
  return stages;
}

/**
 * Moves and removes labels until each sits on the version the export had it on (AWSCURRENT is right already).
 * `known`: where the labels are, when the writes just made tell; otherwise they are listed.
 */
async function reconcileStages(client: SecretsManagerClient, sdk: SecretsManagerClients['sdk'], record: SecretRecord, known?: Map<string, string>): Promise<void> {
  const wanted = new Map(record.versions.flatMap((v) => v.stages.map((stage) => [stage, v.versionId] as [string, string])));
  const actual =
    known ??
    new Map((await listVersions(client, sdk, record.name, true)).flatMap((v) => (v.VersionStages ?? []).map((stage) => [stage, v.VersionId!] as [string, string])));
  for (const [stage, holder] of actual) {
    if (stage === 'AWSCURRENT' || wanted.get(stage) === holder) continue;
    const target = wanted.get(stage);
    await client.send(new sdk.UpdateSecretVersionStageCommand({ SecretId: record.name, VersionStage: stage, RemoveFromVersionId: holder, MoveToVersionId: target }));
  }
  for (const [stage, target] of wanted) {
    if (stage === 'AWSCURRENT' || actual.has(stage)) continue;
    await client.send(new sdk.UpdateSecretVersionStageCommand({ SecretId: record.name, VersionStage: stage, MoveToVersionId: target }));
  }
}

/** `items` mapped by `work` with at most CONCURRENCY calls in flight, results in order; the first failure stops it. */
async function mapLimit<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}

/** `verb n/total` rewritten in place on stderr, only when stderr is a terminal. */
function progressLine(verb: string, total: number) {
  const tty = process.stderr.isTTY === true;
  let count = 0;
  let lastDrawn = 0;
  return {
    step() {
      count++;
      if (tty && (Date.now() - lastDrawn > 100 || count === total)) {
        lastDrawn = Date.now();
        process.stderr.write(`\r${verb} ${count}/${total} secrets`);
      }
    },
    done() {
      if (tty && total > 0) process.stderr.write('\n');
    },
  };
}
