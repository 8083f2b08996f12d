import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { shell, shellOk, type ShellResult } from '../../helpers/aws-cli.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const DAY_MS = 24 * 60 * 60 * 1000;

type KeyMetadata = {
  KeyId: string;
  Arn: string;
  Description: string;
  KeyState: string;
  KeyUsage: string;
  Origin: string;
  KeySpec: string;
  Enabled: boolean;
  DeletionDate?: string | number;
};

/** The AWS CLI prints timestamps as received or as ISO 8601, depending on its version and settings. */
function timestampMs(value: string | number | undefined): number {
  assert.ok(value !== undefined, 'timestamp missing');
  return typeof value === 'number' ? value * 1000 : Date.parse(value);
}

/**
 * The KMS commands of the seed document (seeds/001, "KMS CLI Commands"), exactly as a user types them,
 * with `--endpoint-url` pointing at Coffer, run by the real AWS CLI in a scratch directory.
 */
describe('the AWS CLI against Coffer: the seed KMS commands', () => {
  let server: TestServer;
  let workDir: string;
  let keyId: string;
  let run: (command: string) => Promise<string>;
  let runRaw: (command: string) => Promise<ShellResult>;

  before(async () => {
    server = await startTestServer({ devMode: false });
    workDir = mkdtempSync(join(tmpdir(), 'coffer-aws-cli-'));
    const options = { cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } };
    run = (command) => shellOk(command, options);
    runRaw = (command) => shell(command, options);
    writeFileSync(join(workDir, 'plaintext.txt'), 'database password: correct horse battery staple\n');
  });
  after(async () => {
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('create-key --description … --key-usage ENCRYPT_DECRYPT --origin AWS_KMS', async () => {
    const output = await run(`aws kms create-key \\
  --description "Application encryption key" \\
  --key-usage ENCRYPT_DECRYPT \\
  --origin AWS_KMS --endpoint-url "$COFFER_URL"`);
    const { KeyMetadata: key } = JSON.parse(output) as { KeyMetadata: KeyMetadata };
    keyId = key.KeyId;
    assert.match(keyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(key.Arn, `arn:aws:kms:us-east-1:000000000000:key/${keyId}`);
    assert.equal(key.Description, 'Application encryption key');
    assert.equal(key.KeyState, 'Enabled');
    assert.equal(key.Enabled, true);
    assert.equal(key.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(key.Origin, 'AWS_KMS');
    assert.equal(key.KeySpec, 'SYMMETRIC_DEFAULT');
  });

  it('create-alias --alias-name alias/app-encryption --target-key-id <key-id>', async () => {
    const output = await run(`aws kms create-alias \\
  --alias-name alias/app-encryption \\
  --target-key-id ${keyId} --endpoint-url "$COFFER_URL"`);
    assert.equal(output.trim(), '', 'create-alias prints nothing');
    const aliases = JSON.parse(await run(`aws kms list-aliases --key-id ${keyId} --endpoint-url "$COFFER_URL"`)) as {
      Aliases: Array<{ AliasName: string; TargetKeyId: string }>;
    };
    assert.deepEqual(aliases.Aliases.map((alias) => [alias.AliasName, alias.TargetKeyId]), [['alias/app-encryption', keyId]]);
  });

  it('encrypt … --query CiphertextBlob | base64 --decode > encrypted.bin, then decrypt gives the file back', async () => {
    await run(`aws kms encrypt \\
  --key-id alias/app-encryption \\
  --plaintext fileb://plaintext.txt \\
  --output text --query CiphertextBlob --endpoint-url "$COFFER_URL" | base64 --decode > encrypted.bin`);
    const ciphertext = readFileSync(join(workDir, 'encrypted.bin'));
    assert.ok(ciphertext.length > 40, `ciphertext of ${ciphertext.length} bytes`);
    assert.ok(!ciphertext.includes(Buffer.from('correct horse')), 'the ciphertext contains the plaintext');

    await run(`aws kms decrypt \\
  --ciphertext-blob fileb://encrypted.bin \\
  --output text --query Plaintext --endpoint-url "$COFFER_URL" | base64 --decode > decrypted.txt`);
    assert.deepEqual(readFileSync(join(workDir, 'decrypted.txt')), readFileSync(join(workDir, 'plaintext.txt')));
  });

  it('decrypt reports the key ARN it used', async () => {
    const output = JSON.parse(await run(`aws kms decrypt --ciphertext-blob fileb://encrypted.bin --endpoint-url "$COFFER_URL"`)) as {
      KeyId: string;
      EncryptionAlgorithm: string;
    };
    assert.equal(output.KeyId, `arn:aws:kms:us-east-1:000000000000:key/${keyId}`);
    assert.equal(output.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  });

  it('generate-data-key --key-id alias/app-encryption --key-spec AES_256 gives a 32-byte key that decrypts back', async () => {
    const output = JSON.parse(
      await run(`aws kms generate-data-key \\
  --key-id alias/app-encryption \\
  --key-spec AES_256 --endpoint-url "$COFFER_URL"`),
    ) as { Plaintext: string; CiphertextBlob: string; KeyId: string };
    const dataKey = Buffer.from(output.Plaintext, 'base64');
    assert.equal(dataKey.length, 32);
    assert.equal(output.KeyId, `arn:aws:kms:us-east-1:000000000000:key/${keyId}`);
    writeFileSync(join(workDir, 'data-key.bin'), Buffer.from(output.CiphertextBlob, 'base64'));
    const unwrapped = await run(`aws kms decrypt --ciphertext-blob fileb://data-key.bin --output text --query Plaintext --endpoint-url "$COFFER_URL"`);
    assert.deepEqual(Buffer.from(unwrapped.trim(), 'base64'), dataKey);
  });

  it('enable-key-rotation --key-id <key-id>', async () => {
    const output = await run(`aws kms enable-key-rotation --key-id ${keyId} --endpoint-url "$COFFER_URL"`);
    assert.equal(output.trim(), '');
    const status = JSON.parse(await run(`aws kms get-key-rotation-status --key-id ${keyId} --endpoint-url "$COFFER_URL"`)) as {
      KeyRotationEnabled: boolean;
    };
    assert.equal(status.KeyRotationEnabled, true);
  });

  it('schedule-key-deletion --key-id <key-id> --pending-window-in-days 7', async () => {
    const before = Date.now();
    const output = JSON.parse(
      await run(`aws kms schedule-key-deletion \\
  --key-id ${keyId} \\
  --pending-window-in-days 7 --endpoint-url "$COFFER_URL"`),
    ) as { KeyId: string; KeyState: string; PendingWindowInDays: number; DeletionDate: string | number };
    assert.equal(output.KeyId, `arn:aws:kms:us-east-1:000000000000:key/${keyId}`);
    assert.equal(output.KeyState, 'PendingDeletion');
    assert.equal(output.PendingWindowInDays, 7);
    const deletionMs = timestampMs(output.DeletionDate);
    assert.ok(deletionMs >= before + 7 * DAY_MS - 2 * DAY_MS && deletionMs <= Date.now() + 8 * DAY_MS, String(output.DeletionDate));
  });

  it('list-keys', async () => {
    const output = JSON.parse(await run(`aws kms list-keys --endpoint-url "$COFFER_URL"`)) as { Keys: Array<{ KeyId: string; KeyArn: string }> };
    const listed = output.Keys.find((key) => key.KeyId === keyId);
    assert.deepEqual(listed, { KeyId: keyId, KeyArn: `arn:aws:kms:us-east-1:000000000000:key/${keyId}` });
  });

  it('describe-key --key-id alias/app-encryption shows the pending deletion', async () => {
    const { KeyMetadata: key } = JSON.parse(await run(`aws kms describe-key --key-id alias/app-encryption --endpoint-url "$COFFER_URL"`)) as {
      KeyMetadata: KeyMetadata;
    };
    assert.equal(key.KeyId, keyId);
    assert.equal(key.Description, 'Application encryption key');
    assert.equal(key.KeyState, 'PendingDeletion');
    assert.equal(key.Enabled, false);
    assert.ok(key.DeletionDate !== undefined);
  });

  it('encrypt with a key pending deletion fails with KMSInvalidStateException', async () => {
    const result = await runRaw(`aws kms encrypt --key-id alias/app-encryption --plaintext fileb://plaintext.txt --endpoint-url "$COFFER_URL"`);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /KMSInvalidStateException/);
  });

  it('describe-key --key-id alias/nope exits non-zero with NotFoundException', async () => {
    const result = await runRaw(`aws kms describe-key --key-id alias/nope --endpoint-url "$COFFER_URL"`);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /NotFoundException/);
    assert.match(result.stderr, /DescribeKey/);
  });

  it('a CLI without credentials for this server is refused with UnrecognizedClientException', async () => {
    const result = await shell(`aws kms list-keys --endpoint-url "$COFFER_URL"`, {
      cwd: workDir,
      credentials: { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'nope' },
      region: 'us-east-1',
      env: { COFFER_URL: server.url },
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /UnrecognizedClientException/);
  });
});
