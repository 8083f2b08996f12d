import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  ListAliasesCommand,
  ListKeysCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { killChildServers, startChildServer, type ChildServer } from '../../helpers/child-server.js';
import { signedHeaders, type AccessKey } from '../../helpers/signed-fetch.js';

type Outcome = { ok: true; keyId: string } | { ok: false; error: Error & { $metadata?: { httpStatusCode?: number } } };

function createKeys(kms: KMSClient, count: number, description: string): Array<Promise<Outcome>> {
  return Array.from({ length: count }, (_, index) =>
    kms.send(new CreateKeyCommand({ Description: `${description} ${index}` })).then(
      (output): Outcome => ({ ok: true, keyId: output.KeyMetadata!.KeyId! }),
      (error: Error): Outcome => ({ ok: false, error }),
    ),
  );
}

async function allKeyIds(kms: KMSClient): Promise<Set<string>> {
  const ids = new Set<string>();
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListKeysCommand({ Limit: 1000, Marker: marker }));
    for (const key of page.Keys ?? []) ids.add(key.KeyId!);
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return ids;
}

/** A request the server never answered failed without any HTTP status: a reset or refused connection. */
function assertUnanswered(outcomes: Outcome[]): void {
  for (const outcome of outcomes) {
    if (outcome.ok) continue;
    assert.equal(
      outcome.error.$metadata?.httpStatusCode,
      undefined,
      `a request was answered with an error during shutdown: ${outcome.error.name}: ${outcome.error.message}`,
    );
  }
}

/**
 * What was acknowledged survives the process: SQLite runs in WAL mode with synchronous=FULL, so a
 * response is only sent after its write is on disk. Killed with SIGKILL or stopped with SIGTERM mid-burst,
 * a restarted server on the same data dir has every acknowledged key, alias and ciphertext.
 */
