import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BatchGetSecretValueCommand, CreateSecretCommand, DeleteSecretCommand, ListSecretsCommand, type Filter, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ManualClock } from '../../helpers/clock.js';
import { secretsClient } from '../../helpers/secrets.js';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * A filtered ListSecrets, and a filtered BatchGetSecretValue, read the account in chunks (of 250) in the store's
 * order and keep only their page. Their answer must be what sorting every match and slicing at the token's offset
 * gives: the order asked, ties as ListSecrets without filters breaks them, by creation order (created date, then
 * the order written) for created-date, and in the order the secrets were written for last-accessed-date and
 * last-changed-date (the store's index order; a whole-account sort by creation order was what made those read the
 * whole account). BatchGetSecretValue lists in creation order. More secrets than one chunk of 1,000 even, three
 * created at each instant (ties), and the last five created with the clock set back, so that creation order and
 * the order rows were written in differ. On SQLite and on PostgreSQL (the same answers).
 */
const START = new Date('2026-04-01T08:00:00Z');
const COUNT = 1_010;
const LATE_BUT_EARLIER = 5;

type Made = { name: string; createdMs: number; written: number };
/** Every third secret a minute later; the last few a minute before the first, all at one instant. */
const made: Made[] = Array.from({ length: COUNT }, (_, written) => ({
  name: `chunk-${String((written * 7919) % COUNT).padStart(4, '0')}`,
  createdMs: written >= COUNT - LATE_BUT_EARLIER ? START.getTime() - 60_000 : START.getTime() + Math.floor(written / 3) * 60_000,
  written,
}));

/** The secrets of `made`, created in the order written, each at its own time. */
async function createAll(sm: SecretsManagerClient, clock: ManualClock): Promise<void> {
  for (const { name, createdMs } of made) {
    clock.advanceMs(createdMs - clock.now().getTime());
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v' }));
  }
}

/**
 * The reference: every match sorted by the order's key (never accessed: all tie; last changed: when created), ties
 * by created date and then the order written for created-date, by the order written for the other dates.
 */
function expected(matches: (name: string) => boolean, sortBy: string, descending: boolean): string[] {
  const key = (secret: Made): number | string => (sortBy === 'name' ? secret.name : sortBy === 'last-accessed-date' ? 0 : secret.createdMs);
  const tie = sortBy === 'created-date' ? (a: Made, b: Made) => a.createdMs - b.createdMs || a.written - b.written : (a: Made, b: Made) => a.written - b.written;
  const sorted = made.filter((secret) => matches(secret.name)).sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : tie(a, b);
  });
  return (descending ? sorted.reverse() : sorted).map((secret) => secret.name);
}

async function walk(sm: SecretsManagerClient, Filters: Filter[] | undefined, SortBy: string, SortOrder: 'asc' | 'desc', MaxResults: number): Promise<string[]> {
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sm.send(new ListSecretsCommand({ Filters, SortBy: SortBy as 'name', SortOrder, MaxResults, NextToken }));
    assert.ok(page.SecretList!.length <= MaxResults);
    names.push(...page.SecretList!.map((secret) => secret.Name!));
    NextToken = page.NextToken;
  } while (NextToken);
  return names;
}

const BACKENDS: Array<{ backend: string; database: () => Promise<{ url: string; drop(): Promise<void> } | undefined> }> = [
  { backend: 'SQLite', database: async () => undefined },
  { backend: 'PostgreSQL', database: () => createTestDatabase() },
];

