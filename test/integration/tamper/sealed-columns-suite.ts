import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { createLogger } from '../../../src/core/index.js';
import { createKey } from '../../helpers/kms.js';
import { buildZip, createTestFunctionRole, lambdaClient, ROLE } from '../../helpers/lambda.js';
import { createAccount, createUser, stsClient, type Keys } from '../../helpers/principals.js';
import { secretsClient } from '../../helpers/secrets.js';
import type { TestServer } from '../../helpers/start-server.js';
import { assertAllRefused, bitFlips, reportTallies, truncations, type Tally, type Variant } from '../../helpers/tamper.js';

/**
 * Sealed columns tampered in the database of a stopped server (SQLite file, and a PostgreSQL database): secret
 * values and their data keys, KMS key material, access keys' secrets, functions' variables. The server is started
 * again and each tampered row is used through the API; every use is refused with an AWS-shaped error, never the
 * plaintext, and no plaintext reaches an error message or a log line. A sealed value copied to another owner
 * (another secret, key, access key, function, account or Region) is refused the same way: the AAD binds it.
 * The reduced run tries a sample of the bits; COFFER_TAMPER_FULL=1 every bit. Run per backend by
 * sealed-columns-sqlite.test.ts and sealed-columns-postgres.test.ts.
 */
const FULL = process.env.COFFER_TAMPER_FULL === '1';
/** Every `stride`-th variant (every `fullStride`-th in the full run). */
const sample = (variants: Iterable<Variant>, stride: number, fullStride = 1): Variant[] => [...variants].filter((_, index) => index % (FULL ? fullStride : stride) === 0);

type Sql = { blob(sql: string, params: unknown[]): Promise<Buffer>; text(sql: string, params: unknown[]): Promise<string>; run(sql: string, params: unknown[]): Promise<void>; close(): Promise<void> };

export function sqliteSql(dataDir: string): Sql {
  const db = new Database(join(dataDir, 'coffer.db'));
  return {
    async blob(sql, params) {
      return db.prepare(sql).pluck().get(...params) as Buffer;
    },
    async text(sql, params) {
      return db.prepare(sql).pluck().get(...params) as string;
    },
    async run(sql, params) {
      db.prepare(sql).run(...params);
    },
    async close() {
      db.close();
    },
  };
}

export async function postgresSql(url: string): Promise<Sql> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let n = 0;
  const numbered = (sql: string) => sql.replace(/\?/g, () => `$${(n = n + 1)}`);
  const query = async (sql: string, params: unknown[]) => {
    n = 0;
    return (await client.query(numbered(sql), params)).rows;
  };
  return {
    async blob(sql, params) {
      return Object.values((await query(sql, params))[0]!)[0] as Buffer;
    },
    async text(sql, params) {
      return Object.values((await query(sql, params))[0]!)[0] as string;
    },
    async run(sql, params) {
      await query(sql, params);
    },
    async close() {
      await client.end();
    },
  };
}

export type Backend = { name: string; start(logger: ReturnType<typeof createLogger>): Promise<TestServer>; sql(server: TestServer): Promise<Sql>; drop(): Promise<void> };

const ECHO = 'import os\ndef lambda_handler(event, context):\n    return {"marker": os.environ.get("MARKER")}\n';