describe('durability across kill -9 and SIGTERM (child processes)', () => {
  const tempRoot = mkdtempSync(join(tmpdir(), 'coffer-durability-'));
  after(async () => {
    await killChildServers();
    rmSync(tempRoot, { recursive: true, force: true });
  });

  async function restart(dataDir: string, admin: AccessKey): Promise<{ server: ChildServer; kms: KMSClient }> {
    const server = await startChildServer({ dataDir });
    assert.equal(server.printedAdmin, undefined, 'a restart must not mint new administrator credentials');
    return { server, kms: server.kms({ credentials: admin }) };
  }

  it('a key, its alias and a ciphertext acknowledged just before SIGKILL are all there after restart', async () => {
    const dataDir = join(tempRoot, 'sigkill');
    const first = await startChildServer({ dataDir });
    const admin = first.printedAdmin!;
    const kms = first.kms();
    const created = await kms.send(new CreateKeyCommand({ Description: 'survives kill -9' }));
    const keyId = created.KeyMetadata!.KeyId!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/durable', TargetKeyId: keyId }));
    const encrypted = await kms.send(new EncryptCommand({ KeyId: 'alias/durable', Plaintext: Buffer.from('acknowledged means durable') }));
    process.kill(first.pid, 'SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');

    const { server, kms: after } = await restart(dataDir, admin);
    try {
      const described = await after.send(new DescribeKeyCommand({ KeyId: 'alias/durable' }));
      assert.equal(described.KeyMetadata!.KeyId, keyId);
      assert.equal(described.KeyMetadata!.Description, 'survives kill -9');
      const aliases = await after.send(new ListAliasesCommand({ KeyId: keyId }));
      assert.deepEqual(aliases.Aliases!.map((alias) => alias.AliasName), ['alias/durable']);
      const decrypted = await after.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }));
      assert.equal(Buffer.from(decrypted.Plaintext!).toString(), 'acknowledged means durable');
      assert.equal(decrypted.KeyId, created.KeyMetadata!.Arn);
    } finally {
      await server.stop();
    }
  });

  it('SIGKILL in the middle of a burst of CreateKey: every acknowledged key is there after restart', async () => {
    const dataDir = join(tempRoot, 'sigkill-burst');
    const first = await startChildServer({ dataDir });
    const admin = first.printedAdmin!;
    const outcomes = createKeys(first.kms(), 30, 'burst');
    // Kill as soon as a third of them are acknowledged; the rest are in flight or not yet sent.
    let acknowledged = 0;
    await new Promise<void>((resolve) => {
      for (const outcome of outcomes) {
        void outcome.then((result) => {
          if (result.ok && ++acknowledged === 10) {
            process.kill(first.pid, 'SIGKILL');
            resolve();
          }
        });
      }
    });
    const settled = await Promise.all(outcomes);
    await first.exited;

    const { server, kms } = await restart(dataDir, admin);
    try {
      const present = await allKeyIds(kms);
      const acked = settled.flatMap((outcome) => (outcome.ok ? [outcome.keyId] : []));
      assert.ok(acked.length >= 10);
      for (const keyId of acked) assert.ok(present.has(keyId), `acknowledged key ${keyId} was lost`);
    } finally {
      await server.stop();
    }
  });

  it('SIGTERM while a request body is still arriving: the request is finished and answered, then the process exits 0 promptly', async () => {
    const dataDir = join(tempRoot, 'sigterm-slow-body');
    const first = await startChildServer({ dataDir });
    const admin = first.printedAdmin!;
    const body = JSON.stringify({ Description: 'finished during shutdown' });
    const headers = await signedHeaders(first.url, { target: 'TrentService.CreateKey', body, credentials: admin });
    const agent = new Agent({ keepAlive: true });
    try {
      const request = httpRequest(first.url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } });
      const response = new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
        request.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, text }));
        });
        request.on('error', reject);
      });
      // Half the body now; the server has the headers and is waiting for the rest when the signal comes.
      const half = Math.floor(body.length / 2);
      await new Promise<void>((resolve) => request.write(body.slice(0, half), () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const signalledAt = Date.now();
      first.process.kill('SIGTERM');
      while (!first.stderr().includes('SIGTERM received')) await new Promise((resolve) => setTimeout(resolve, 5));
      request.end(body.slice(half));

      const answered = await response;
      assert.equal(answered.status, 200, answered.text);
      assert.equal(answered.connection, 'close', 'a response during shutdown should close its keep-alive connection');
      const keyId = (JSON.parse(answered.text) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
      const exit = await first.exited;
      const shutdownMs = Date.now() - signalledAt;
      assert.deepEqual(exit, { code: 0, signal: null }, first.stderr());
      // Not a speed assertion: the forced-close grace is 10 s, and a drained server must not sit it out.
      assert.ok(shutdownMs < 5_000, `shutdown took ${shutdownMs} ms`);

      const { server, kms } = await restart(dataDir, admin);
      try {
        const described = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
        assert.equal(described.KeyMetadata!.Description, 'finished during shutdown');
      } finally {
        await server.stop();
      }
    } finally {
      agent.destroy();
    }
  });

  for (const when of ['right after they are sent', 'as soon as the first is answered'] as const) {
    it(`SIGTERM ${when} while 20 CreateKey are in flight: exit 0, promptly, and every acknowledged key is kept`, async () => {
      const dataDir = join(tempRoot, `sigterm-${when === 'right after they are sent' ? 'sent' : 'answered'}`);
      const first = await startChildServer({ dataDir });
      const admin = first.printedAdmin!;
      const kms = first.kms();
      if (when === 'as soon as the first is answered') {
        // Open keep-alive connections first, so the burst goes out on established sockets.
        await Promise.all(Array.from({ length: 20 }, () => kms.send(new ListKeysCommand({}))));
      } else {
        // One warm connection; the rest of the burst opens new ones, as many clients at once would.
        await kms.send(new ListKeysCommand({}));
      }

      const outcomes = createKeys(kms, 20, 'sigterm');
      if (when === 'as soon as the first is answered') await Promise.race(outcomes);
      else await new Promise((resolve) => setTimeout(resolve, 5));
      const signalledAt = Date.now();
      first.process.kill('SIGTERM');
      const settled = await Promise.all(outcomes);
      const exit = await first.exited;
      const shutdownMs = Date.now() - signalledAt;

      assert.deepEqual(exit, { code: 0, signal: null }, first.stderr());
      // Not a speed assertion: the server's forced-close grace is 10 s, and a drained server must not wait for it.
      assert.ok(shutdownMs < 5_000, `shutdown took ${shutdownMs} ms`);
      assertUnanswered(settled);

      const { server, kms: after } = await restart(dataDir, admin);
      try {
        const present = await allKeyIds(after);
        const acked = settled.flatMap((outcome) => (outcome.ok ? [outcome.keyId] : []));
        for (const keyId of acked) assert.ok(present.has(keyId), `acknowledged key ${keyId} was lost`);
        const described = acked[0] ? await after.send(new DescribeKeyCommand({ KeyId: acked[0] })) : undefined;
        if (described) assert.equal(described.KeyMetadata!.KeyState, 'Enabled');
      } finally {
        await server.stop();
      }
    });
  }
});