for (const { backend, database } of BACKENDS) describe(`ListSecrets with filters over many chunks (${backend})`, () => {
  let server: TestServer;
  let sm: SecretsManagerClient;
  let dropDatabase: (() => Promise<void>) | undefined;
  before(async () => {
    const clock = new ManualClock(START);
    const db = await database();
    dropDatabase = db?.drop;
    server = await startTestServer({ clock, ...(db ? { postgres: { url: db.url, poolSize: 2 } } : {}) });
    sm = secretsClient(server);
    await createAll(sm, clock);
  });
  after(async () => {
    await server.cleanup();
    await dropDatabase?.();
  });

  const filters: Array<{ label: string; Filters: Filter[]; matches: (name: string) => boolean }> = [
    { label: 'every secret', Filters: [{ Key: 'name', Values: ['chunk-'] }], matches: () => true },
    { label: 'some', Filters: [{ Key: 'name', Values: ['chunk-1', 'chunk-05', '!chunk-10'] }], matches: (n) => (n.startsWith('chunk-1') || n.startsWith('chunk-05')) && !n.startsWith('chunk-10') },
  ];
  for (const { label, Filters, matches } of filters) {
    for (const SortBy of ['created-date', 'last-changed-date', 'last-accessed-date', 'name']) {
      for (const SortOrder of ['asc', 'desc'] as const) {
        it(`${label}, ${SortBy} ${SortOrder}: pages of 100 walk the sorted matches, ties as without filters`, async () => {
          assert.deepEqual(await walk(sm, Filters, SortBy, SortOrder, 100), expected(matches, SortBy, SortOrder === 'desc'));
        });
      }
    }
  }

  for (const SortBy of ['created-date', 'last-changed-date', 'last-accessed-date', 'name']) {
    it(`${SortBy}: a filter every secret matches lists them in the order ListSecrets without filters does`, async () => {
      for (const SortOrder of ['asc', 'desc'] as const) {
        assert.deepEqual(await walk(sm, [{ Key: 'name', Values: ['chunk-'] }], SortBy, SortOrder, 100), await walk(sm, undefined, SortBy, SortOrder, 100));
      }
    });
  }

  it('answers a page deep into the matches, and no NextToken after the last', async () => {
    const offset = (n: number) => Buffer.from(JSON.stringify({ offset: n })).toString('base64url');
    const Filters: Filter[] = [{ Key: 'name', Values: ['chunk-'] }];
    for (const [SortBy, SortOrder] of [['last-accessed-date', 'asc'], ['created-date', 'desc'], ['created-date', 'asc']] as const) {
      const page = await sm.send(new ListSecretsCommand({ Filters, SortBy, SortOrder, MaxResults: 4, NextToken: offset(COUNT - 6) }));
      assert.deepEqual(page.SecretList!.map((secret) => secret.Name), expected(() => true, SortBy, SortOrder === 'desc').slice(COUNT - 6, COUNT - 2));
      assert.ok(page.NextToken);
      const last = await sm.send(new ListSecretsCommand({ Filters, SortBy, SortOrder, MaxResults: 4, NextToken: page.NextToken }));
      assert.equal(last.SecretList!.length, 2);
      assert.equal(last.NextToken, undefined);
    }
  });

  // Last: it reads values, which records their secrets' last-accessed date.
  it('BatchGetSecretValue with filters walks the live matches in creation order, 20 a page', async () => {
    const { Filters, matches } = filters[1]!;
    const batchWalk = async () => {
      const names: string[] = [];
      let pages = 0;
      let NextToken: string | undefined;
      do {
        pages += 1;
        const page = await sm.send(new BatchGetSecretValueCommand({ Filters, MaxResults: 20, NextToken }));
        assert.deepEqual(page.Errors, []);
        assert.ok(page.SecretValues!.length <= 20);
        assert.ok(page.SecretValues!.every((value) => value.SecretString === 'v'));
        names.push(...page.SecretValues!.map((value) => value.Name!));
        NextToken = page.NextToken;
      } while (NextToken);
      return { names, pages };
    };
    // 100 matches: five full pages, and no NextToken on the fifth.
    assert.deepEqual(await batchWalk(), { names: expected(matches, 'created-date', false), pages: 5 });
    // A secret planned for deletion is not read.
    const deleted = expected(matches, 'created-date', false)[7]!;
    await sm.send(new DeleteSecretCommand({ SecretId: deleted, RecoveryWindowInDays: 7 }));
    assert.deepEqual(await batchWalk(), { names: expected((name) => matches(name) && name !== deleted, 'created-date', false), pages: 5 });
  });
});
