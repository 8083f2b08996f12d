import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ArchiveWriter, openArchive, RECORDS_PER_CHUNK, type SecretRecord } from '../../../src/cli/secret-archive.js';

/** The archive format alone: chunks reordered, spliced from another archive or cut at a chunk boundary are refused. */
describe('secret archive', () => {
  const key = randomBytes(32);
  const records = (n: number, tag: string): SecretRecord[] =>
    Array.from({ length: n }, (_, i) => ({ name: `${tag}/${i}`, tags: [], versions: [{ versionId: `v${i}`, stages: ['AWSCURRENT'], secretString: `value ${i}` }] }));

  /** An archive of `n` records as [header, chunk, chunk, …]. */
  function pieces(n: number, tag: string, withKey = key): Buffer[] {
    const writer = new ArchiveWriter(withKey, { kdf: { name: 'scrypt', N: 16, r: 1, p: 1, salt: 'AAAA' }, source: {}, createdAt: '2026-01-01T00:00:00Z' });
    const all = records(n, tag);
    const out = [writer.begin()];
    for (let start = 0; start < all.length; start += RECORDS_PER_CHUNK) out.push(writer.chunk(all.slice(start, start + RECORDS_PER_CHUNK), start + RECORDS_PER_CHUNK >= all.length));
    return out;
  }

  it('opens an intact archive with every record in order', () => {
    const opened = openArchive(Buffer.concat(pieces(RECORDS_PER_CHUNK * 2 + 1, 'a')), key);
    assert.equal(opened.records.length, RECORDS_PER_CHUNK * 2 + 1);
    assert.equal(opened.records[RECORDS_PER_CHUNK]!.name, `a/${RECORDS_PER_CHUNK}`);
  });

  it('refuses reordered chunks, a chunk spliced from another archive, a cut at a chunk boundary, and appended data', () => {
    const [header, c0, c1, c2] = pieces(RECORDS_PER_CHUNK * 2 + 1, 'a');
    const other = pieces(RECORDS_PER_CHUNK * 2 + 1, 'b');
    assert.throws(() => openArchive(Buffer.concat([header!, c1!, c0!, c2!]), key), /chunk 0 .*failed authentication/);
    assert.throws(() => openArchive(Buffer.concat([header!, c0!, other[2]!, c2!]), key), /chunk 1 .*failed authentication/);
    assert.throws(() => openArchive(Buffer.concat([header!, c0!, c1!]), key), /chunk 1 .*failed authentication/);
    assert.throws(() => openArchive(Buffer.concat([header!, c0!, c1!, c2!, c2!]), key), /chunk 2 .*failed authentication/);
    assert.throws(() => openArchive(Buffer.concat([header!]), key), /truncated/);
    assert.throws(() => openArchive(Buffer.concat([header!, c0!, c1!, c2!]), randomBytes(32)), /wrong passphrase/);
  });
});