export function tamperSuite(backend: () => Promise<Backend>) {
  let setup: Backend;
  let server: TestServer;
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => logLines.push(line) });
  const tallies: Record<string, Tally> = {};
  /** Every plaintext the test stored: none may come back from a tampered row, nor show in an error or log line. */
  const plaintexts: string[] = [];
  const errorMessages: string[] = [];

  type SecretCase = { name: string; arn: string; value: string; variant: Variant; apply: (sql: Sql) => Promise<void> };
  const secretCases: SecretCase[] = [];
  type KeyCase = { keyId: string; blob: Uint8Array; variant: Variant; apply: (sql: Sql) => Promise<void> };
  const keyCases: KeyCase[] = [];
  type AccessKeyCase = { keys: Keys; variant: Variant; apply: (sql: Sql) => Promise<void> };
  const accessKeyCases: AccessKeyCase[] = [];
  type FunctionCase = { name: string; variant: Variant; apply: (sql: Sql) => Promise<void> };
  const functionCases: FunctionCase[] = [];

  before(async () => {
    setup = await backend();
    server = await setup.start(logger);
    const secrets = secretsClient(server);
    const kms = server.kms();
    const newSecret = async (client = secrets) => {
      const name = `tamper/${setup.name}/${secretCases.length}-${Math.random().toString(36).slice(2, 8)}`;
      // Every value the same length (10 hex digits): the truncations are cut to lengths measured on the first one.
      const value = `secret-${randomBytes(5).toString('hex')}`;
      plaintexts.push(value);
      const { ARN } = await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
      return { name, arn: ARN!, value };
    };
    const sealedValueOf = (sql: Sql, arn: string) => sql.blob('SELECT sealed_value FROM secret_versions WHERE secret_arn = ?', [arn]);
    const dataKeysOf = (sql: Sql, arn: string) => sql.text('SELECT data_keys FROM secret_versions WHERE secret_arn = ?', [arn]);

    // Secret values: bit flips and truncations of the sealed value, bit flips of the wrapped data key.
    const probe = await newSecret();
    const sealedLength = 28 + Buffer.byteLength(probe.value);
    const valueVariants = [...sample(bitFlips(Buffer.alloc(sealedLength)), 31), ...sample(truncations(Buffer.alloc(sealedLength)), 11)];
    for (const template of valueVariants) {
      const secret = await newSecret();
      secretCases.push({
        ...secret,
        variant: template,
        apply: async (sql) => {
          const altered = alter(await sealedValueOf(sql, secret.arn), template);
          await sql.run('UPDATE secret_versions SET sealed_value = ? WHERE secret_arn = ?', [altered, secret.arn]);
        },
      });
    }
    const dataKeyLength = 61 + 32;
    for (const template of sample(bitFlips(Buffer.alloc(dataKeyLength)), 53)) {
      const secret = await newSecret();
      secretCases.push({
        ...secret,
        variant: { ...template, label: `data key: ${template.label}` },
        apply: async (sql) => {
          const dataKeys = JSON.parse(await dataKeysOf(sql, secret.arn)) as { encryptedDataKey: string }[];
          dataKeys[0]!.encryptedDataKey = flipLike(Buffer.from(dataKeys[0]!.encryptedDataKey, 'base64'), template).toString('base64');
          await sql.run('UPDATE secret_versions SET data_keys = ? WHERE secret_arn = ?', [JSON.stringify(dataKeys), secret.arn]);
        },
      });
    }
    // Copies to another owner: another secret of the account, a secret of another account, of another Region.
    const other = await createAccount(server);
    const owners = [
      { label: 'another secret', source: await newSecret() },
      { label: 'a secret of another account', source: await newSecret(secretsClient(server, { credentials: other.root })) },
      { label: 'a secret of another Region', source: await newSecret(secretsClient(server, { region: 'eu-west-1' })) },
    ];
    for (const { label, source } of owners) {
      const target = await newSecret();
      secretCases.push({
        ...target,
        variant: { label: `version copied from ${label}`, bytes: Buffer.alloc(0) },
        apply: async (sql) => {
          await sql.run('UPDATE secret_versions SET sealed_value = ?, data_keys = ? WHERE secret_arn = ?', [
            await sealedValueOf(sql, source.arn),
            await dataKeysOf(sql, source.arn),
            target.arn,
          ]);
        },
      });
    }

    // KMS key material: a ciphertext made before the stop, decrypted after the key's sealed material was altered.
    const newKeyWithBlob = async () => {
      const keyId = (await createKey(kms)).KeyId!;
      const message = `message-${Math.random().toString(36).slice(2, 12)}`;
      plaintexts.push(message);
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(message) }));
      return { keyId, blob: CiphertextBlob! };
    };
    const materialOf = (sql: Sql, keyId: string) => sql.blob('SELECT sealed_material FROM kms_backing_keys WHERE key_id = ?', [keyId]);
    for (const template of [...sample(bitFlips(Buffer.alloc(60)), 41), ...sample(truncations(Buffer.alloc(60)), 23)]) {
      const { keyId, blob } = await newKeyWithBlob();
      keyCases.push({
        keyId,
        blob,
        variant: template,
        apply: async (sql) => {
          const sealed = await materialOf(sql, keyId);
          await sql.run('UPDATE kms_backing_keys SET sealed_material = ? WHERE key_id = ?', [alter(sealed, template), keyId]);
        },
      });
    }
    for (const label of ['another key', 'a key of another account']) {
      const source = label === 'another key' ? await newKeyWithBlob() : { keyId: (await createKey(server.kms({ credentials: other.root }))).KeyId! };
      const target = await newKeyWithBlob();
      keyCases.push({
        ...target,
        variant: { label: `key material copied from ${label}`, bytes: Buffer.alloc(0) },
        apply: async (sql) => sql.run('UPDATE kms_backing_keys SET sealed_material = ? WHERE key_id = ?', [await materialOf(sql, source.keyId), target.keyId]),
      });
    }

    // Access keys: a call signed with a key whose sealed secret was altered, or copied from another key.
    const secretOf = (sql: Sql, accessKeyId: string) => sql.blob('SELECT sealed_secret FROM access_keys WHERE access_key_id = ?', [accessKeyId]);
    const accessKeyVariants = [...sample(bitFlips(Buffer.alloc(68)), 67, 3), ...sample(truncations(Buffer.alloc(68)), 23, 3)];
    for (const [index, template] of accessKeyVariants.entries()) {
      const { keys } = await createUser(server, server.admin, `tamper-${setup.name}-${index}`);
      plaintexts.push(keys.secretAccessKey);
      accessKeyCases.push({
        keys,
        variant: template,
        apply: async (sql) => sql.run('UPDATE access_keys SET sealed_secret = ? WHERE access_key_id = ?', [alter(await secretOf(sql, keys.accessKeyId), template), keys.accessKeyId]),
      });
    }
    const { keys: sourceKey } = await createUser(server, server.admin, `tamper-${setup.name}-source`);
    const { keys: targetKey } = await createUser(server, server.admin, `tamper-${setup.name}-target`);
    accessKeyCases.push({
      keys: sourceKey,
      variant: { label: 'sealed secret copied from another access key (signed with the other key\'s secret)', bytes: Buffer.alloc(0) },
      apply: async (sql) => sql.run('UPDATE access_keys SET sealed_secret = ? WHERE access_key_id = ?', [await secretOf(sql, targetKey.accessKeyId), sourceKey.accessKeyId]),
    });
    // Signed with the target's secret under the source's id: the copied row must not make that secret valid for it.
    accessKeyCases.push({
      keys: { accessKeyId: sourceKey.accessKeyId, secretAccessKey: targetKey.secretAccessKey },
      variant: { label: 'sealed secret copied from another access key (signed with that key\'s secret)', bytes: Buffer.alloc(0) },
      apply: async () => {},
    });

    // Functions: variables sealed under KMS; the sealed variables and the data key altered, and a copy.
    await createTestFunctionRole(server);
    const lambda = lambdaClient(server);
    const newFunction = async (suffix: string) => {
      const name = `tamper-${setup.name}-${suffix}`;
      const marker = `variable-${Math.random().toString(36).slice(2, 12)}`;
      plaintexts.push(marker);
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'python3.12',
          Role: ROLE,
          Handler: 'lambda_function.lambda_handler',
          Code: { ZipFile: buildZip({ 'lambda_function.py': ECHO }) },
          Environment: { Variables: { MARKER: marker } },
        }),
      );
      return name;
    };
    const column = (sql: Sql, name: string, which: string) => sql.blob(`SELECT ${which} FROM functions WHERE name = ?`, [name]);
    const functionVariants: { label: string; column: string; template?: Variant }[] = [
      ...sample(bitFlips(Buffer.alloc(40)), 97, 3).map((template) => ({ label: `variables: ${template.label}`, column: 'environment_sealed', template })),
      ...sample(bitFlips(Buffer.alloc(93)), 151, 5).map((template) => ({ label: `data key: ${template.label}`, column: 'environment_data_key', template })),
      { label: 'variables truncated to 20 bytes', column: 'environment_sealed', template: { label: 'truncated to 20 bytes', bytes: Buffer.alloc(20) } },
    ];
    for (const [index, { label, column: which, template }] of functionVariants.entries()) {
      const name = await newFunction(String(index));
      functionCases.push({ name, variant: { label, bytes: Buffer.alloc(0) }, apply: async (sql) => sql.run(`UPDATE functions SET ${which} = ? WHERE name = ?`, [alter(await column(sql, name, which), template!), name]) });
    }
    const sourceFunction = await newFunction('source');
    const targetFunction = await newFunction('target');
    functionCases.push({
      name: targetFunction,
      variant: { label: 'variables copied from another function', bytes: Buffer.alloc(0) },
      apply: async (sql) =>
        sql.run('UPDATE functions SET environment_sealed = ?, environment_data_key = ? WHERE name = ?', [
          await column(sql, sourceFunction, 'environment_sealed'),
          await column(sql, sourceFunction, 'environment_data_key'),
          targetFunction,
        ]),
    });

    // Stop, tamper every row, start again on the same database.
    await server.stop();
    const sql = await setup.sql(server);
    try {
      for (const each of [...secretCases, ...keyCases, ...accessKeyCases, ...functionCases]) await each.apply(sql);
    } finally {
      await sql.close();
    }
    server = await setup.start(logger);
  });

  after(async () => {
    reportTallies(`sealed columns (${setup.name})`, tallies);
    await server?.cleanup();
    await setup?.drop();
  });

  const noted = (attempt: () => Promise<unknown>) => async () => {
    try {
      return await attempt();
    } catch (error) {
      errorMessages.push(String((error as Error).message));
      throw error;
    }
  };

  // A copy from another account names that account's KMS key, which refuses this one: AccessDeniedException.
  it('secret versions: GetSecretValue of every tampered or copied row is DecryptionFailure (or AccessDenied), never a value', async () => {
    const secrets = secretsClient(server);
    const variants = secretCases.map((each, index) => ({ label: `${each.variant.label} (${each.name})`, bytes: Buffer.from(String(index)) }));
    tallies['secret versions'] = await assertAllRefused(
      variants,
      (index) => noted(() => secrets.send(new GetSecretValueCommand({ SecretId: secretCases[Number(index.toString())]!.arn })))(),
      new Set(['DecryptionFailure', 'AccessDeniedException']),
    );
    assert.ok(secretCases.length >= 10);
  });

  it('KMS key material: Decrypt (and Encrypt) under every tampered or copied backing key fail with KMSInternalException', async () => {
    const kms = server.kms();
    const variants = keyCases.map((each, index) => ({ label: `${each.variant.label} (${each.keyId})`, bytes: Buffer.from(String(index)) }));
    tallies['KMS key material, Decrypt'] = await assertAllRefused(
      variants,
      (index) => noted(() => kms.send(new DecryptCommand({ CiphertextBlob: keyCases[Number(index.toString())]!.blob })))(),
      new Set(['KMSInternalException']),
      { serverFaults: true },
    );
    const first = keyCases[0]!;
    await assert.rejects(kms.send(new EncryptCommand({ KeyId: first.keyId, Plaintext: Buffer.from('x') })), { name: 'KMSInternalException' });
  });

  it('access keys: a call signed with every tampered or copied key is refused as an unknown or invalid signature', async () => {
    const variants = accessKeyCases.map((each, index) => ({ label: `${each.variant.label} (${each.keys.accessKeyId})`, bytes: Buffer.from(String(index)) }));
    tallies['access keys'] = await assertAllRefused(
      variants,
      (index) => noted(() => stsClient(server, accessKeyCases[Number(index.toString())]!.keys).send(new GetCallerIdentityCommand({})))(),
      new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch']),
    );
  });

  it('functions: Invoke of every function whose sealed variables were tampered or copied is refused with Lambda\'s KMS error', async () => {
    const lambda = lambdaClient(server);
    const variants = functionCases.map((each, index) => ({ label: `${each.variant.label} (${each.name})`, bytes: Buffer.from(String(index)) }));
    tallies['function variables, Invoke'] = await assertAllRefused(
      variants,
      (index) => noted(() => lambda.send(new InvokeCommand({ FunctionName: functionCases[Number(index.toString())]!.name, Payload: '{}' })))(),
      new Set(['KMSAccessDeniedException', 'KMSNotFoundException']),
      { serverFaults: true },
    );
    // GetFunctionConfiguration reports the failure in Environment.Error, without the variables.
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionCases[0]!.name }));
    assert.equal(config.Environment?.Variables, undefined);
    assert.equal(config.Environment?.Error?.ErrorCode, 'KMSAccessDeniedException');
  });

  it('no stored plaintext appears in any error message or log line', () => {
    assert.ok(errorMessages.length > 0);
    const texts = [...errorMessages, ...logLines];
    for (const plaintext of plaintexts) {
      assert.ok(!texts.some((text) => text.includes(plaintext)), `a stored plaintext reached an error or the log`);
    }
  });
}

/** Flips in `sealed` the bit `template` (a bit flip of a buffer of zeros) flips, when the row is long enough. */
function flipLike(sealed: Buffer, template: Variant): Buffer {
  const altered = Buffer.from(sealed);
  for (let index = 0; index < Math.min(altered.length, template.bytes.length); index += 1) altered[index] = altered[index]! ^ template.bytes[index]!;
  return altered;
}

/** Applies a variant made from a buffer of zeros (a bit flip or a truncation) to the real row. */
function alter(sealed: Buffer, template: Variant): Buffer {
  if (template.label === 'one byte appended') return Buffer.concat([sealed, Buffer.from([0])]);
  if (template.label.startsWith('truncated')) {
    assert.ok(template.bytes.length < sealed.length, `${template.label} of ${sealed.length} bytes would change nothing`);
    return Buffer.from(sealed.subarray(0, template.bytes.length));
  }
  return flipLike(sealed, template);
}

