import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, DescribeKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { shell } from '../../helpers/aws-cli.js';
import { killChildServers, runCofferUntilExit, startChildServer, type ChildServer } from '../../helpers/child-server.js';

const mode = (path: string) => statSync(path).mode & 0o777;
const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Every file in a directory and the SHA-256 of its bytes. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    files[name] = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex');
  }
  return files;
}

/**
 * `coffer server` as a user runs it: what the first start creates and prints, what later starts don't,
 * and how it refuses to start with a missing, wrong or malformed root key without touching the data.
 */
describe('coffer server start-up (child processes)', () => {
  const tempRoot = mkdtempSync(join(tmpdir(), 'coffer-startup-'));
  const dataDir = join(tempRoot, 'data');
  let first: ChildServer;
  let keyId: string;

  before(async () => {
    first = await startChildServer({ dataDir });
    const created = await first.kms().send(new CreateKeyCommand({ Description: 'made on first start' }));
    keyId = created.KeyMetadata!.KeyId!;
  });
  after(async () => {
    await killChildServers();
    rmSync(tempRoot, { recursive: true, force: true });
  });

  describe('first start', () => {
    it('creates root.key and admin-credentials with mode 0600, in a 0700 data dir', () => {
      assert.equal(mode(join(dataDir, 'root.key')), 0o600);
      assert.equal(mode(join(dataDir, 'admin-credentials')), 0o600);
      assert.equal(mode(dataDir), 0o700);
    });

    it('creates the database files with mode 0600', () => {
      const databaseFiles = readdirSync(dataDir).filter((name) => name.startsWith('coffer.db'));
      assert.ok(databaseFiles.includes('coffer.db'), databaseFiles.join());
      for (const name of databaseFiles) assert.equal(mode(join(dataDir, name)), 0o600, name);
    });

    it('prints the loud backup warning once, on stderr', () => {
      assert.equal(count(first.stderr(), 'BACK IT UP'), 1, first.stderr());
      assert.ok(first.stderr().includes(join(dataDir, 'root.key')), first.stderr());
      assert.ok(!first.stdout().includes('BACK IT UP'));
    });

    it('writes the administrator key to admin-credentials and prints only where it is, never the secret key', () => {
      assert.ok(first.printedAdmin, first.stdout());
      const file = readFileSync(join(dataDir, 'admin-credentials'), 'utf8');
      assert.ok(file.includes(`export AWS_ACCESS_KEY_ID=${first.printedAdmin.accessKeyId}\n`), file);
      assert.ok(file.includes(`export AWS_SECRET_ACCESS_KEY=${first.printedAdmin.secretAccessKey}\n`), file);
      assert.ok(file.includes(`export AWS_ENDPOINT_URL=${first.url}\n`), file);
      assert.ok(first.stdout().includes(`source ${join(dataDir, 'admin-credentials')}`), first.stdout());
      for (const output of [first.stdout(), first.stderr()]) {
        assert.ok(!output.includes(first.printedAdmin.secretAccessKey), 'the secret key was printed');
        assert.equal(count(output, 'export AWS_SECRET_ACCESS_KEY='), 0);
      }
    });

    it('--print-credentials prints them as export lines on stdout, matching the file', async () => {
      const printingDir = join(tempRoot, 'print-credentials');
      const server = await startChildServer({ dataDir: printingDir, args: ['--print-credentials'] });
      try {
        assert.equal(count(server.stdout(), 'export AWS_ACCESS_KEY_ID='), 1, server.stdout());
        const file = readFileSync(join(printingDir, 'admin-credentials'), 'utf8');
        assert.ok(file.includes(`export AWS_SECRET_ACCESS_KEY=${server.printedAdmin!.secretAccessKey}\n`), file);
        assert.ok(server.stdout().includes(`export AWS_SECRET_ACCESS_KEY=${server.printedAdmin!.secretAccessKey}\n`));
      } finally {
        await server.stop();
      }
    });

    it('never prints the root key itself', () => {
      const rootKey = readFileSync(join(dataDir, 'root.key'), 'utf8').trim();
      assert.ok(!first.stdout().includes(rootKey));
      assert.ok(!first.stderr().includes(rootKey));
    });

    it('the admin-credentials file, sourced, works with the AWS CLI', async () => {
      const file = join(dataDir, 'admin-credentials');
      const result = await shell(`source '${file}' && aws kms list-keys`, { cwd: tempRoot });
      assert.equal(result.code, 0, result.stderr);
      const listed = JSON.parse(result.stdout) as { Keys: Array<{ KeyId: string }> };
      assert.ok(listed.Keys.some((key) => key.KeyId === keyId), result.stdout);
    });

    it('stops on SIGTERM with exit code 0', async () => {
      const exit = await first.stop('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, first.stderr());
    });
  });

  describe('second start on the same data dir', () => {
    let second: ChildServer;
    let credentialsBefore: string;
    before(async () => {
      credentialsBefore = readFileSync(join(dataDir, 'admin-credentials'), 'utf8');
      second = await startChildServer({ dataDir });
    });
    after(async () => {
      await second.stop();
    });

    it('prints no backup warning and no new credentials', () => {
      assert.ok(!second.stderr().includes('BACK IT UP'), second.stderr());
      assert.ok(!second.stdout().includes('export AWS_ACCESS_KEY_ID='), second.stdout());
      assert.equal(second.printedAdmin, undefined);
      assert.ok(second.stdout().includes(`source ${join(dataDir, 'admin-credentials')}`), second.stdout());
    });

    it('leaves admin-credentials as it was', () => {
      assert.equal(readFileSync(join(dataDir, 'admin-credentials'), 'utf8'), credentialsBefore);
    });

    it('serves the data of the first start to the first administrator key', async () => {
      const kms = second.kms({ credentials: first.printedAdmin! });
      const described = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
      assert.equal(described.KeyMetadata!.Description, 'made on first start');
    });
  });

  describe('a data dir whose root key is missing, wrong or malformed', () => {
    let before_: Record<string, string>;
    before(() => {
      before_ = snapshot(dataDir);
      assert.ok(before_['coffer.db'] && before_['root.key'], Object.keys(before_).join());
    });

    it('root.key deleted → exits non-zero with a clear message, and nothing changes', async () => {
      const aside = join(tempRoot, 'root.key.aside');
      renameSync(join(dataDir, 'root.key'), aside);
      try {
        const expected = snapshot(dataDir);
        const result = await runCofferUntilExit({ dataDir });
        assert.notEqual(result.code, 0, result.stdout);
        assert.match(result.stderr, /^coffer: cannot start: /m);
        assert.ok(result.stderr.includes(join(dataDir, 'root.key')), result.stderr);
        assert.match(result.stderr, /does not exist/);
        assert.ok(!result.stderr.includes('    at '), `a stack trace instead of a message:\n${result.stderr}`);
        assert.deepEqual(snapshot(dataDir), expected, 'the data dir changed');
        assert.ok(!existsSync(join(dataDir, 'root.key')), 'a new root key was invented for existing data');
      } finally {
        renameSync(aside, join(dataDir, 'root.key'));
      }
    });

    it('a different valid COFFER_ROOT_KEY → exits non-zero with a clear message, and nothing changes', async () => {
      const result = await runCofferUntilExit({ dataDir, env: { COFFER_ROOT_KEY: randomBytes(32).toString('base64') } });
      assert.notEqual(result.code, 0, result.stdout);
      assert.match(result.stderr, /^coffer: cannot start: the root key does not match the data in /m);
      assert.deepEqual(snapshot(dataDir), before_, 'the data dir changed');
    });

    it('a root.key file holding a different key → same refusal, nothing changes', async () => {
      const keyFile = join(tempRoot, 'other.key');
      writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
      const result = await runCofferUntilExit({ dataDir, args: ['--root-key-file', keyFile] });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /does not match/);
      assert.deepEqual(snapshot(dataDir), before_);
    });

    for (const [name, value] of [
      ['not base64', 'this is not a key!'],
      ['16 bytes instead of 32', randomBytes(16).toString('base64')],
      ['empty', ''],
    ] as const) {
      it(`a malformed COFFER_ROOT_KEY (${name}) → a clear message, nothing changes`, async () => {
        const result = await runCofferUntilExit({ dataDir, env: { COFFER_ROOT_KEY: value } });
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /^coffer: cannot start: COFFER_ROOT_KEY must hold exactly 32 bytes, base64-encoded/m);
        assert.deepEqual(snapshot(dataDir), before_);
      });
    }

    it('after all that, the right key still opens the data', async () => {
      const again = await startChildServer({ dataDir });
      try {
        const listed = await again.kms({ credentials: first.printedAdmin! }).send(new ListKeysCommand({}));
        assert.ok(listed.Keys!.some((key) => key.KeyId === keyId));
      } finally {
        assert.equal((await again.stop()).code, 0);
      }
    });
  });

  describe('root key sources', () => {
    it('--root-key-file elsewhere is created there (0600) and the data dir gets no root.key', async () => {
      const elsewhereDir = join(tempRoot, 'elsewhere-data');
      const keyFile = join(tempRoot, 'keys', 'coffer-root.key');
      mkdirSync(join(tempRoot, 'keys'));
      const server = await startChildServer({ dataDir: elsewhereDir, args: ['--root-key-file', keyFile] });
      try {
        assert.ok(existsSync(keyFile));
        assert.equal(mode(keyFile), 0o600);
        assert.ok(!existsSync(join(elsewhereDir, 'root.key')));
        assert.ok(server.stderr().includes(keyFile), server.stderr());
        await server.kms().send(new CreateKeyCommand({}));
      } finally {
        await server.stop();
      }
      // The same file opens it again; without it the data dir has no key.
      const again = await startChildServer({ dataDir: elsewhereDir, args: ['--root-key-file', keyFile] });
      assert.ok(!again.stderr().includes('BACK IT UP'));
      await again.stop();
      const without = await runCofferUntilExit({ dataDir: elsewhereDir });
      assert.notEqual(without.code, 0);
      assert.ok(!existsSync(join(elsewhereDir, 'root.key')));
    });

    it('COFFER_ROOT_KEY on a fresh data dir writes no key file, and the same value opens it again', async () => {
      const envDir = join(tempRoot, 'env-data');
      const rootKey = randomBytes(32).toString('base64');
      const server = await startChildServer({ dataDir: envDir, env: { COFFER_ROOT_KEY: rootKey } });
      try {
        assert.ok(!existsSync(join(envDir, 'root.key')));
        assert.ok(!server.stdout().includes(rootKey) && !server.stderr().includes(rootKey));
        await server.kms().send(new CreateKeyCommand({}));
      } finally {
        await server.stop();
      }
      const again = await startChildServer({ dataDir: envDir, env: { COFFER_ROOT_KEY: rootKey } });
      const listed = await again.kms({ credentials: server.printedAdmin! }).send(new ListKeysCommand({}));
      assert.equal(listed.Keys!.length, 1);
      await again.stop();
    });

    it('a malformed COFFER_ROOT_KEY on a fresh data dir creates neither a key file nor a database', async () => {
      const freshDir = join(tempRoot, 'fresh-bad-env');
      const result = await runCofferUntilExit({ dataDir: freshDir, env: { COFFER_ROOT_KEY: 'short' } });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /COFFER_ROOT_KEY must hold exactly 32 bytes/);
      assert.ok(!existsSync(join(freshDir, 'root.key')));
      assert.ok(!existsSync(join(freshDir, 'coffer.db')));
    });
  });

  it('a stale admin-credentials file readable by others is narrowed to 0600 before the new secret goes in', async () => {
    const staleDir = join(tempRoot, 'stale-credentials');
    mkdirSync(staleDir, { mode: 0o700 });
    writeFileSync(join(staleDir, 'admin-credentials'), 'old\n', { mode: 0o644 });
    chmodSync(join(staleDir, 'admin-credentials'), 0o644);
    const server = await startChildServer({ dataDir: staleDir });
    try {
      assert.equal(mode(join(staleDir, 'admin-credentials')), 0o600);
      assert.ok(readFileSync(join(staleDir, 'admin-credentials'), 'utf8').includes(server.printedAdmin!.secretAccessKey));
    } finally {
      await server.stop();
    }
  });

  describe('a port that cannot be bound', () => {
    let blocker: Server;
    let busyPort: number;
    before(async () => {
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      busyPort = (blocker.address() as { port: number }).port;
    });
    after(async () => new Promise<void>((resolve) => blocker.close(() => resolve())));

    it('exits non-zero with a plain message and creates nothing, so the next start still shows the key warning', async () => {
      const busyDir = join(tempRoot, 'busy-port-data');
      const result = await runCofferUntilExit({ dataDir: busyDir, port: String(busyPort) });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, new RegExp(`^coffer: cannot start: 127\\.0\\.0\\.1:${busyPort} is already in use`, 'm'));
      assert.ok(!result.stderr.includes('    at '), result.stderr);
      assert.ok(!existsSync(join(busyDir, 'root.key')), 'a root key was created that nobody was told to back up');
      assert.ok(!existsSync(join(busyDir, 'admin-credentials')));

      const server = await startChildServer({ dataDir: busyDir });
      try {
        assert.ok(server.stderr().includes('BACK IT UP'));
        assert.ok(server.printedAdmin);
      } finally {
        await server.stop();
      }
    });

    for (const port of ['eighty', '', '65536', '-1', '80.5']) {
      it(`--port ${JSON.stringify(port)} → exits 2 with a message, and creates nothing`, async () => {
        const dir = join(tempRoot, 'bad-port');
        const result = await runCofferUntilExit({ dataDir: dir, port });
        assert.equal(result.code, 2, result.stdout);
        assert.ok(result.stderr.includes(`--port must be a number from 0 to 65535, not ${port}`), result.stderr);
        assert.ok(!existsSync(dir));
      });
    }
  });
});
