import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { killChildServers, startChildServer, type ChildServer } from '../../helpers/child-server.js';
import { refusal } from '../../helpers/principals.js';
import { uniquePath } from '../../helpers/ssm.js';

/**
 * AllowedPattern cannot hold a server: `coffer server --workers 2` (the pattern evaluator's V8 flag must hold in
 * every cluster worker) gets pathological patterns against 8 KB values, each answered well under a second, while
 * GetParameter calls beside them keep being answered.
 */
describe('AllowedPattern against hostile patterns (coffer server --workers 2)', () => {
  let dataDir: string;
  let server: ChildServer;
  const root = uniquePath('patterns');
  const EIGHT_KB = `${'a'.repeat(8191)}!`;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'coffer-patterns-'));
    server = await startChildServer({ dataDir, args: ['--workers', '2'] });
    await client().send(new PutParameterCommand({ Name: `${root}/plain`, Value: 'still-here', Type: 'String' }));
  });
  after(async () => {
    await killChildServers();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.audit-anchors`, { force: true });
  });

  /** A client of its own (its own connections, so the primary hands them to both workers in turn). */
  const client = () => new SSMClient({ endpoint: server.url, region: 'us-east-1', credentials: server.printedAdmin!, maxAttempts: 1 });

  /** Runs `hostile` 6 times (3 per worker), timing each, with GetParameter calls in a loop beside them. */
  async function besideReads(hostile: (index: number) => Promise<{ name?: string; message?: string }>) {
    let running = true;
    const readTimes: number[] = [];
    const reads = (async () => {
      while (running) {
        const started = performance.now();
        const { Parameter } = await client().send(new GetParameterCommand({ Name: `${root}/plain` }));
        assert.equal(Parameter?.Value, 'still-here');
        readTimes.push(performance.now() - started);
      }
    })();
    const answers: Array<{ name?: string; message?: string; ms: number }> = [];
    try {
      for (let index = 0; index < 6; index += 1) {
        const started = performance.now();
        const answer = await hostile(index);
        answers.push({ ...answer, ms: performance.now() - started });
      }
    } finally {
      running = false;
      await reads;
    }
    return { answers, readTimes };
  }

  it('answers nested quantifiers against an 8 KB value in linear time, in every worker', { timeout: 60_000 }, async () => {
    const { answers, readTimes } = await besideReads((index) =>
      refusal(client().send(new PutParameterCommand({ Name: `${root}/nested-${index}`, Value: EIGHT_KB, Type: 'String', Tier: 'Advanced', AllowedPattern: '^(a+)+$' }))),
    );
    for (const answer of answers) {
      assert.equal(answer.name, 'ParameterPatternMismatchException', answer.message);
      assert.equal(answer.message, 'Parameter value, cannot be validated against allowedPattern: ^(a+)+$');
      assert.ok(answer.ms < 1000, `answered in ${answer.ms} ms`);
    }
    assert.ok(readTimes.length > 0 && Math.max(...readTimes) < 1000, `reads took up to ${Math.max(...readTimes)} ms`);
  });

  it('bounds what the linear engine cannot take: a ValidationException naming the feature, never the value', { timeout: 60_000 }, async () => {
    const value = `${'a'.repeat(8000)}!tail-of-the-value`;
    const { answers, readTimes } = await besideReads((index) =>
      refusal(client().send(new PutParameterCommand({ Name: `${root}/bounded-${index}`, Value: value, Type: 'String', Tier: 'Advanced', AllowedPattern: '^(a{1,20})+$' }))),
    );
    for (const answer of answers) {
      assert.equal(answer.name, 'ValidationException', answer.message);
      assert.match(answer.message!, /^AllowedPattern \^\(a\{1,20\}\)\+\$ could not be evaluated within \d+ ms\..*a bounded repeat/);
      assert.doesNotMatch(answer.message!, /tail-of-the-value|aaaa/);
      assert.ok(answer.ms < 1000, `answered in ${answer.ms} ms`);
    }
    assert.ok(readTimes.length > 0 && Math.max(...readTimes) < 1000, `reads took up to ${Math.max(...readTimes)} ms`);
    // The evaluator's thread was replaced: a pattern of the same kind that matches is accepted.
    const written = await client().send(
      new PutParameterCommand({ Name: `${root}/after`, Value: 'db-primary-01', Type: 'String', AllowedPattern: '^[a-z0-9-]{1,64}$' }),
    );
    assert.equal(written.Version, 1);
  });
});
