import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type ListSecretsCommandInput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ManualClock } from '../../helpers/clock.js';
import { rejectsWith } from '../../helpers/kms.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Unfiltered ListSecrets pages by cursor: the NextToken names the last secret listed and the next page starts
 * after it (keyset paging). This server holds only this file's secrets, so an unfiltered listing is exactly
 * them. The clock stands still while they are created, so many share one date and the tiebreak between equal
 * sort values is exercised in every order.
 */
let server: TestServer;
let sm: SecretsManagerClient;
const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
const NAMES = ['kiwi', 'apple', 'mango', 'fig', 'banana', 'cherry', 'lime', 'date', 'grape', 'elder', 'nectarine', 'honeydew', 'lemon'];

before(async () => {
  server = await startTestServer({ clock });
  sm = secretsClient(server);
  for (const [index, name] of NAMES.entries()) {
    // Three secrets at each instant: ties on created-date, last-changed-date and (never read) last-accessed-date.
    if (index % 3 === 0) clock.advanceMs(60_000);
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: `value-${name}` }));
  }
  // Some secrets are changed later, some read on later days; the rest are never read (LastAccessedDate unset).
  for (const name of ['fig', 'kiwi', 'lemon']) {
    clock.advanceMs(60_000);
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: `changed-${name}` }));
  }
  for (const [day, names] of [['mango', 'apple'], ['grape'], ['cherry', 'kiwi']].entries()) {
    clock.advanceDays(day + 1);
    for (const name of names) await sm.send(new GetSecretValueCommand({ SecretId: name }));
  }
  // LastAccessedDate is written after the response; wait until the last read shows.
  for (let attempt = 0; attempt < 100 && !(await sm.send(new DescribeSecretCommand({ SecretId: 'kiwi' }))).LastAccessedDate; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});
after(async () => server.cleanup());

async function walk(input: ListSecretsCommandInput, pageSize: number): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await sm.send(new ListSecretsCommand({ ...input, MaxResults: pageSize, NextToken: token }));
    assert.ok(page.SecretList!.length <= pageSize);
    names.push(...page.SecretList!.map((secret) => secret.Name!));
    token = page.NextToken;
    pages += 1;
  } while (token);
  return { names, pages };
}

describe('ListSecrets paging (unfiltered, by cursor)', () => {
  const orders = (['created-date', 'last-changed-date', 'last-accessed-date', 'name'] as const).flatMap((SortBy) =>
    (['asc', 'desc'] as const).map((SortOrder) => ({ SortBy, SortOrder })),
  );

  for (const order of orders) {
    it(`walks ${order.SortBy} ${order.SortOrder} in pages of 4 in the order of one whole page, each secret once`, async () => {
      const whole = await sm.send(new ListSecretsCommand({ ...order, MaxResults: 100 }));
      const expected = whole.SecretList!.map((secret) => secret.Name!);
      assert.equal(whole.NextToken, undefined);
      assert.deepEqual([...expected].sort(), [...NAMES].sort());
      const walked = await walk(order, 4);
      assert.deepEqual(walked.names, expected);
      assert.equal(walked.pages, Math.ceil(NAMES.length / 4));
    });
  }

  it('sorts by each order as AWS does: never-read secrets first by last-accessed ascending, ties in creation order', async () => {
    const byName = await walk({ SortBy: 'name', SortOrder: 'asc' }, 5);
    assert.deepEqual(byName.names, [...NAMES].sort());
    const created = await walk({ SortBy: 'created-date', SortOrder: 'asc' }, 5);
    assert.deepEqual(created.names, NAMES);
    const createdDescending = await walk({ SortBy: 'created-date', SortOrder: 'desc' }, 5);
    assert.deepEqual(createdDescending.names, [...NAMES].reverse());
    const accessed = await walk({ SortBy: 'last-accessed-date', SortOrder: 'asc' }, 5);
    const neverRead = NAMES.filter((name) => !['mango', 'apple', 'grape', 'cherry', 'kiwi'].includes(name));
    assert.deepEqual(accessed.names, [...neverRead, 'apple', 'mango', 'grape', 'kiwi', 'cherry']);
    const changed = await walk({ SortBy: 'last-changed-date', SortOrder: 'asc' }, 5);
    assert.deepEqual(changed.names.slice(-3), ['fig', 'kiwi', 'lemon']);
  });

  it('keeps its place when secrets are created and deleted between pages: none repeats, none is skipped', async () => {
    const first = await sm.send(new ListSecretsCommand({ MaxResults: 4 }));
    assert.deepEqual(first.SecretList!.map((secret) => secret.Name), NAMES.slice(0, 4));
    // An offset would now point one secret too far: the fourth secret of page one goes, a new one comes at the end.
    await sm.send(new DeleteSecretCommand({ SecretId: 'fig', ForceDeleteWithoutRecovery: true }));
    await sm.send(new CreateSecretCommand({ Name: 'zucchini', SecretString: 'late' }));
    try {
      const second = await sm.send(new ListSecretsCommand({ MaxResults: 4, NextToken: first.NextToken }));
      assert.deepEqual(second.SecretList!.map((secret) => secret.Name), NAMES.slice(4, 8));
    } finally {
      await sm.send(new DeleteSecretCommand({ SecretId: 'zucchini', ForceDeleteWithoutRecovery: true }));
      await sm.send(new CreateSecretCommand({ Name: 'fig', SecretString: 'value-fig' }));
    }
  });

  it('still answers an offset token (as issued before cursors, and by filtered listings) without filters', async () => {
    const token = Buffer.from(JSON.stringify({ offset: 2 })).toString('base64url');
    const page = await sm.send(new ListSecretsCommand({ MaxResults: 3, NextToken: token, SortBy: 'name' }));
    assert.deepEqual(page.SecretList!.map((secret) => secret.Name), [...NAMES].sort().slice(2, 5));
  });

  it('refuses a token of another order, a cursor with filters and a doctored cursor with InvalidNextTokenException', async () => {
    const { NextToken } = await sm.send(new ListSecretsCommand({ MaxResults: 2, SortBy: 'name' }));
    assert.ok(NextToken);
    await rejectsWith(sm.send(new ListSecretsCommand({ NextToken, SortBy: 'created-date' })), 'InvalidNextTokenException');
    await rejectsWith(sm.send(new ListSecretsCommand({ NextToken, SortBy: 'name', SortOrder: 'desc' })), 'InvalidNextTokenException');
    await rejectsWith(sm.send(new ListSecretsCommand({ NextToken, SortBy: 'name', Filters: [{ Key: 'name', Values: ['a'] }] })), 'InvalidNextTokenException');
    const doctored = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
    for (const bad of [
      { after: [5, 1], sortBy: 'name', descending: false },
      { after: ['apple'], sortBy: 'name', descending: false },
      { after: ['apple', 1.5], sortBy: 'name', descending: false },
      { after: [1, 1], sortBy: 'colour', descending: false },
      { after: [1, 1], sortBy: 'created-date', descending: 'no' },
    ]) {
      await rejectsWith(sm.send(new ListSecretsCommand({ NextToken: doctored(bad), SortBy: 'name' })), 'InvalidNextTokenException');
    }
  });
});
