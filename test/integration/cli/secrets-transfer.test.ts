import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { cliEnv, runCoffer } from '../../helpers/coffer-cli.js';
import { createKey } from '../../helpers/kms.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * `coffer secrets export` / `import` (the built bin/coffer) between two real servers: a round trip keeps
 * values, labels, tags and descriptions; a wrong passphrase, a flipped byte, a truncated file are refused with
 * nothing imported; a second import is a no-op; a conflicting secret is refused; the KMS key mode; and 1,000
 * secrets (the time is printed for bench/RESULTS.md).
 */
describe('coffer secrets export / import', () => {
  let source: TestServer;
  let target: TestServer;
  let fromSource: SecretsManagerClient;
  let intoTarget: SecretsManagerClient;
  let scratch: string;
  const prefix = uniqueSecretName('transfer');
  const passphraseFile = () => join(scratch, 'passphrase');

  before(async () => {
    [source, target] = await Promise.all([startTestServer(), startTestServer()]);
    fromSource = secretsClient(source);
    intoTarget = secretsClient(target);
    scratch = mkdtempSync(join(tmpdir(), 'coffer-transfer-'));
    writeFileSync(passphraseFile(), 'correct horse battery staple\n');
    // db: three versions, AWSPREVIOUS on the second, a custom label on the first.
    const db = `${prefix}/db`;
    const v1 = (await fromSource.send(new CreateSecretCommand({ Name: db, SecretString: 'one', Description: 'the database', Tags: [{ Key: 'team', Value: 'core' }, { Key: 'env', Value: 'prod' }] }))).VersionId!;
    await fromSource.send(new PutSecretValueCommand({ SecretId: db, SecretString: '{"password":"two"}' }));
    await fromSource.send(new PutSecretValueCommand({ SecretId: db, SecretString: '{"password":"three"}' }));
    await fromSource.send(new UpdateSecretVersionStageCommand({ SecretId: db, VersionStage: 'blue', MoveToVersionId: v1 }));
    await fromSource.send(new CreateSecretCommand({ Name: `${prefix}/bin`, SecretBinary: Buffer.from([0, 1, 2, 255]) }));
    await fromSource.send(new CreateSecretCommand({ Name: `${prefix}/plain`, SecretString: 'p', Description: 'plain one' }));
    await fromSource.send(new CreateSecretCommand({ Name: uniqueSecretName('elsewhere'), SecretString: 'not under the prefix' }));
  });
  after(async () => {
    fromSource.destroy();
    intoTarget.destroy();
    await Promise.all([source.cleanup(), target.cleanup()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  async function coffer(server: TestServer, args: string[], extra: Record<string, string> = {}) {
    return runCoffer(args, cliEnv(server, server.admin, extra));
  }
  async function ok(server: TestServer, args: string[], extra: Record<string, string> = {}): Promise<string> {
    const outcome = await coffer(server, args, extra);
    assert.equal(outcome.code, 0, `coffer ${args.join(' ')}: ${outcome.stderr}`);
    return outcome.stdout;
  }

  /** Everything import must carry over, for one secret: versions with labels and values, description, tags. */
  async function snapshot(client: SecretsManagerClient, name: string) {
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    const versions = (await client.send(new ListSecretVersionIdsCommand({ SecretId: name }))).Versions ?? [];
    const values = await Promise.all(
      versions.map(async (v) => {
        const value = await client.send(new GetSecretValueCommand({ SecretId: name, VersionId: v.VersionId }));
        return { id: v.VersionId, stages: [...(v.VersionStages ?? [])].sort(), string: value.SecretString, binary: value.SecretBinary && Buffer.from(value.SecretBinary).toString('hex') };
      }),
    );
    return {
      description: described.Description,
      tags: [...(described.Tags ?? [])].sort((a, b) => a.Key!.localeCompare(b.Key!)),
      versions: values.sort((a, b) => a.id!.localeCompare(b.id!)),
    };
  }

  async function exists(client: SecretsManagerClient, name: string): Promise<boolean> {
    try {
      await client.send(new DescribeSecretCommand({ SecretId: name }));
      return true;
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return false;
      throw error;
    }
  }

  const names = () => [`${prefix}/db`, `${prefix}/bin`, `${prefix}/plain`];

  it('refuses a wrong passphrase, a flipped byte and a truncated file, importing nothing', async () => {
    const file = join(scratch, 'bad.cse');
    await ok(source, ['secrets', 'export', file, '--prefix', prefix, '--passphrase-file', passphraseFile()]);
    const intact = readFileSync(file);
    const wrong = await coffer(target, ['secrets', 'import', file, '--passphrase-env', 'PASS'], { PASS: 'not the passphrase' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong passphrase/);
    const damaged = (mutate: (bytes: Buffer) => Buffer) => {
      const path = join(scratch, 'damaged.cse');
      writeFileSync(path, mutate(Buffer.from(intact)));
      return path;
    };
    const flipped = await coffer(target, ['secrets', 'import', damaged((b) => ((b[b.length - 40]! ^= 1), b)), '--passphrase-file', passphraseFile()]);
    assert.equal(flipped.code, 1);
    assert.match(flipped.stderr, /failed authentication/);
    const headerFlipped = await coffer(target, ['secrets', 'import', damaged((b) => ((b[20]! ^= 1), b)), '--passphrase-file', passphraseFile()]);
    assert.equal(headerFlipped.code, 1, headerFlipped.stderr);
    const truncated = await coffer(target, ['secrets', 'import', damaged((b) => b.subarray(0, b.length - 10)), '--passphrase-file', passphraseFile()]);
    assert.equal(truncated.code, 1);
    assert.match(truncated.stderr, /truncated/);
    const foreign = await coffer(target, ['secrets', 'import', damaged(() => Buffer.from('hello, not an archive')), '--passphrase-file', passphraseFile()]);
    assert.equal(foreign.code, 1);
    assert.match(foreign.stderr, /not a Coffer secrets export/);
    for (const outcome of [wrong, flipped, headerFlipped, truncated, foreign]) assert.doesNotMatch(outcome.stderr + outcome.stdout, /three|correct horse/);
    for (const name of names()) assert.equal(await exists(intoTarget, name), false, `${name} was imported from a refused file`);
  });

  it('round-trips values, labels, tags and descriptions into a fresh server; the file is 0600; a second import is a no-op', async () => {
    const file = join(scratch, 'all.cse');
    const exported = await ok(source, ['secrets', 'export', file, '--prefix', prefix, '--passphrase-file', passphraseFile()]);
    assert.match(exported, /exported 3 secrets \(5 versions\)/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.doesNotMatch(readFileSync(file).toString('latin1'), /three|the database|core/, 'the archive is encrypted');
    assert.match(await ok(target, ['secrets', 'import', file, '--passphrase-file', passphraseFile()]), /imported 3 secrets, 0 already identical/);
    for (const name of names()) assert.deepEqual(await snapshot(intoTarget, name), await snapshot(fromSource, name), name);
    const db = await snapshot(intoTarget, `${prefix}/db`);
    assert.deepEqual(db.versions.map((v) => v.stages.join(',')).sort(), ['AWSCURRENT', 'AWSPREVIOUS', 'blue']);
    const again = JSON.parse(await ok(target, ['secrets', 'import', file, '--passphrase-file', passphraseFile(), '--output', 'json']));
    assert.deepEqual(again, { Imported: 0, Identical: 3, SkippedExisting: [] });
    const versions = (await intoTarget.send(new ListSecretVersionIdsCommand({ SecretId: `${prefix}/db`, IncludeDeprecated: true }))).Versions ?? [];
    assert.equal(versions.length, 3, 'no duplicated versions');
  });

  it('completes an interrupted import, and refuses a secret that differs unless --skip-existing', async () => {
    const fresh = await startTestServer();
    const client = secretsClient(fresh);
    try {
      const file = join(scratch, 'all.cse');
      // An interrupted import: the secret was created with its oldest version only.
      const exported = await snapshot(fromSource, `${prefix}/db`);
      const oldest = exported.versions.find((v) => v.stages.includes('blue'))!;
      await client.send(new CreateSecretCommand({ Name: `${prefix}/db`, SecretString: oldest.string, ClientRequestToken: oldest.id, Description: 'the database', Tags: [{ Key: 'team', Value: 'core' }, { Key: 'env', Value: 'prod' }] }));
      await client.send(new CreateSecretCommand({ Name: `${prefix}/plain`, SecretString: 'someone else', Description: 'plain one' }));
      const refused = await runCoffer(['secrets', 'import', file, '--passphrase-file', passphraseFile()], cliEnv(fresh));
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, new RegExp(`exist with different content: ${prefix}/plain; nothing imported`));
      assert.equal(await exists(client, `${prefix}/bin`), false);
      const skipped = await runCoffer(['secrets', 'import', file, '--passphrase-file', passphraseFile(), '--skip-existing'], cliEnv(fresh));
      assert.equal(skipped.code, 0, skipped.stderr);
      assert.match(skipped.stdout, new RegExp(`skipped 1 existing with different content: ${prefix}/plain`));
      assert.deepEqual(await snapshot(client, `${prefix}/db`), exported);
      assert.equal((await client.send(new GetSecretValueCommand({ SecretId: `${prefix}/plain` }))).SecretString, 'someone else');
    } finally {
      client.destroy();
      await fresh.cleanup();
    }
  });

  it('encrypts to a KMS key: the data key is unwrapped with Decrypt at import, another key is refused', async () => {
    const kms = source.kms();
    const key = await createKey(kms);
    const other = await createKey(kms);
    kms.destroy();
    const file = join(scratch, 'kms.cse');
    await ok(source, ['secrets', 'export', file, '--prefix', `${prefix}/plain`, '--kms-key', key.KeyId!]);
    const wrongKey = await coffer(source, ['secrets', 'import', file, '--kms-key', other.KeyId!]);
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /KMS could not unwrap/);
    const needsKms = await coffer(source, ['secrets', 'import', file, '--passphrase-file', passphraseFile()]);
    assert.equal(needsKms.code, 2);
    await fromSource.send(new DeleteSecretCommand({ SecretId: `${prefix}/plain`, ForceDeleteWithoutRecovery: true }));
    assert.match(await ok(source, ['secrets', 'import', file, '--kms-key', key.KeyId!]), /imported 1 secrets/);
    assert.equal((await fromSource.send(new GetSecretValueCommand({ SecretId: `${prefix}/plain` }))).SecretString, 'p');
  });

  it('moves 1,000 secrets (timing printed for bench/RESULTS.md)', async () => {
    const count = Number(process.env.COFFER_TRANSFER_COUNT ?? 1000);
    const scale = uniqueSecretName('scale');
    const queue = Array.from({ length: count }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          await fromSource.send(new CreateSecretCommand({ Name: `${scale}/s${i}`, SecretString: `value-${i}`, Tags: [{ Key: 'n', Value: String(i) }] }));
        }
      }),
    );
    const file = join(scratch, 'scale.cse');
    const exportStart = performance.now();
    assert.match(await ok(source, ['secrets', 'export', file, '--prefix', scale, '--passphrase-file', passphraseFile()]), new RegExp(`exported ${count} secrets`));
    const exportMs = performance.now() - exportStart;
    const importStart = performance.now();
    assert.match(await ok(target, ['secrets', 'import', file, '--passphrase-file', passphraseFile()]), new RegExp(`imported ${count} secrets`));
    const importMs = performance.now() - importStart;
    for (const i of [0, Math.floor(count / 2), count - 1]) {
      assert.equal((await intoTarget.send(new GetSecretValueCommand({ SecretId: `${scale}/s${i}` }))).SecretString, `value-${i}`);
    }
    console.log(`secrets-transfer scale: ${count} secrets, export ${Math.round(exportMs)} ms, import ${Math.round(importMs)} ms, file ${statSync(file).size} bytes`);
  });
});
