import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, ListSecretsCommand, type Filter, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ManualClock } from '../../helpers/clock.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * A filtered ListSecrets by creation date or name reads the account in chunks (of 250) in that order and keeps only
 * its page; by the other dates it reads the whole account. Either way its answer must be what sorting every match
 * and slicing at the token's offset gives: the order asked, ties in creation order (created date, then the order
 * the secrets were written in). More secrets than one chunk of 1,000 even, three created at each instant (ties),
 * and the last five created with the clock set back, so that creation order and the order rows were written in
 * differ.
 */
let server: TestServer;
let sm: SecretsManagerClient;
const START = new Date('2026-04-01T08:00:00Z');
const clock = new ManualClock(START);
const COUNT = 1_010;
const LATE_BUT_EARLIER = 5;

type Made = { name: string; createdMs: number; written: number };
const made: Made[] = [];

before(async () => {
  server = await startTestServer({ clock });
  sm = secretsClient(server);
  for (let written = 0; written < COUNT; written++) {
    const name = `chunk-${String((written * 7919) % COUNT).padStart(4, '0')}`;
    const late = written >= COUNT - LATE_BUT_EARLIER;
    // Every third secret a minute later; the last few a minute before the first, all at one instant.
    const createdMs = late ? START.getTime() - 60_000 : START.getTime() + Math.floor(written / 3) * 60_000;
    clock.advanceMs(createdMs - clock.now().getTime());
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v' }));
    made.push({ name, createdMs, written });
  }
});
after(async () => server.cleanup());

/** The reference: every match sorted by the order's key, ties by created date and then by the order written. */
function expected(matches: (name: string) => boolean, sortBy: string, descending: boolean): string[] {
  const key = (secret: Made): number | string => (sortBy === 'name' ? secret.name : sortBy === 'last-accessed-date' ? 0 : secret.createdMs);
  const creation = (a: Made, b: Made) => a.createdMs - b.createdMs || a.written - b.written;
  const sorted = made.filter((secret) => matches(secret.name)).sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : creation(a, b);
  });
  return (descending ? sorted.reverse() : sorted).map((secret) => secret.name);
}

async function walk(Filters: Filter[], SortBy: string, SortOrder: 'asc' | 'desc', MaxResults: number): Promise<string[]> {
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

describe('ListSecrets with filters over many chunks', () => {
  const filters: Array<{ label: string; Filters: Filter[]; matches: (name: string) => boolean }> = [
    { label: 'every secret', Filters: [{ Key: 'name', Values: ['chunk-'] }], matches: () => true },
    { label: 'some', Filters: [{ Key: 'name', Values: ['chunk-1', 'chunk-05', '!chunk-10'] }], matches: (n) => (n.startsWith('chunk-1') || n.startsWith('chunk-05')) && !n.startsWith('chunk-10') },
  ];
  for (const { label, Filters, matches } of filters) {
    for (const SortBy of ['created-date', 'last-changed-date', 'last-accessed-date', 'name']) {
      for (const SortOrder of ['asc', 'desc'] as const) {
        it(`${label}, ${SortBy} ${SortOrder}: pages of 100 walk the sorted matches, ties in creation order`, async () => {
          assert.deepEqual(await walk(Filters, SortBy, SortOrder, 100), expected(matches, SortBy, SortOrder === 'desc'));
        });
      }
    }
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
});
